"""Faithfulness: each corpus script gives the same grads, graph and engine order as plain torch.

Every script is run twice: through the app (`run_script`) and as plain Python with `exec`
over the same three names the interpreter pre-binds. The plain run is observed only with
tools that do not share the app's mechanism: an iterative walk over `next_functions` for
the graph, and `torch.profiler` events for the order in which the engine ran the nodes.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.graph import Node, get_gradient_edge

from explorer.data.snapshot import Pass, Snapshot, TensorSummary
from explorer.runs.session import run_script

RTOL, ATOL = 1e-6, 1e-7

CORPUS: list[tuple[str, str]] = [
    (
        "notes_example_all_16",
        """
x = torch.full((2,3), 4., requires_grad=True)
y = 2*x**2+3
y.backward(torch.ones_like(x))
""",
    ),
    (
        "chain_rule_scalar",
        """
x = torch.tensor(1.5, requires_grad=True)
y = 2*x**2+3
y.backward()
""",
    ),
    (
        "reuse_x_times_x",
        """
x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
y = (x * x).sum()
y.backward()
""",
    ),
    (
        "reuse_x_plus_x_times_x",
        """
x = torch.tensor([0.5, 2.0, -1.0], requires_grad=True)
y = x + x * x
y.backward(gradient=torch.tensor([1.0, 0.5, 2.0]))
""",
    ),
    (
        "broadcast_vector_plus_matrix",
        """
w = torch.randn(3, 4, requires_grad=True)
b = torch.randn(4, requires_grad=True)
y = (w + b).pow(2).sum()
y.backward()
""",
    ),
    (
        "broadcast_scalar_tensor",
        """
s = torch.tensor(2.0, requires_grad=True)
x = torch.randn(2, 3, requires_grad=True)
y = (s * x + s).mean()
y.backward()
""",
    ),
    (
        "broadcast_keepdim_sum",
        """
x = torch.randn(3, 4, requires_grad=True)
e = x.exp()
p = e / e.sum(dim=1, keepdim=True)
loss = (p * torch.arange(4.)).sum()
loss.backward()
""",
    ),
    (
        "slicing_rows_and_columns",
        """
x = torch.randn(3, 4, requires_grad=True)
a = x[0]
b = x[:, 1:]
y = (a * 2).sum() + (b ** 2).sum()
y.backward()
""",
    ),
    (
        "boolean_mask_index",
        """
x = torch.randn(3, 4, requires_grad=True)
mask = x > 0
y = x[mask].sum() * 3 + x[1, 2]
y.backward()
""",
    ),
    (
        "detach_branch_gets_no_gradient",
        """
x = torch.randn(3, requires_grad=True)
w = torch.randn(3, requires_grad=True)
u = torch.randn(3, requires_grad=True)
d = (x * w).detach()
v = u.detach() * 2
y = (d * w + x + v).sum()
y.backward()
""",
    ),
    (
        "retain_grad_on_intermediate",
        """
x = torch.tensor([1.0, 2.0, -0.5], requires_grad=True)
h = x * 3
h.retain_grad()
y = (h ** 2).sum()
y.backward()
""",
    ),
    (
        "accumulate_retain_graph",
        """
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x * x).sum()
y.backward(retain_graph=True)
y.backward()
""",
    ),
    (
        "accumulate_two_forwards",
        """
x = torch.tensor([1.0, -3.0, 2.0], requires_grad=True)
y = (x * 2).sum()
y.backward()
y = (x ** 2).sum()
y.backward()
""",
    ),
    (
        "zero_grad_between_passes",
        """
x = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
y = (x.exp() * x).sum()
y.backward(retain_graph=True)
x.grad.zero_()
y.backward()
""",
    ),
    (
        "gradient_descent_loop_no_grad",
        """
