"""Logistic regression as a module of its own, trained with BCEWithLogitsLoss and SGD."""

import torch
import torch.nn as nn


class LogisticRegression(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.linear = nn.Linear(features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)


torch.manual_seed(0)
X = torch.randn(10, 3)
labels = (X.sum(dim=1) > 0).float()
model = LogisticRegression(3)
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in range(5):
    optimizer.zero_grad()
    loss = loss_fn(model(X), labels)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch}: {loss.item():.4f}")
