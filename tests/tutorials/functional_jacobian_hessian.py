"""torch.autograd.functional: the Jacobian of a vector function, the Hessian of a scalar one."""

import torch
from torch.autograd.functional import hessian, jacobian


def f(x):
    return torch.stack([x[0] * x[1], x[1].sin()])


def energy(x):
    return (x**2).sum() + x.prod()


torch.manual_seed(0)
point = torch.tensor([1.0, 2.0])
J = jacobian(f, point)
H = hessian(energy, point)
print(J)
print(H)

# The gradient of the same energy by a backward pass agrees with the Hessian's first use.
point.requires_grad_()
energy(point).backward()
print(point.grad)
