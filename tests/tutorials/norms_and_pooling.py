"""Convolutions with pooling and normalisation layers: BatchNorm2d, GroupNorm, LayerNorm."""

import torch
import torch.nn as nn

torch.manual_seed(0)
conv = nn.Conv2d(2, 4, 3, padding=1)
bn = nn.BatchNorm2d(4)
gn = nn.GroupNorm(2, 4)
pool = nn.AvgPool2d(2)
ln = nn.LayerNorm(4)
x = torch.randn(2, 2, 4, 4)
h = pool(gn(torch.relu(bn(conv(x)))))
feats = ln(h.mean(dim=(2, 3)))
loss = feats.pow(3).sum()
loss.backward()
print(h.shape, feats.shape)
print(f"{loss.item():.4f}")
print(gn.weight.grad)
