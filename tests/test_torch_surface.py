"""The ordinary PyTorch API in scripts: tensors, torch.linalg, nn.functional, layers, nn.init.

Every script in CORPUS runs twice, through the app (`run_script`) and as plain Python with
`exec`; what each prints (gradients among it) must be the same. The size bombs of the calls
added here are in tests/test_hostile.py (BOMBS), with the names that reach outside (HOSTILE).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.lang import calls, hints, sizing, tables
from explorer.lang.errors import LimitError
from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Budget, Limits
from explorer.lang.parse import parse
from explorer.lang.precheck import precheck
from explorer.lang.values import Function, Method, method_repr
from explorer.runs.session import run_script
from tests.compare import python_prints as _python_prints
from tests.compare import script_prints as _script_prints

_X = "_ = torch.manual_seed(0)\nx = torch.randn(3, 4, requires_grad=True)\n"

CORPUS: dict[str, str] = {
    "pointwise": _X
    + """
y = torch.sinh(x) + torch.cosh(x) + torch.atan(x) + torch.expm1(x) + x.reciprocal()
y = y + torch.trunc(x) + torch.frac(x) + torch.fmod(x, 0.7) + torch.remainder(x, 0.7)
y = y + torch.hypot(x, x) + torch.atan2(x, x + 2) + torch.log2(x.abs() + 1)
y = y + torch.log10(x.abs() + 1) + torch.lerp(x, x * 2, 0.3) + F.softplus(x)
y = y + torch.asin(x.clamp(-0.9, 0.9)) + torch.acos(torch.clip(x, -0.9, 0.9))
y = y + torch.clamp_min(x, 0) + x.clamp_max(0.5) + F.hardtanh(x) + torch.sigmoid(x)
y = y + torch.nan_to_num(x.log()).clamp(-5, 5) + torch.addcmul(x, x, x, value=0.5)
y.sum().backward()
print(y)
print(x.grad)
""",
    "comparison_and_logic": _X
    + """
print(torch.logical_and(x > 0, x < 1), torch.logical_or(x > 0, x < -1).sum())
print(torch.logical_not(x > 0).any(), torch.logical_xor(x > 0, x > 1).all())
print(torch.eq(x, x), torch.ne(x, 0).sum(), torch.lt(x, 0).sum(), torch.le(x, 0).sum())
print(torch.gt(x, 0).sum(), torch.ge(x, 0).sum(), torch.isnan(x).any(), x.isinf().any())
print(torch.isfinite(x).all(), torch.isclose(x, x + 1e-9).all())
print(torch.where(x > 0, x, torch.zeros_like(x)))
print(torch.masked_fill(x, x > 0, 0.0))
""",
    "reductions": _X
    + """
print(torch.amax(x, dim=1), torch.amin(x, 0), torch.aminmax(x))
print(x.median(), torch.median(x, dim=1), torch.mode(torch.tensor([1, 2, 2, 3])))
print(torch.var_mean(x, dim=0), torch.std_mean(x))
print(torch.count_nonzero(x > 0), torch.cumprod(x, dim=1), torch.cummax(x, dim=0))
print(torch.topk(x, 2), torch.sort(x, dim=1, descending=True), torch.argsort(x))
print(x.all(), x.any(), x.mean(dim=1, keepdim=True), torch.kthvalue(x.flatten(), 3))
values, indices = x.max(dim=1)
print(values, indices)
y = (torch.amax(x, dim=1) + x.logsumexp(1) + torch.cumprod(x, 1).sum(1)).sum()
y.backward()
print(x.grad)
""",
    "indexing_joining": _X
    + """
