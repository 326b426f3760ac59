"""Logistic regression by hand: sigmoid, binary cross-entropy, gradient steps."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)
X = torch.randn(12, 2)
labels = (X[:, 0] + X[:, 1] > 0).float()
w = torch.randn(2, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(8):
    p = torch.sigmoid(X @ w + b)
    loss = F.binary_cross_entropy(p, labels)
    loss.backward()
    with torch.no_grad():
        w -= 0.5 * w.grad
        b -= 0.5 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    print(f"step {step}: loss {loss.item():.4f}")
accuracy = ((p > 0.5).float() == labels).float().mean()
print(f"accuracy {accuracy.item():.2f}")
