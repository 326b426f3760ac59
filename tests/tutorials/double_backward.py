"""Second derivatives with autograd.grad twice: d²/dx² of x³ is 6x."""

import torch

torch.manual_seed(0)
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**3).sum()
(dy,) = torch.autograd.grad(y, x, create_graph=True)
print(dy)
(d2y,) = torch.autograd.grad(dy.sum(), x)
print(d2y)
