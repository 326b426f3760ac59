"""Forward and full backward hooks on a module, written as script functions."""

import torch
import torch.nn as nn

seen = []


def forward_hook(module, inputs, output):
    seen.append(("forward", tuple(output.shape)))


def backward_hook(module, grad_input, grad_output):
    seen.append(("backward", tuple(grad_output[0].shape)))


torch.manual_seed(0)
layer = nn.Linear(3, 2)
layer.register_forward_hook(forward_hook)
layer.register_full_backward_hook(backward_hook)
x = torch.randn(4, 3, requires_grad=True)
loss = layer(x).pow(2).sum()
loss.backward()
print(seen)
print(f"{x.grad.sum().item():.4f}")
