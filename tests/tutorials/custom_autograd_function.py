"""A custom autograd.Function: forward and backward written by hand, checked by gradcheck."""

import torch


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = x.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
y = Exp.apply(x).sum()
y.backward()
print(torch.allclose(x.grad, x.exp()))
