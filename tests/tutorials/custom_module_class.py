"""A network as a class: __init__ makes the layers, forward uses them, a helper counts."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        self.fc1 = nn.Linear(inputs, hidden)
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, x):
        return self.fc2(self.hidden(x))

    def hidden(self, x):
        return F.relu(self.fc1(x))

    def count_parameters(self):
        return sum(p.numel() for p in self.parameters())


torch.manual_seed(0)
net = Net(3, 5, 2)
x = torch.randn(4, 3)
out = net(x)
loss = F.cross_entropy(out, torch.tensor([0, 1, 1, 0]))
loss.backward()
print(net.count_parameters())
print(f"loss {loss.item():.4f}")
print(net.fc1.weight.grad.shape)