w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
xs = torch.randn(8, 3)
t = xs @ torch.tensor([0.5, 1.0, -1.0])
lr = 0.1
for i in range(5):
    pred = xs @ w
    loss = ((pred - t) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
    w.grad.zero_()
""",
    ),
    (
        "gradient_descent_mlp_parameters",
        """
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
xs = torch.randn(6, 3)
ys = torch.randn(6, 1)
for step in range(3):
    model.zero_grad()
    loss = F.mse_loss(model(xs), ys)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.05 * p.grad
""",
    ),
    (
        "gradient_descent_data_update",
        """
w = torch.randn(4, requires_grad=True)
target = torch.tensor([1.0, 0.0, -1.0, 2.0])
for i in range(3):
    loss = ((w - target) ** 2).sum()
    loss.backward()
    w.data -= 0.25 * w.grad
    w.grad = None
last = (w * target).sum()
last.backward()
""",
    ),
    (
        "requires_grad_in_place",
        """
x = torch.randn(3)
x.requires_grad_()
y = (x.sin() * x.cos()).sum()
y.backward()
""",
    ),
    (
        "matmul_operator_and_functions",
        """
a = torch.randn(2, 3, requires_grad=True)
b = torch.randn(3, 4, requires_grad=True)
v = torch.randn(4, requires_grad=True)
m = a @ b
n = torch.matmul(m, v)
o = a.mm(b).t().matmul(n)
loss = n.sum() + o.sum()
loss.backward()
""",
    ),
    (
        "reductions_sum_mean_max_min",
        """
x = torch.randn(3, 4, requires_grad=True)
r = x.sum(dim=0).max() + x.mean(dim=1).min() + x.max() - x.min()
r2 = torch.max(x, dim=1).values.sum() + torch.min(x, 0).values.mean()
loss = r + r2
loss.backward()
""",
    ),
    (
        "softmax_and_log_softmax",
        """
x = torch.randn(2, 5, requires_grad=True)
p = torch.softmax(x, dim=1)
lp = F.log_softmax(x, dim=-1)
q = x.softmax(dim=0)
loss = -(p.detach() * lp).sum() + (p * p).sum() + q[0, 1]
loss.backward()
""",
    ),
    (
        "mse_loss_linear_fit",
        """
w = torch.randn(3, 1, requires_grad=True)
xs = torch.randn(5, 3)
ys = torch.randn(5, 1)
loss = F.mse_loss(xs @ w, ys)
loss.backward()
""",
    ),
    (
        "cross_entropy_logits",
        """
logits = torch.randn(4, 3, requires_grad=True)
target = torch.tensor([0, 2, 1, 2])
loss = F.cross_entropy(logits, target)
loss.backward()
""",
    ),
    (
        "binary_cross_entropy_on_sigmoid",
        """
z = torch.randn(6, requires_grad=True)
labels = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
p = torch.sigmoid(z)
loss = F.binary_cross_entropy(p, labels)
loss.backward()
""",
    ),
    (
        "nll_loss_and_loss_modules",
        """
logits = torch.randn(3, 4, requires_grad=True)
target = torch.tensor([3, 0, 1])
crit = nn.CrossEntropyLoss()
mse = nn.MSELoss()
loss = F.nll_loss(F.log_softmax(logits, dim=1), target) + crit(logits, target)
loss = loss + mse(logits.tanh(), torch.zeros(3, 4))
loss.backward()
""",
    ),
    (
        "torch_where_and_masked_fill",
        """
x = torch.randn(2, 4, requires_grad=True)
y = torch.where(x > 0, x * 2, x ** 2)
z = x.masked_fill(x < -0.5, 0.0)
loss = (y + z).sum()
loss.backward()
""",
    ),
    (
        "cat_and_stack",
        """
a = torch.randn(2, 3, requires_grad=True)
b = torch.randn(1, 3, requires_grad=True)
c = torch.cat([a, b], dim=0)
s = torch.stack([a[0], b[0], a[1] * 2])
loss = (c * torch.arange(9.).reshape(3, 3)).sum() + s.pow(2).sum()
loss.backward()
""",
    ),
    (
        "reshape_view_transpose_squeeze_expand",
        """
x = torch.randn(2, 3, requires_grad=True)
a = x.reshape(3, 2)
b = x.view(6)
c = x.transpose(0, 1)
d = x.t()
e = x.unsqueeze(0)
f = e.squeeze(0)
g = x[:, :1].expand(2, 4)
h = x.T
loss = (a * 1.5).sum() + (b * b).sum() + (c @ a.t()).sum() + d.sum()
loss = loss + f.sum() + g.sum() + h[0].sum()
loss.backward()
""",
    ),
    (
        "clamp_variants",
        """
x = torch.tensor([-2.0, -0.3, 0.1, 0.7, 3.0], requires_grad=True)
a = x.clamp(min=-0.5, max=0.5)
b = torch.clamp(x, min=0.0)
c = x.clamp(max=1.0)
loss = (a * 2 + b * b + c).sum()
loss.backward()
""",
    ),
    (
        "elementwise_functions",
        """
x = torch.tensor([-1.5, -0.2, 0.4, 2.0], requires_grad=True)
p = x.abs() + 1
y = torch.relu(x) + torch.tanh(x) + torch.sigmoid(x) + torch.exp(x) + p.log() + p.sqrt()
y2 = F.relu(x) * x.abs() + torch.abs(x)
loss = y.sum() + y2.sum()
loss.backward()
""",
    ),
    (
        "other_reductions",
        """
x = torch.randn(3, 4, requires_grad=True)
loss = x.std() + x.var(dim=0).sum() + x.norm() + torch.logsumexp(x, dim=1).sum()
loss = loss + x.cumsum(dim=1).sum() + (x.abs() + 0.5).prod()
loss.backward()
""",
    ),
    (
        "nn_linear",
        """
lin = nn.Linear(4, 2)
x = torch.randn(3, 4, requires_grad=True)
out = lin(x)
loss = out.pow(2).mean()
loss.backward()
""",
    ),
    (
        "nn_sequential_mlp",
        """
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
x = torch.randn(5, 4)
target = torch.tensor([0, 1, 2, 1, 0])
logits = model(x)
loss = F.cross_entropy(logits, target)
loss.backward()
""",
    ),
    (
        "nn_lstm_cell_unrolled",
        """
cell = nn.LSTMCell(3, 4)
xs = torch.randn(4, 2, 3)
h = torch.zeros(2, 4)
c = torch.zeros(2, 4)
for t in range(3):
    h, c = cell(xs[t], (h, c))
loss = h.pow(2).sum() + c.sum()
loss.backward()
""",
    ),
    (
        "nn_gru_cell_unrolled",
        """
cell = nn.GRUCell(3, 4)
xs = torch.randn(3, 2, 3, requires_grad=True)
h = torch.zeros(2, 4)
for t in range(3):
    h = cell(xs[t], h)
loss = h.sum()
loss.backward()
""",
    ),
    (
        "nn_conv2d_tiny_image",
        """
conv = nn.Conv2d(1, 2, kernel_size=3, padding=1)
img = torch.randn(1, 1, 5, 5, requires_grad=True)
out = conv(img)
loss = torch.relu(out).mean()
loss.backward()
""",
    ),
    (
        "nn_batchnorm1d",
        """
bn = nn.BatchNorm1d(3)
x = torch.randn(4, 3, requires_grad=True)
y = bn(x)
loss = (y * torch.arange(12.).reshape(4, 3)).sum()
loss.backward()
""",
    ),
    (
        "nn_layernorm",
        """
ln = nn.LayerNorm(5)
x = torch.randn(2, 5, requires_grad=True)
y = ln(x)
loss = (y ** 3).sum()
loss.backward()
""",
    ),
    (
        "nn_embedding",
        """
emb = nn.Embedding(10, 4)
ids = torch.tensor([[1, 2, 4], [4, 3, 9]])
v = emb(ids)
loss = v.sum(dim=1).pow(2).mean()
loss.backward()
""",
    ),
    (
        "nn_transformer_encoder_layer",
        """
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
src = torch.randn(3, 2, 8, requires_grad=True)
out = layer(src)
loss = out.pow(2).mean()
loss.backward()
""",
    ),
    (
        "for_loop_chain",
        """
x = torch.tensor([0.5, -0.3], requires_grad=True)
w = torch.tensor([1.5, 0.7], requires_grad=True)
h = x
for i in range(6):
    h = torch.tanh(h * w + 0.1)
loss = h.sum()
loss.backward()
""",
    ),
    (
        "create_graph_second_derivative",
        """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
y.backward(create_graph=True)
g = x.grad
x.grad = None
s = g.sum()
s.backward()
""",
    ),
    (
        "create_graph_accumulates_into_grad",
        """
x = torch.tensor(0.7, requires_grad=True)
y = torch.sin(x) * x
y.backward(create_graph=True)
dy = x.grad * 1
dy.backward()
""",
    ),
    (
        "in_place_on_non_leaf",
        """
x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
y = x * 2
y.add_(1)
z = (y * y).sum()
z.backward()
""",
    ),
    (
        "in_place_slice_assignment",
        """
x = torch.randn(4, requires_grad=True)
y = x.clone()
y[1:] = y[1:] * 3
y.mul_(2)
loss = (y * x).sum()
loss.backward()
""",
    ),
    (
        "backward_from_leaf",
        """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
x.backward(torch.tensor([0.5, 1.0, 2.0]))
""",
    ),
    (
        "two_roots_sharing_a_graph",
        """
x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
a = x * 2
b = a.sum()
c = (a * a).sum()
b.backward(retain_graph=True)
c.backward()
""",
    ),
    (
        "parameter_and_activations",
        """
w = nn.Parameter(torch.randn(4))
x = torch.randn(3, 4)
h = F.leaky_relu(x * w, negative_slope=0.1) + F.gelu(x - w) + F.silu(w) + F.elu(x)
loss = F.normalize(h, dim=1).sum() + F.pad(h, (1, 1)).pow(2).mean()
loss.backward()
""",
    ),
    (
        "no_grad_block_constant",
        """
x = torch.randn(3, requires_grad=True)
with torch.no_grad():
    scale = x.abs().max()
y = x * scale
z = x.detach().requires_grad_()
loss = (y * y).sum() + (z * 2).sum()
loss.backward()
""",
    ),
    (
        "indexing_variants",
        """
x = torch.randn(2, 3, 4, requires_grad=True)
a = x[..., 0]
b = x[:, None, 1]
c = x[[0, 1], 2]
d = x.permute(2, 0, 1).flatten(1)
e = torch.bmm(x, x.transpose(1, 2))
f = torch.dot(a[0], a[1]) + torch.outer(a[0], a[1]).sum()
g = torch.broadcast_to(x[0, 0], (3, 4)).expand_as(x[0]).view_as(x[1])
h = 2 ** x[0] + 1 / (x[1].abs() + 1) - (x[0].abs() + 1) ** 0.5
k = (x > 0).float() * x
loss = a.sum() + b.sum() + c.sum() + d.sum() + e.sum() + f + g.sum() + h.sum() + k.sum()
loss.backward()
""",
    ),
    (
        "conv1d_pooling_batchnorm2d_flatten",
        """
conv = nn.Conv1d(2, 3, kernel_size=2)
pool = nn.MaxPool2d(2)
avg = nn.AvgPool2d(2)
bn2 = nn.BatchNorm2d(2)
flat = nn.Flatten()
img = torch.randn(1, 2, 4, 4, requires_grad=True)
seq = torch.randn(2, 2, 5, requires_grad=True)
a = flat(pool(bn2(img))) + flat(avg(img))
b = conv(seq)
loss = a.pow(2).sum() + b.tanh().sum()
loss.backward()
""",
    ),
    (
        "rnn_cell_bilinear_activation_modules",
        """
rnn = nn.RNNCell(3, 2)
bil = nn.Bilinear(2, 3, 4)
sm = nn.Softmax(dim=1)
lsm = nn.LogSoftmax(dim=1)
act = nn.Sequential(nn.LeakyReLU(0.2), nn.GELU(), nn.SiLU(), nn.ELU(), nn.Sigmoid())
x = torch.randn(4, 3)
h = torch.zeros(4, 2)
for i in range(2):
    h = rnn(x, h)
z = bil(h, x)
loss = (sm(z) * lsm(act(z))).sum() + nn.Identity()(z).mean()
loss.backward()
""",
    ),
    (
        "loss_functions_and_modules",
        """
z = torch.randn(5, requires_grad=True)
p = torch.randn(5, requires_grad=True)
t = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
loss = nn.BCEWithLogitsLoss()(z, t) + nn.BCELoss()(torch.sigmoid(p), t) + nn.L1Loss()(z, p)
loss = loss + F.smooth_l1_loss(z, p * 3) + F.l1_loss(p, t)
loss = loss + F.binary_cross_entropy_with_logits(p, t)
logits = torch.randn(3, 4, requires_grad=True)
y = torch.tensor([1, 0, 3])
loss = loss + nn.NLLLoss()(F.log_softmax(logits, dim=1), y)
loss = loss + F.cross_entropy(logits, y, label_smoothing=0.1)
loss = loss + (F.one_hot(y, num_classes=4).float() * F.softmax(logits, dim=1)).sum()
loss.backward()
""",
    ),
    (
        "transformer_encoder_two_layers",
        """
layer = nn.TransformerEncoderLayer(
    d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True
)
enc = nn.TransformerEncoder(layer, num_layers=2)
src = torch.randn(2, 3, 8)
out = enc(src)
loss = out.mean()
loss.backward()
""",
    ),
    (
        "dropout_draws_the_same_random_numbers",
        """
x = torch.randn(4, 5, requires_grad=True)
drop = nn.Dropout(0.5)
y = drop(x) + F.dropout(x, p=0.3)
noise = torch.rand(4, 5)
loss = (y * noise).sum()
loss.backward()
""",
    ),
    (
        "dtype_conversions",
        """
x = torch.randn(3, dtype=torch.float64, requires_grad=True)
y = x.float() * 2
w = torch.ones(3, requires_grad=True)
z = y.double().sum() + (x.float() * w).sum() + w.type_as(x).pow(2).sum()
z.backward()
""",
    ),
    (
        "in_place_init_and_requires_grad_attribute",
        """
w = torch.zeros(3, 2)
w.normal_()
w.requires_grad = True
b = torch.zeros(2).uniform_(-1, 1).requires_grad_()
x = torch.linspace(0, 1, 6).reshape(2, 3)
e = torch.eye(2)
loss = ((x @ w + b) @ e).sum()
loss.backward()
print(w.grad)
""",
    ),
    (
        "eval_mode_batchnorm_dropout",
        """
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 1))
x = torch.randn(5, 3)
model(x)
model.eval()
loss = model(x).sum()
loss.backward()
""",
    ),
    (
        "augmented_assignment_on_non_leaf",
        """
