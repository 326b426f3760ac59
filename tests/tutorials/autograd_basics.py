"""The first autograd example: y = 2x² + 3, so dy/dx = 4x = 16 where x = 4."""

import torch

torch.manual_seed(0)
x = torch.full((2, 3), 4.0, requires_grad=True)
y = 2 * x**2 + 3
print(y)
print(y.grad_fn.name())
print(x.requires_grad, y.requires_grad, x.is_leaf, y.is_leaf)
y.backward(torch.ones_like(x))
print(x.grad)
