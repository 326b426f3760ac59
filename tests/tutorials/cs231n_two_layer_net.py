"""CS231n's two-layer net: affine, ReLU, affine, softmax loss with L2 regularisation."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)
N, D, H, C = 5, 4, 6, 3
X = torch.randn(N, D)
y = torch.tensor([0, 1, 2, 2, 1])
params = {
    "W1": (1e-1 * torch.randn(D, H)).requires_grad_(),
    "b1": torch.zeros(H, requires_grad=True),
    "W2": (1e-1 * torch.randn(H, C)).requires_grad_(),
    "b2": torch.zeros(C, requires_grad=True),
}
reg = 0.05
hidden = F.relu(X @ params["W1"] + params["b1"])
scores = hidden @ params["W2"] + params["b2"]
data_loss = F.cross_entropy(scores, y)
reg_loss = 0.5 * reg * sum((params[k] ** 2).sum() for k in ("W1", "W2"))
loss = data_loss + reg_loss
loss.backward()
print(f"loss {loss.item():.6f}")
for name in sorted(params):
    print(
        f"{name}: {tuple(params[name].grad.shape)} max {params[name].grad.abs().max().item():.6f}"
    )
