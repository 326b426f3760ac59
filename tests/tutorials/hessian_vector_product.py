"""A Hessian-vector product without the Hessian: differentiate (grad · v)."""

import torch

torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
A = torch.randn(3, 3)
f = (x @ A @ x) + x.pow(3).sum()
(g,) = torch.autograd.grad(f, x, create_graph=True)
v = torch.tensor([1.0, 0.0, -1.0])
(hv,) = torch.autograd.grad(g @ v, x)
expected = (A + A.T) @ v + 6 * x.detach() * v
print(hv)
print(torch.allclose(hv, expected))
