"""Only leaves keep .grad, unless an intermediate asks with retain_grad()."""

import torch

torch.manual_seed(0)
x = torch.tensor([1.0, 2.0, -0.5], requires_grad=True)
h = x * 3
h.retain_grad()
y = (h**2).sum()
y.backward()
print("h.grad:", h.grad)
print("x.grad:", x.grad)
