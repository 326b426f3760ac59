"""An MLP in nn.Sequential, CrossEntropyLoss, and a hand-written SGD update."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
loss_fn = nn.CrossEntropyLoss()
X = torch.randn(6, 4)
target = torch.tensor([0, 1, 2, 1, 0, 2])
for step in range(4):
    model.zero_grad()
    logits = model(X)
    loss = loss_fn(logits, target)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    print(f"step {step}: loss {loss.item():.4f}")
print(logits.argmax(dim=1).tolist())
print([tuple(p.shape) for p in model.parameters()])
