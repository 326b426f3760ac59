"""A hook that returns a new gradient: scaling what flows back through one branch."""

import torch


def halve(grad):
    return grad * 0.5


torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
a = x.exp()
b = x.sin()
handle = a.register_hook(halve)
loss = (a + b).sum()
loss.backward()
print(x.grad)
handle.remove()
x.grad = None
loss = (x.exp() + x.sin()).sum()
loss.backward()
print(x.grad)
