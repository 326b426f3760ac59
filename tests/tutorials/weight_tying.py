"""A tiny language model whose output layer shares the embedding matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class TiedLM(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.dec = nn.Linear(dim, vocab, bias=False)
        self.dec.weight = self.emb.weight

    def forward(self, ids):
        return self.dec(torch.tanh(self.emb(ids)))


torch.manual_seed(0)
model = TiedLM(6, 3)
ids = torch.tensor([1, 4, 2])
targets = torch.tensor([4, 2, 5])
loss = F.cross_entropy(model(ids), targets)
loss.backward()
print(model.dec.weight is model.emb.weight)
print(len(list(model.parameters())))
print(f"loss {loss.item():.4f}")
