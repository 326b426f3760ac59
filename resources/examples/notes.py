# From the gradient-descent notes: y = 2x² + 3, and the chain rule gives dy/dx = 4x = 16 at x = 4.
x = torch.full((2, 3), 4.0, requires_grad=True)
x
y = 2 * x**2 + 3
y
y.backward(torch.ones_like(x))
x.grad
