"""backward of a non-scalar output needs a vector: it computes v^T J."""

import torch

torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 100:
    y = y * 2
print(y.shape)
v = torch.tensor([0.1, 1.0, 0.0001])
y.backward(v)
print(x.grad)
