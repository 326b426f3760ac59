"""einsum for batched products, gather to pick scores, scatter_add to sum by group."""

import torch

torch.manual_seed(0)
a = torch.randn(2, 3, 4, requires_grad=True)
b = torch.randn(2, 4, 5, requires_grad=True)
c = torch.einsum("bij,bjk->bik", a, b)
print(c.shape)
scores = c.sum(dim=1)
picked = scores.gather(1, torch.tensor([[0], [3]]))
groups = torch.tensor([0, 1, 0, 1, 2])
totals = torch.zeros(2, 3).scatter_add(1, groups.expand(2, 5), scores)
loss = picked.sum() + totals.pow(2).sum()
loss.backward()
print(f"{loss.item():.4f}")
print(a.grad.shape, b.grad.shape)
