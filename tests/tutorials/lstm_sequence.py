"""nn.LSTM over a short sequence, a sequence-to-one regression."""

import torch
import torch.nn as nn

torch.manual_seed(0)
lstm = nn.LSTM(input_size=2, hidden_size=3, num_layers=1)
readout = nn.Linear(3, 1)
seq = torch.randn(4, 1, 2)  # (time, batch, features)
out, (h, c) = lstm(seq)
y = readout(out[-1])
loss = (y - 1.0).pow(2).sum()
loss.backward()
print(out.shape, h.shape, c.shape)
print(f"loss {loss.item():.4f}")
