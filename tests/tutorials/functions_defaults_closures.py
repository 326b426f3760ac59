"""Script functions: defaults, keyword arguments, a closure and a lambda."""

import torch


def mse(pred, target, reduction="mean"):
    diff = (pred - target) ** 2
    return diff.mean() if reduction == "mean" else diff.sum()


def make_affine(scale, shift=0.0):
    def affine(x):
        return x * scale + shift

    return affine


torch.manual_seed(0)
w = torch.randn(3, requires_grad=True)
target = torch.ones(3)
f = make_affine(2.0, shift=1.0)
square = lambda t: t * t  # noqa: E731
loss = mse(f(w), target) + mse(square(w), target, reduction="sum")
loss.backward()
print(f"loss {loss.item():.4f}")
print(w.grad)
