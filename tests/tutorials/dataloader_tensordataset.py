"""Mini-batches from a DataLoader over a TensorDataset, one optimizer step per batch."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(12, 2)
y = X @ torch.tensor([[1.0], [-1.0]])
loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
model = nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(2):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch}: mean loss {total / len(X):.4f}")
print(len(loader), len(loader.dataset))
