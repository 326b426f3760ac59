"""A small CNN: Conv2d, ReLU, MaxPool2d, Flatten, Linear; one gradient step by hand."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 2, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(2 * 3 * 3, 3),
)
images = torch.randn(2, 1, 6, 6)
labels = torch.tensor([1, 2])
logits = net(images)
print(logits.shape)
loss = F.cross_entropy(logits, labels)
loss.backward()
print(f"loss {loss.item():.4f}")
print(net[0].weight.grad.shape, f"{net[0].weight.grad.abs().sum().item():.4f}")
with torch.no_grad():
    for p in net.parameters():
        p -= 0.01 * p.grad
