"""Linear regression with nn.Linear, nn.MSELoss and torch.optim.SGD."""

import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(16, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 1.0
model = nn.Linear(3, 1)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    if epoch % 3 == 0:
        print(f"epoch {epoch}: loss {loss.item():.4f}")
print(model.weight.shape, model.bias.shape)
