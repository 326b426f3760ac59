"""A bag-of-words classifier: nn.Embedding averaged over a sentence, then a linear layer."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
vocab = {w: i for i, w in enumerate("the cat sat on a mat dog ran".split())}
sentences = [["the", "cat", "sat"], ["a", "dog", "ran"]]
ids = torch.tensor([[vocab[w] for w in s] for s in sentences])
labels = torch.tensor([0, 1])
emb = nn.Embedding(len(vocab), 4)
fc = nn.Linear(4, 2)
for step in range(3):
    emb.zero_grad()
    fc.zero_grad()
    logits = fc(emb(ids).mean(dim=1))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    with torch.no_grad():
        for p in [*emb.parameters(), *fc.parameters()]:
            p -= 0.5 * p.grad
    print(f"step {step}: {loss.item():.4f}")
print(emb.weight.grad[vocab["mat"]])
