"""A CNN written as a class, with F.max_pool2d in forward, trained with SGD and momentum."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 2 * 2, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc(x)


torch.manual_seed(0)
net = ConvNet()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
images = torch.randn(3, 1, 6, 6)
labels = torch.tensor([0, 2, 1])
for step in range(3):
    optimizer.zero_grad()
    loss = F.cross_entropy(net(images), labels)
    loss.backward()
    optimizer.step()
    print(f"step {step}: {loss.item():.4f}")
