"""makemore's MLP: an embedding table, a tanh layer, cross-entropy, a parameters list."""

import torch
import torch.nn.functional as F

torch.manual_seed(42)
block_size = 3
X = torch.randint(0, 10, (8, block_size))
Y = torch.randint(0, 10, (8,))
C = torch.randn((10, 2))
W1 = torch.randn((6, 12))
b1 = torch.randn(12)
W2 = torch.randn((12, 10))
b2 = torch.randn(10)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True
for i in range(4):
    emb = C[X]
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y)
    for p in parameters:
        p.grad = None
    loss.backward()
    for p in parameters:
        p.data += -0.1 * p.grad
    print(f"{i}: {loss.item():.4f}")
