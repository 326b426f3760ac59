"""A scalar function and its derivative, checked against the formula 3x² + 2."""

import torch

torch.manual_seed(0)
x = torch.tensor(2.0, requires_grad=True)
y = x**3 + 2 * x
y.backward()
print(f"dy/dx = {x.grad.item():.3f}, formula gives {3 * 2.0**2 + 2:.3f}")
z = torch.sin(x) * torch.exp(-x)
x.grad = None
z.backward()
print(f"d/dx sin(x)exp(-x) = {x.grad.item():.5f}")
