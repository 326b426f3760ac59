"""Autograd Explorer: see PyTorch's autograd graph and step through its backward pass."""

__version__ = "0.1.0"