i = torch.tensor([[0, 1], [2, 0], [1, 1]])
print(torch.gather(x, 1, i), x.index_select(0, torch.tensor([2, 0])))
print(torch.masked_select(x, x > 0), x.split(2, dim=1), torch.chunk(x, 2))
print(torch.unbind(x), torch.narrow(x, 1, 1, 2), x.flip(0), torch.roll(x, 1, 1))
print(x.repeat(2, 1), torch.tile(x, (1, 2)), x.repeat_interleave(2, dim=0))
print(torch.repeat_interleave(torch.tensor([1, 2]), torch.tensor([2, 3])))
print(torch.take(x, torch.tensor([0, 5])), torch.take_along_dim(x, i, dim=1))
print(torch.nonzero(x > 0), torch.tril(x), torch.triu(x, 1), torch.diagonal(x))
print(torch.diag(torch.tensor([1.0, 2.0])), torch.trace(x[:, :3]))
print(x.unflatten(1, (2, 2)).shape, x.movedim(0, 1).shape, x.swapaxes(0, 1).shape)
print(x[:1].expand(3, 4).shape, torch.kron(torch.eye(2), torch.ones(2, 2)))
y = torch.zeros(3, 4).scatter(1, i, 1.0)
print(y, torch.zeros(3, 4).scatter_add(1, i, torch.ones(3, 2)))
z = torch.zeros(3, 4)
_ = z.index_add_(0, torch.tensor([0, 0]), torch.ones(2, 4))
_ = z.masked_fill_(z > 1, -1.0)
_ = z.scatter_(1, i, 5.0)
print(z)
loss = (torch.gather(x, 1, i) ** 2).sum() + x.repeat(2, 1).sum() + torch.roll(x, 1, 0)[0, 0]
loss.backward()
print(x.grad)
""",
    "products": _X
    + """
a = torch.randn(2, 3, 4)
b = torch.randn(2, 4, 5)
print(torch.bmm(a, b).shape, torch.baddbmm(torch.zeros(2, 3, 5), a, b).shape)
print(torch.addmm(torch.zeros(3, 3), x, x.t()), torch.einsum("ij,kj->ik", x, x))
print(torch.tensordot(a, b, dims=([2], [1])).shape, torch.tensordot(x, x.t(), 1))
print(torch.cdist(x, x), torch.cross(torch.eye(3), torch.ones(3, 3), dim=1))
y = torch.einsum("ij,ij->", x, x) + torch.cdist(x, x + 1).sum()
y.backward()
print(x.grad)
""",
    "in_place_and_new": _X
    + """
y = torch.zeros(2, 3)
_ = y.add_(1).mul_(3).exp_().clamp_(max=30.0)
print(y, y.new_zeros(2), y.new_ones(1, 2), y.new_full((2,), 7.0), y.new_tensor([1, 2]))
z = x.detach().clone()
_ = z.relu_()
_ = z.fill_(2.0)
_ = z.copy_(torch.ones(3, 4))
print(z, x.to(torch.float64).dtype, x.to(torch.int32).dtype)
""",
    "linalg": """
import torch.linalg as LA
from torch import linalg
_ = torch.manual_seed(0)
a = torch.randn(4, 4, dtype=torch.float64)
x = (a @ a.T + torch.eye(4, dtype=torch.float64)).requires_grad_()
print(LA.norm(x), linalg.vector_norm(x, ord=1), torch.linalg.matrix_norm(x, ord="fro"))
print(LA.inv(x), LA.det(x), LA.slogdet(x), LA.solve(x, torch.ones(4, dtype=torch.float64)))
print(LA.svdvals(x), LA.eigvalsh(x), LA.eigh(x).eigenvalues, LA.cholesky(x))
print(LA.qr(x).R.shape, LA.pinv(x).shape, LA.matrix_rank(x), LA.cond(x))
print(LA.lstsq(x, torch.ones(4, 1, dtype=torch.float64)).solution.shape)
print(LA.cross(torch.eye(3), torch.ones(3, 3)), LA.multi_dot([x, x, x]).shape)
print(LA.eig(x).eigenvalues.shape, LA.matrix_norm(x, ord=2), torch.det(x), x.inverse().shape)
y = LA.det(x) + LA.inv(x).sum() + LA.matrix_norm(x, ord="nuc") + LA.eigvalsh(x).sum()
y.backward()
print(x.grad)
""",
    "functional": _X
    + """
