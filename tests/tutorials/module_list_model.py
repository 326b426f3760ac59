"""A deep MLP as a ModuleList of layers built with a comprehension."""

import torch
import torch.nn as nn


class DeepMLP(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.out(x)


torch.manual_seed(0)
model = DeepMLP(4, 3)
x = torch.randn(5, 4)
loss = model(x).pow(2).mean()
loss.backward()
print(len(model.layers))
print([f"{layer.weight.grad.norm().item():.4f}" for layer in model.layers])
