"""torch.autograd.backward over two losses at once, each with its own weight."""

import torch

torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
l1 = (x**2).sum()
l2 = x.sin().sum()
torch.autograd.backward([l1, l2], grad_tensors=[torch.tensor(1.0), torch.tensor(0.5)])
print(x.grad)
