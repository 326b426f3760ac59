"""nn.RNN over a short sequence; the last hidden state feeds a linear read-out."""

import torch
import torch.nn as nn

torch.manual_seed(0)
rnn = nn.RNN(input_size=3, hidden_size=4, batch_first=True)
head = nn.Linear(4, 1)
seq = torch.randn(2, 5, 3)
output, h_n = rnn(seq)
print(output.shape, h_n.shape)
pred = head(h_n[-1])
loss = (pred**2).mean()
loss.backward()
print(f"loss {loss.item():.4f}")
print(rnn.weight_hh_l0.grad.shape)
