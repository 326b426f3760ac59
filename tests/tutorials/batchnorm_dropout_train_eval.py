"""BatchNorm and Dropout behave differently in train and eval mode."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1)
)
x = torch.randn(6, 3)
train_loss = model(x).pow(2).mean()
train_loss.backward()
print(f"train {train_loss.item():.4f}")
print(model[1].running_mean)
model.eval()
with torch.no_grad():
    eval_out = model(x)
print(eval_out.shape, model.training)
