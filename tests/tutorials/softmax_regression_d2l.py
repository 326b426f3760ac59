"""Softmax regression from scratch as in Dive into Deep Learning."""

import torch


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[list(range(len(y_hat))), y])


torch.manual_seed(0)
num_inputs, num_outputs = 4, 3
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)
X = torch.randn(5, num_inputs)
y = torch.tensor([0, 2, 1, 1, 0])
for epoch in range(3):
    y_hat = softmax(X @ W + b)
    loss = cross_entropy(y_hat, y).mean()
    loss.backward()
    with torch.no_grad():
        for param in [W, b]:
            param -= 0.5 * param.grad
            param.grad.zero_()
    print(f"epoch {epoch + 1}, loss {loss.item():.5f}")
