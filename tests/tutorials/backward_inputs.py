"""backward(inputs=...) accumulates into the named leaves only."""

import torch

torch.manual_seed(0)
w = torch.randn(3, requires_grad=True)
b = torch.randn(1, requires_grad=True)
x = torch.randn(4, 3)
loss = (x @ w + b).pow(2).mean()
loss.backward(inputs=[w])
print(w.grad)
print(b.grad)
