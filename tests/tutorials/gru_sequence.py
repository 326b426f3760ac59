"""nn.GRU over a batch of short sequences, classification from the last hidden state."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
gru = nn.GRU(input_size=3, hidden_size=4, batch_first=True)
classifier = nn.Linear(4, 2)
x = torch.randn(3, 4, 3)
_, h = gru(x)
logits = classifier(h.squeeze(0))
loss = F.cross_entropy(logits, torch.tensor([0, 1, 1]))
loss.backward()
print(f"loss {loss.item():.4f}")
print([name for name, _ in gru.named_parameters()])
