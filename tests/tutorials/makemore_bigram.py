"""makemore's bigram model as a one-layer network: one-hot inputs, softmax, NLL."""

import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab = len(stoi)
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print(f"vocab {vocab}, examples {num}")

g = torch.Generator().manual_seed(2147483647)
W = torch.randn((vocab, vocab), generator=g, requires_grad=True)
for _ in range(5):
    xenc = F.one_hot(xs, num_classes=vocab).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
    print(f"{loss.item():.4f}")
    W.grad = None
    loss.backward()
    W.data += -10 * W.grad
