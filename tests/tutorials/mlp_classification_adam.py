"""MLP classification with CrossEntropyLoss and Adam, and the accuracy at the end."""

import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(20, 2)
y = (X[:, 0] * X[:, 1] > 0).long()
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()
for _ in range(10):
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
with torch.no_grad():
    accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
print(f"loss {loss.item():.4f}, accuracy {accuracy:.2f}")