x = torch.randn(3, requires_grad=True)
y = x * 2
y[0] += 5.0
y += 1
h = y
h *= x
loss = h.sum()
loss.backward()
""",
    ),
    (
        "named_grad_then_accumulate",
        """
x = torch.tensor([1.0, 2.0], requires_grad=True)
(x * 3).sum().backward()
g = x.grad
(x * x).sum().backward()
""",
    ),
    (
        "set_grad_enabled_nesting",
        """
x = torch.randn(3, requires_grad=True)
with torch.set_grad_enabled(False):
    c = x * 2
    with torch.enable_grad():
        d = x * 3
loss = (c * d).sum()
loss.backward()
""",
    ),
    # Python evaluates the operand of `not` once: a random draw in it happens once.
    (
        "not_of_a_tensor_runs_its_operand_once",
        """
x = torch.randn(3, requires_grad=True)
flip = not (torch.rand(1) > 2.0)
w = torch.randn(3)
loss = (x * w).sum()
loss.backward()
""",
    ),
    # `a[i] += v` evaluates a and i once, reads a[i], adds in place and stores at the same i.
    (
        "augmented_index_assignment_evaluates_the_index_once",
        """
x = torch.randn(4, requires_grad=True)
y = x * 1
y[torch.randint(0, 4, (2,))] += 1.0
w = torch.randn(4)
loss = (y * y * w).sum()
loss.backward()
""",
    ),
    # A ModuleList (and a Sequential) is iterated the way models are usually written.
    (
        "iterate_over_module_list",
        """
layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 2)])
h = torch.randn(2, 3)
for layer in layers:
    h = torch.tanh(layer(h))
loss = h.sum()
loss.backward()
""",
    ),
]

SCRIPTS = dict(CORPUS)
IDS = [name for name, _ in CORPUS]
BACKWARD_IDS = [name for name, text in CORPUS if ".backward(" in text]
RETAIN_IDS = [name for name, text in CORPUS if ".retain_grad()" in text]

_ORIGINAL_BACKWARD = torch.Tensor.backward
_EVALUATE = "autograd::engine::evaluate_function: "
_PASS_RANGE = "test_faithful::backward"


# -- running both ways --------------------------------------------------------------------
@dataclass
class PlainRun:
    """The same script as plain Python, seen without the app's hooks."""

    namespace: dict[str, Any]
    roots: list[Node] = field(default_factory=list)  # each backward call's root, in order
    before: list[dict[str, np.ndarray | None]] = field(default_factory=list)  # named grads
    after: list[dict[str, np.ndarray | None]] = field(default_factory=list)
    order: list[list[str]] = field(default_factory=list)  # engine order per backward call


def named_leaves(namespace: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Named leaf tensors, and every parameter of a named module as model.0.weight."""
    found: dict[str, torch.Tensor] = {}
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        if isinstance(value, torch.Tensor) and value.is_leaf:
            found[name] = value
        elif isinstance(value, nn.Module):
            for path, parameter in value.named_parameters():
                found[f"{name}.{path}"] = parameter
    return found


def grads_now(namespace: dict[str, Any]) -> dict[str, np.ndarray | None]:
    return {
        name: None if t.grad is None else t.grad.detach().clone().numpy()
        for name, t in named_leaves(namespace).items()
    }


def root_of(tensor: torch.Tensor) -> Node | None:
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if tensor.requires_grad:
        return get_gradient_edge(tensor).node
    return None


def plain_run(text: str) -> PlainRun:
    run = PlainRun({"torch": torch, "nn": nn, "F": F})

    def backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        run.roots.append(root_of(self))
        run.before.append(grads_now(run.namespace))
        with torch.profiler.record_function(_PASS_RANGE):
            _ORIGINAL_BACKWARD(self, *args, **kwargs)
        run.after.append(grads_now(run.namespace))

    torch.manual_seed(0)
    with (
        warnings.catch_warnings(),
        mock.patch.object(torch.Tensor, "backward", backward),
        torch.profiler.profile() as profile,
    ):
        warnings.simplefilter("ignore")
        exec(text, run.namespace)  # our own corpus above, never user input
    run.order = engine_order(profile.events(), len(run.roots))
    return run


def engine_order(events: Iterable[Any], passes: int) -> list[list[str]]:
    """The nodes the engine evaluated, per backward call, from the profiler's own records.

    Every node the engine pops from its ready queue is wrapped in one
    "autograd::engine::evaluate_function: <node name>" record, so ops, AccumulateGrad
    (named "torch::autograd::AccumulateGrad") and CopySlices ("torch::autograd::CopySlices")
    all appear. A GraphRoot would too, but `tensor.backward()` has a single root edge and the
    engine then skips the dummy GraphRoot: it never ran, so nothing is filtered out here; the
    test asserts no GraphRoot shows up. Records are sorted by start time, and the sort is
    only trusted after checking that the evaluations never overlap (the CPU engine runs one
    node at a time on the calling thread) and that each lies inside one backward call.
    """
    events = list(events)
    ranges = sorted((e.time_range.start, e.time_range.end) for e in events if e.name == _PASS_RANGE)
    assert len(ranges) == passes, "every backward call must leave one profiler range"
    evaluated = sorted(
        (e for e in events if e.name.startswith(_EVALUATE)), key=lambda e: e.time_range.start
    )
    assert len({e.thread for e in evaluated}) <= 1, "the CPU engine runs on the calling thread"
    for earlier, later in pairwise(evaluated):
        assert earlier.time_range.end <= later.time_range.start, "evaluations overlap"
    order: list[list[str]] = [[] for _ in ranges]
    for event in evaluated:
        start, end = event.time_range.start, event.time_range.end
        inside = [k for k, (lo, hi) in enumerate(ranges) if lo <= start and end <= hi]
        assert len(inside) == 1, f"{event.name} ran outside exactly one backward call"
        order[inside[0]].append(
            event.name.removeprefix(_EVALUATE).removeprefix("torch::autograd::")
        )
    return order


@functools.cache
def both(script_id: str) -> tuple[Snapshot, PlainRun]:
    text = SCRIPTS[script_id]
    snapshot = run_script(text)
    plain = plain_run(text)
    return snapshot, plain


def ran(script_id: str) -> tuple[Snapshot, PlainRun]:
    snapshot, plain = both(script_id)
    assert snapshot.problem is None, f"the app refused valid PyTorch: {snapshot.problem}"
    return snapshot, plain


# -- small comparisons --------------------------------------------------------------------
def values_of(summary: TensorSummary | None) -> np.ndarray | None:
    if summary is None:
        return None
    assert summary.values is not None, "corpus tensors are small: every value is kept"
    return summary.values


def assert_same(app: np.ndarray | None, plain: np.ndarray | None, what: str) -> None:
    if app is None or plain is None:
        assert app is None and plain is None, f"{what}: app {app!r}, torch {plain!r}"
        return
    assert app.shape == plain.shape, f"{what}: shape {app.shape} != {plain.shape}"
    np.testing.assert_allclose(app, plain, rtol=RTOL, atol=ATOL, err_msg=what)


def plain_grad(plain: PlainRun, name: str) -> torch.Tensor | None:
    head, _, path = name.partition(".")
    owner = plain.namespace[head]
    tensor = dict(owner.named_parameters())[path] if path else owner
    return tensor.grad


def walk(roots: Iterable[Node | None]) -> tuple[Counter, Counter]:
    """Op names and (source op, target op, slot) edges reachable from roots, without recursion."""
    ops: Counter = Counter()
    edges: Counter = Counter()
    seen: set[Node] = set()  # holding the nodes keeps their Python objects (and identity) alive
    stack = [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        ops[type(node).__name__] += 1
        for slot, (child, _output_nr) in enumerate(node.next_functions):
            if child is not None:
                edges[(type(child).__name__, type(node).__name__, slot)] += 1
                stack.append(child)
    return ops, edges


def op_of(snapshot: Snapshot, node: str) -> str:
    return snapshot.graph.nodes[node]["op"]


def output_shapes(snapshot: Snapshot, node: str) -> list[list[int]]:
    attrs = snapshot.graph.nodes[node]
    return attrs.get("output_shapes") or [attrs["shape"]]


def consumer_edges(snapshot: Snapshot, node: str) -> list[tuple[str, int, int]]:
    """(consumer, slot, output_nr) of every edge from node to an op that used its output."""
    return [
        (consumer, data["slot"], data["output_nr"])
        for _, consumer, data in snapshot.graph.out_edges(node, data=True)
    ]


def positions(one_pass: Pass) -> dict[str, int]:
    return {step.node: k for k, step in enumerate(one_pass.steps)}


# -- the tests ------------------------------------------------------------------------------
@pytest.mark.parametrize("script_id", IDS)
def test_leaf_grads_match_plain_torch(script_id: str) -> None:
    snapshot, plain = ran(script_id)
    for name, summary in snapshot.grads.items():
        grad = plain_grad(plain, name)
        expected = None if grad is None else grad.detach().numpy()
        assert_same(values_of(summary), expected, f"grad of {name}")
    for name, tensor in named_leaves(plain.namespace).items():
        if tensor.requires_grad:
            assert name in snapshot.grads, f"{name} requires grad but is missing from grads"


def test_notes_example_gives_all_sixteens() -> None:
    snapshot, _ = ran("notes_example_all_16")
    np.testing.assert_array_equal(values_of(snapshot.grads["x"]), np.full((2, 3), 16.0))


@pytest.mark.parametrize("script_id", IDS)
def test_graph_matches_plain_torch(script_id: str) -> None:
    snapshot, plain = ran(script_id)
    # The app's roots: what each backward call started from, and every tensor named at the end.
    finals = [root_of(v) for v in plain.namespace.values() if isinstance(v, torch.Tensor)]
    ops, edges = walk([*plain.roots, *finals])
    graph = snapshot.graph
    app_ops = Counter(attrs["op"] for _, attrs in graph.nodes(data=True))
    app_edges = Counter(
        (op_of(snapshot, u), op_of(snapshot, v), data["slot"])
        for u, v, data in graph.edges(data=True)
    )
    assert graph.number_of_nodes() == sum(ops.values())
    assert app_ops == ops
    assert graph.number_of_edges() == sum(edges.values())
    assert app_edges == edges


@pytest.mark.parametrize("script_id", BACKWARD_IDS)
def test_step_order_matches_the_profiler(script_id: str) -> None:
    snapshot, plain = ran(script_id)
    assert len(snapshot.passes) == len(plain.roots) == len(plain.order)
    assert not any("GraphRoot" in name for names in plain.order for name in names)
    app = [[op_of(snapshot, s.node) for s in p.steps] for p in snapshot.passes]
    assert app == plain.order
    flat = [op_of(snapshot, s.node) for p in snapshot.passes for s in p.steps]
    assert flat == [name for names in plain.order for name in names]


@pytest.mark.parametrize("script_id", BACKWARD_IDS)
def test_each_pass_is_a_valid_reverse_topological_run(script_id: str) -> None:
    snapshot, plain = ran(script_id)
    graph = snapshot.graph
    leaf_checks = 0
    for number, one_pass in enumerate(snapshot.passes):
        assert one_pass.root in graph
        assert one_pass.steps and one_pass.steps[0].node == one_pass.root
        nodes = [step.node for step in one_pass.steps]
        assert all(node in graph for node in nodes)
        assert len(nodes) == len(set(nodes)), "a node ran twice in one pass"
        where = positions(one_pass)
        for node, k in where.items():
            for consumer, _, _ in consumer_edges(snapshot, node):
                if consumer in where:
                    assert where[consumer] < k, f"{node} ran before its consumer {consumer}"
        for step in one_pass.steps:
            name = graph.nodes[step.node].get("name")
            if graph.nodes[step.node]["kind"] != "leaf" or name not in plain.after[number]:
                continue
            leaf_checks += 1
            assert_same(values_of(step.grad_before), plain.before[number][name], f"{name} before")
            assert_same(values_of(step.grad_after), plain.after[number][name], f"{name} after")
            # What arrived at the leaf is what torch added to its .grad in this pass.
            arrived = values_of(step.grad_in[0])
            before = plain.before[number][name]
            if arrived is not None:
                added = arrived if before is None else before + arrived
                assert_same(added, plain.after[number][name], f"{name} received")
    assert leaf_checks > 0, "every backward script reaches a named leaf"


@pytest.mark.parametrize("script_id", BACKWARD_IDS)
def test_gradients_flow_consistently_along_edges(script_id: str) -> None:
    snapshot, _ = ran(script_id)
    graph = snapshot.graph
    flow_checks = 0
    for one_pass in snapshot.passes:
        steps = {step.node: step for step in one_pass.steps}
        for node, step in steps.items():
            shapes = output_shapes(snapshot, node)
            assert len(step.grad_in) == len(shapes), f"{op_of(snapshot, node)} grad_in"
            for grad, shape in zip(step.grad_in, shapes, strict=True):
                assert grad is None or list(grad.shape) == list(shape)
            inputs = {data["slot"]: (u, data) for u, _, data in graph.in_edges(node, data=True)}
            const = set(graph.nodes[node].get("const_slots", ()))
            if graph.nodes[node]["kind"] == "op":
                assert set(inputs) | const == set(range(len(step.grad_out)))
            for slot, (source, data) in inputs.items():
                sent = step.grad_out[slot]
                expected = output_shapes(snapshot, source)[data["output_nr"]]
                assert sent is None or list(sent.shape) == list(expected), (
                    f"{op_of(snapshot, node)} slot {slot}: {sent.shape} != {expected}"
                )
            used = [e for e in consumer_edges(snapshot, node) if e[0] in steps]
            if node == one_pass.root or len(used) != 1:
                continue
            consumer, slot, output_nr = used[0]
            flow_checks += 1
            assert_same(
                values_of(step.grad_in[output_nr]),
                values_of(steps[consumer].grad_out[slot]),
                f"{op_of(snapshot, consumer)} -> {op_of(snapshot, node)}",
            )
    assert flow_checks > 0 or all(len(p.steps) == 1 for p in snapshot.passes)


@pytest.mark.parametrize("script_id", BACKWARD_IDS)
def test_the_root_receives_the_starting_gradient(script_id: str) -> None:
    snapshot, _ = ran(script_id)
    for one_pass in snapshot.passes:
        arrived = [g for g in one_pass.steps[0].grad_in if g is not None]
        assert len(arrived) == 1
        start = values_of(arrived[0])
        expected = (
            np.ones_like(start) if one_pass.gradient is None else values_of(one_pass.gradient)
        )
        assert_same(start, expected, "root gradient")


@pytest.mark.parametrize("script_id", RETAIN_IDS)
def test_retained_grads_of_intermediates_match(script_id: str) -> None:
    snapshot, plain = ran(script_id)
    retained = {
        name: t
        for name, t in plain.namespace.items()
        if isinstance(t, torch.Tensor) and not t.is_leaf and t.retains_grad
    }
    assert retained, "the script retains the grad of a named intermediate"
    assert len(snapshot.passes) == 1, "the corpus retains grads only in one-pass scripts"
    for name, tensor in retained.items():
        (node,) = [n for n, a in snapshot.graph.nodes(data=True) if a.get("name") == name]
        (step,) = [s for s in snapshot.passes[0].steps if s.node == node]
        assert_same(values_of(step.grad_in[0]), tensor.grad.numpy(), f"{name}.grad")