img = torch.randn(1, 2, 6, 6, requires_grad=True)
w = torch.randn(3, 2, 3, 3)
c = F.conv2d(img, w, padding=1, dilation=1)
print(c.shape, F.conv1d(torch.randn(1, 2, 8), torch.randn(4, 2, 3)).shape)
print(F.conv_transpose2d(img, torch.randn(2, 3, 3, 3), stride=2).shape)
print(F.max_pool2d(c, 2).shape, F.avg_pool2d(c, 2).shape, F.adaptive_avg_pool2d(c, 1).shape)
print(F.max_pool1d(torch.randn(1, 2, 8), 2).shape, F.avg_pool1d(torch.randn(1, 2, 8), 2).shape)
print(F.adaptive_max_pool2d(c, (2, 3)).shape, F.interpolate(img, scale_factor=2).shape)
print(F.interpolate(img, size=(9, 9), mode="bilinear", align_corners=False).shape)
print(F.unfold(img, 2).shape, F.fold(F.unfold(img, 2), (6, 6), 2).shape)
print(F.layer_norm(x, (4,)), F.group_norm(c, 3).shape, F.instance_norm(c).shape)
print(F.batch_norm(x, torch.zeros(4), torch.ones(4)), F.embedding(torch.tensor([1]), x))
print(F.softsign(x), F.relu6(x), F.selu(x), F.celu(x), F.mish(x), F.hardswish(x))
print(F.glu(x), F.logsigmoid(x), F.softmin(x, dim=1))
print(F.pixel_shuffle(c[:, :1].repeat(1, 4, 1, 1), 2).shape)
print(F.cosine_similarity(x, x + 1), F.pairwise_distance(x, x + 1))
t = torch.tensor([1.0, -1.0, 1.0])
print(F.kl_div(F.log_softmax(x, 1), F.softmax(x, 1), reduction="batchmean"))
print(F.triplet_margin_loss(x, x + 1, x - 1), F.margin_ranking_loss(x[:, 0], x[:, 1], t))
print(F.hinge_embedding_loss(x[:, 0], t), F.huber_loss(x, x * 2), F.poisson_nll_loss(x, x.abs()))
print(F.gaussian_nll_loss(x, x * 2, torch.ones(3, 4)), F.cosine_embedding_loss(x, x + 1, t))
q = torch.randn(1, 2, 3, 4)
print(F.scaled_dot_product_attention(q, q, q).shape)
print(F.grid_sample(img, torch.zeros(1, 2, 2, 2), align_corners=False).shape)
print(F.dropout(x, p=0.0), F.dropout2d(c, p=0.0, training=False).shape)
y = c.sum() + F.interpolate(img, scale_factor=2).sum() + F.huber_loss(x, x * 2) + F.glu(x).sum()
y.backward()
print(x.grad, img.grad.sum())
""",
    "layers": """
_ = torch.manual_seed(0)
x = torch.randn(5, 2, 3, requires_grad=True)
lstm = nn.LSTM(3, 4, num_layers=2)
out, (h, c) = lstm(x)
print(out.shape, h.shape, c.shape, lstm.hidden_size, lstm.bidirectional, lstm.batch_first)
gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)
out2, h2 = gru(x)
rnn = nn.RNN(3, 4)
out3, h3 = rnn(x)
mha = nn.MultiheadAttention(3, 1)
att, weights = mha(x, x, x)
print(att.shape, weights.shape, mha.num_heads, mha.embed_dim)
dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(3, 1, dim_feedforward=8), 2)
print(dec(x, x).shape)
img = torch.randn(1, 2, 6, 6)
seq = nn.Sequential(
    nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.ReLU6(), nn.MaxPool2d(2),
    nn.ConvTranspose2d(4, 2, 2, stride=2), nn.InstanceNorm2d(2), nn.PReLU(), nn.Mish(),
    nn.Hardswish(), nn.Dropout2d(0.0), nn.AdaptiveAvgPool2d(3), nn.Upsample(scale_factor=2),
    nn.Flatten(), nn.Unflatten(1, (2, 36)), nn.Softplus(), nn.Hardtanh(), nn.SELU(), nn.CELU(),
)
print(seq(img).shape)
print(nn.Softmin(dim=1)(x[0]), nn.GLU()(x[0, :, :2]).shape, nn.Identity()(x).shape)
bag = nn.EmbeddingBag(10, 3, mode="mean")
print(bag(torch.tensor([1, 2, 4, 5]), torch.tensor([0, 2])).shape)
print(nn.HuberLoss()(x, x * 2), nn.SmoothL1Loss()(x, x * 2), nn.CosineSimilarity()(x, x + 1))
print(nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x, 1), F.softmax(x, 1)))
print(nn.BCELoss()(torch.sigmoid(x), torch.ones(5, 2, 3)), nn.PairwiseDistance()(x[0], x[1]))
print(nn.MaxPool1d(2)(x).shape, nn.AvgPool1d(1)(x).shape, nn.AdaptiveAvgPool1d(2)(x).shape)
heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 1)})
print(heads["a"](x).shape, heads["b"].out_features, sorted(heads.keys()))
params = nn.ParameterList([nn.Parameter(torch.ones(2)), nn.Parameter(torch.zeros(3))])
print(params[1], len(list(lstm.named_parameters())), len(list(seq.children())))
pd = nn.ParameterDict({"w": nn.Parameter(torch.ones(2))})
print(pd["w"], lstm.weight_ih_l0.shape, lstm.bias_hh_l1.shape)
y = out.sum() + out2.sum() + out3.sum() + att.sum() + dec(x, x).sum() + heads["a"](x).sum()
y.backward()
print(x.grad.sum(), lstm.weight_hh_l0.grad.shape, mha.in_proj_weight.grad.shape)
""",
    "init": """
