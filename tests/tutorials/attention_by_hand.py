"""Scaled dot-product attention written out: scores, softmax, weighted values."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)
d = 4
x = torch.randn(3, d)
to_q = nn.Linear(d, d, bias=False)
to_k = nn.Linear(d, d, bias=False)
to_v = nn.Linear(d, d, bias=False)
q = to_q(x)
k = to_k(x)
v = to_v(x)
scores = q @ k.transpose(-2, -1) / math.sqrt(d)
weights = torch.softmax(scores, dim=-1)
out = weights @ v
print(weights.sum(dim=-1))
loss = out.pow(2).sum()
loss.backward()
print(f"loss {loss.item():.4f}")
print(to_q.weight.grad.shape)
