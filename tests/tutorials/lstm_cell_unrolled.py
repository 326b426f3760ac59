"""An LSTMCell unrolled by hand over a short sequence."""

import torch
import torch.nn as nn

torch.manual_seed(0)
cell = nn.LSTMCell(3, 4)
xs = torch.randn(4, 2, 3)
h = torch.zeros(2, 4)
c = torch.zeros(2, 4)
outputs = []
for t in range(xs.shape[0]):
    h, c = cell(xs[t], (h, c))
    outputs.append(h)
stacked = torch.stack(outputs)
loss = stacked.pow(2).mean()
loss.backward()
print(stacked.shape)
print(f"loss {loss.item():.5f}")
print(f"{cell.weight_ih.grad.norm().item():.5f}")