from torch.nn import init
_ = torch.manual_seed(0)
m = nn.Linear(4, 3)
_ = nn.init.xavier_uniform_(m.weight)
_ = nn.init.zeros_(m.bias)
_ = init.kaiming_normal_(m.weight, nonlinearity="relu")
_ = init.ones_(m.bias)
_ = nn.init.constant_(m.bias, 0.5)
_ = nn.init.normal_(m.weight, 0.0, 0.02)
_ = nn.init.uniform_(m.weight, -0.1, 0.1)
_ = nn.init.trunc_normal_(m.weight, std=0.02)
_ = nn.init.orthogonal_(m.weight)
w = torch.zeros(3, 3)
_ = nn.init.eye_(w)
print(m.weight, m.bias, w, nn.init.calculate_gain("leaky_relu", 0.2))
print(m(torch.ones(2, 4)))
""",
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_script_prints_what_plain_pytorch_prints(name: str) -> None:
    assert _script_prints(CORPUS[name]) == _python_prints(CORPUS[name])


@pytest.mark.parametrize("name", list(CORPUS))
def test_lesson_cells_accept_the_ordinary_api(name: str) -> None:
    precheck(CORPUS[name])


def test_every_listed_name_exists_in_torch() -> None:
    spaces = {
        torch: tables.TORCH_MEMBERS - tables.TORCH_SUBMODULES,
        torch.Tensor: tables.TENSOR_METHODS,
        F: tables.FUNCTIONAL_MEMBERS,
        nn: tables.NN_MEMBERS - {"functional"},
        torch.linalg: tables.LINALG_MEMBERS,
        nn.init: tables.INIT_MEMBERS,
    }
    for space, names in spaces.items():
        assert sorted(n for n in names if not hasattr(space, n)) == []


_OUTSIDE = "numpy data_ptr untyped_storage storage pin_memory share_memory_ cuda set_ apply_ map_"


def test_names_that_reach_outside_are_not_listed() -> None:
    listed = tables.TENSOR_METHODS | tables.TORCH_MEMBERS
    assert not set(_OUTSIDE.split()) & listed
    assert not {"save", "load", "from_file", "from_numpy", "empty"} & tables.TORCH_MEMBERS
    # hooks take only the script's own functions (explorer/lang/hooks.py)
    hooks = {n for n in listed if n.startswith("register_")}
    assert hooks == {"register_hook", "register_post_accumulate_grad_hook"}


def test_completion_and_hints_offer_the_new_names() -> None:
    offered = tables.completions()
    assert "svd" in offered["torch.linalg"] and "xavier_uniform_" in offered["nn.init"]
    assert "scatter_add" in offered["tensor"] and "LSTM" in offered["nn"]
    assert "conv2d" in offered["F"]
    assert hints.did_you_mean("kaiming_normal", tables.INIT_MEMBERS) == (
        "did you mean kaiming_normal_?"
    )
    problem = run_script("x = torch.ones(2)\ny = x.scater_add(0, x.long(), x)").problem
    assert problem is not None and "scatter_add" in problem.hint


def test_a_function_shows_as_python_shows_it() -> None:
    assert repr(Function("torch.exp", torch.exp)) == repr(torch.exp)
    assert repr(Function("torch.nn.functional.relu", F.relu)) == repr(F.relu)
    x = torch.ones(2)
    assert repr(Method(x, "exp")) == repr(x.exp)
    assert repr(Method(x, "backward")) == repr(x.backward)  # a method written in Python
    shown = [o.text for o in run_script("torch.exp\nx = torch.ones(2)\nx.exp").outputs]
    assert shown[0] == repr(torch.exp)
    assert shown[1].startswith("<built-in method exp of Tensor object at 0x")


def test_a_method_of_a_large_half_tensor_is_shown_without_walking_it() -> None:
    big = torch.zeros(10**6, dtype=torch.float16)
    assert method_repr(big, "backward") == (
        "<bound method Tensor.backward of tensor(..., size=(1000000,), dtype=torch.float16)>"
    )


def _budget(**limits: Any) -> Budget:
    budget = Budget(Limits(**limits))
    budget.start()
    return budget


@pytest.mark.parametrize(
    ("name", "target", "args"),
    [
        ("torch.einsum", torch.einsum, ("i,j,k->ijk", *[torch.ones(400)] * 3)),
        ("torch.kron", torch.kron, (torch.ones(300, 300), torch.ones(20, 20))),
        ("repeat", torch.ones(3).repeat, (10**4, 10**4)),
        ("torch.nn.functional.conv2d", F.conv2d, (torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1))),
        ("torch.nn.functional.interpolate", F.interpolate, (torch.ones(1, 1, 2, 2), (9000, 9000))),
        ("torch.linalg.svd", torch.linalg.svd, (torch.ones(1300, 1300),)),
    ],
)
def test_growing_calls_are_refused_before_they_run(name: str, target: Any, args: tuple) -> None:
    kwargs = {"padding": 5000} if name.endswith("conv2d") else {}

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the call ran")

    budget = _budget()
    with pytest.raises(LimitError):
        short = name.rsplit(".", 1)[-1]
        sizing.check_before(budget, name, short, target, args, kwargs)
        if calls._needs_meta(budget, short, target, args, kwargs):
            calls._charge_on_meta(budget, short, target, args, kwargs)
        refuse()


def test_a_recurrent_layer_call_is_bounded_in_time() -> None:
    problem = run_script("m = nn.GRU(2, 600)\ny = m(torch.ones(3000, 2, 2))").problem
    assert problem is not None and problem.line == 2 and "GRU call would take" in problem.message


def test_recurrent_and_attention_calls_are_sized_on_meta() -> None:
    budget = _budget()
    lstm = nn.LSTM(8, 700)
    x = torch.ones(9, 1, 8)
    assert calls._needs_meta(budget, "LSTM", lstm, (x,), {})  # the E * E rule
    assert calls._charge_on_meta(budget, "LSTM", lstm, (x,), {})
    mha = nn.MultiheadAttention(2400, 1)
    q = torch.ones(4, 1, 2400)
    assert calls._needs_meta(budget, "MultiheadAttention", mha, (q, q, q), {})
    assert calls._charge_on_meta(budget, "MultiheadAttention", mha, (q, q, q), {})


@pytest.mark.parametrize(
    ("layer", "call"),
    [
        ("nn.LSTM(2, 3)", "out, (h, c) = layer(x)"),
        ("nn.GRU(2, 3)", "out, h = layer(x)"),
        ("nn.MultiheadAttention(2, 1)", "out, w = layer(x, x, x)"),
        ("nn.TransformerDecoderLayer(2, 1, dim_feedforward=4)", "out = layer(x, x)"),
    ],
)
def test_recurrent_and_attention_calls_are_named_by_their_path(layer: str, call: str) -> None:
    snapshot = run_script(
        f"layer = {layer}\nx = torch.ones(4, 1, 2, requires_grad=True)\n{call}\n"
        "y = out.sum()\ny.backward()"
    )
    assert snapshot.problem is None, snapshot.problem
    made = [n for n, module in snapshot.graph.nodes(data="module") if module == "layer"]
    assert made, "no node was made in the layer's call"


def test_results_that_come_in_tuples_count_as_graph_operations() -> None:
    code = (
        "x = torch.ones(10, requires_grad=True)\n"
        "a, b = x.split(5)\n"
        "parts = x.unbind()\n"
        "lstm = nn.LSTM(2, 3)\n"
        "out, (h, c) = lstm(torch.ones(4, 1, 2))\n"
    )
    limits = Limits()
    interpreter = Interpreter(code, limits)
    interpreter.run(parse(code, limits))
    # one SplitBackward, one UnbindBackward, and the LSTM's output, h and c (3 nodes)
    assert interpreter.budget.graph_ops == 5
