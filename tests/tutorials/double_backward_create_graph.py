"""Second derivative through backward(create_graph=True): x.grad keeps its own graph."""

import torch

torch.manual_seed(0)
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**3).sum()
y.backward(create_graph=True)
g = x.grad
print(g.requires_grad)
x.grad = None
s = g.sum()
s.backward()
print(x.grad)
