"""Gradients add up across backward calls until they are zeroed."""

import torch

torch.manual_seed(0)
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x * x).sum()
y.backward(retain_graph=True)
print(x.grad)
y.backward(retain_graph=True)
print(x.grad)
x.grad.zero_()
y.backward()
print(x.grad)
