"""A TransformerEncoderLayer on a tiny batch, with a regression loss."""

import torch
import torch.nn as nn

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
src = torch.randn(3, 2, 8)
out = layer(src)
print(out.shape)
loss = out.pow(2).mean()
loss.backward()
print(f"loss {loss.item():.4f}")
grads = [p.grad.norm().item() for p in layer.parameters()]
print(f"{len(grads)} parameters, largest grad norm {max(grads):.4f}")
