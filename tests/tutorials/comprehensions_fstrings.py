"""Features built with list comprehensions, results printed with f-strings."""

import torch

torch.manual_seed(0)
xs = [0.5 * i for i in range(5)]
features = torch.tensor([[x, x**2, 1.0] for x in xs])
targets = torch.tensor([2 * x - 1 for x in xs])
w = torch.zeros(3, requires_grad=True)
for step in range(3):
    pred = features @ w
    loss = ((pred - targets) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.05 * w.grad
    w.grad = None
    print(f"step {step}: loss={loss.item():.4f}")
print(f"weights: {', '.join(f'{v:+.3f}' for v in w.tolist())}")
squares = {i: i * i for i in range(4)}
print(f"{squares} {sum(squares.values())=}")
