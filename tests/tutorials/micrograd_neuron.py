"""The neuron from micrograd: tanh(x1*w1 + x2*w2 + b), in double precision."""

import torch

x1 = torch.tensor([2.0]).double()
x2 = torch.tensor([0.0]).double()
w1 = torch.tensor([-3.0]).double()
w2 = torch.tensor([1.0]).double()
b = torch.tensor([6.8813735870195432]).double()
for t in (x1, x2, w1, w2, b):
    t.requires_grad = True
n = x1 * w1 + x2 * w2 + b
o = torch.tanh(n)
print(o.data.item())
o.backward()
print("---")
print("x2", x2.grad.item())
print("w2", w2.grad.item())
print("x1", x1.grad.item())
print("w1", w1.grad.item())
