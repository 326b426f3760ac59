"""nn.MultiheadAttention for self-attention over a short sequence."""

import torch
import torch.nn as nn

torch.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
x = torch.randn(2, 3, 8)
out, weights = mha(x, x, x)
print(out.shape, weights.shape)
loss = out.pow(2).mean()
loss.backward()
print(f"loss {loss.item():.4f}")
print(mha.in_proj_weight.grad.shape)
