"""A WGAN-GP style gradient penalty: autograd.grad with create_graph, then backward."""

import torch
import torch.nn as nn

torch.manual_seed(0)
critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
real = torch.randn(4, 2)
fake = torch.randn(4, 2)
alpha = torch.rand(4, 1)
mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
scores = critic(mixed)
(grads,) = torch.autograd.grad(
    outputs=scores, inputs=mixed, grad_outputs=torch.ones_like(scores), create_graph=True
)
penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
loss.backward()
print(f"penalty {penalty.item():.4f}, loss {loss.item():.4f}")
print(critic[0].weight.grad.shape)
