"""Turning tracking off: torch.no_grad(), detach(), and requires_grad_()."""

import torch

torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
with torch.no_grad():
    z = x * 2
print(z.requires_grad)
y = x * x
d = y.detach()
print(d.requires_grad, y.requires_grad)
u = x.detach().requires_grad_()
loss = (y * d).sum() + (u * 3).sum()
loss.backward()
print(x.grad)
print(u.grad)
