"""The autograd graph as plain data: capture, backward trace, tensor summaries."""
