"""Masked self-attention as in makemore: a lower-triangular mask before the softmax."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)
T, C = 4, 3
x = torch.randn(T, C, requires_grad=True)
tril = torch.tril(torch.ones(T, T))
wei = x @ x.T / C**0.5
wei = wei.masked_fill(tril == 0, float("-inf"))
wei = F.softmax(wei, dim=-1)
out = wei @ x
print(wei)
out.sum().backward()
print(x.grad)
