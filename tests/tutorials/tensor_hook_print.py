"""register_hook on an intermediate: print the gradient as it passes."""

import torch

torch.manual_seed(0)
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 2
h.register_hook(lambda grad: print("grad at h:", grad))
y = (h**2).sum()
y.backward()
print("grad at x:", x.grad)
