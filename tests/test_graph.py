"""Graph capture: ids, names, edges by slot, saved values, and why a branch has no gradient."""

from __future__ import annotations

import numpy as np
import torch

from explorer.graph.capture import op_label
from tests.helpers import run_ok, session_ok, values


def _by_op(snapshot, op):
    return [n for n, a in snapshot.graph.nodes(data=True) if a["op"] == op]


def test_op_labels_are_readable() -> None:
    assert op_label("MulBackward0") == "mul"
    assert op_label("MseLossBackward0") == "mse_loss"
    assert op_label("AddmmBackward0") == "addmm"
    assert op_label("TBackward0") == "t"


def test_edges_point_forward_with_the_slot_of_next_functions() -> None:
    snapshot = run_ok(
        "a = torch.ones(2, requires_grad=True)\nb = torch.ones(2, requires_grad=True)\nc = a - b\n"
    )
    (sub,) = _by_op(snapshot, "SubBackward0")
    sources = {
        snapshot.graph.nodes[u]["name"]: d["slot"]
        for u, _, d in snapshot.graph.in_edges(sub, data=True)
    }
    assert sources == {"a": 0, "b": 1}
    assert snapshot.graph.nodes[sub]["name"] == "c"
    assert snapshot.graph.nodes[sub].get("output") is True


def test_a_tensor_used_twice_keeps_both_edges() -> None:
    snapshot = run_ok("x = torch.ones(2, requires_grad=True)\ny = x * x\n")
    (mul,) = _by_op(snapshot, "MulBackward0")
    slots = sorted(d["slot"] for _, _, d in snapshot.graph.in_edges(mul, data=True))
    assert slots == [0, 1]


def test_the_capture_counts_its_edges_across_walks_as_networkx_does() -> None:
    session, snapshot = session_ok(
        "x = torch.ones(2, requires_grad=True)\ny = x * x + x\nz = (y * 2).sum()\n"
        "z.backward()\nw = (y.exp() * x).sum()\n"
    )
    capture = session.recorder.capture
    assert capture.edge_count == snapshot.graph.number_of_edges() > 6


def test_constants_and_detached_inputs_are_recorded_on_the_op() -> None:
    snapshot = run_ok("x = torch.ones(2, requires_grad=True)\nz = x.detach()\ny = x * z\n")
    (mul,) = _by_op(snapshot, "MulBackward0")
    assert snapshot.graph.nodes[mul]["const_slots"] == [1]
    assert snapshot.graph.in_degree(mul) == 1


def test_saved_exponent_and_tensors_are_read_before_backward_frees_them() -> None:
    snapshot = run_ok(
        "x = torch.full((2,), 3., requires_grad=True)\ny = (x ** 2).sum()\ny.backward()\n"
    )
    (power,) = _by_op(snapshot, "PowBackward0")
    saved = snapshot.graph.nodes[power]["saved"]
    assert saved["exponent"] == 2
    np.testing.assert_array_equal(values(saved["self"]), [3.0, 3.0])


def test_saved_dims_and_reductions_read_as_the_script_wrote_them() -> None:
    snapshot = run_ok(
        "x = torch.ones(2, 3, requires_grad=True)\n"
        "s = x.sum(dim=-1)\n"
        "p = torch.softmax(x, dim=-1)\n"
        "loss = F.cross_entropy(x, torch.tensor([0, 2]))\n"
        "m = F.mse_loss(x, torch.zeros(2, 3), reduction='sum')\n"
    )
    (total,) = _by_op(snapshot, "SumBackward1")
    assert snapshot.graph.nodes[total]["saved"]["dim"] == [-1]
    (soft,) = _by_op(snapshot, "SoftmaxBackward0")
    assert snapshot.graph.nodes[soft]["saved"]["dim"] == -1
    (nll,) = _by_op(snapshot, "NllLossBackward0")
    assert snapshot.graph.nodes[nll]["saved"]["reduction"] == "mean"
    assert snapshot.graph.nodes[nll]["saved"]["ignore_index"] == -100
    (mse,) = _by_op(snapshot, "MseLossBackward0")
    assert snapshot.graph.nodes[mse]["saved"]["reduction"] == "sum"


def test_leaf_values_and_intermediate_values_are_kept() -> None:
    snapshot = run_ok("x = torch.full((2,), 4., requires_grad=True)\ny = 2 * x ** 2 + 3\n")
    (power,) = _by_op(snapshot, "PowBackward0")
    (leaf,) = _by_op(snapshot, "AccumulateGrad")
    np.testing.assert_array_equal(values(snapshot.graph.nodes[power]["value"]), [16.0, 16.0])
    assert snapshot.graph.nodes[leaf]["name"] == "x"
    assert snapshot.graph.nodes[leaf]["kind"] == "leaf"
    np.testing.assert_array_equal(values(snapshot.graph.nodes[leaf]["value"]), [4.0, 4.0])


def test_module_parameters_are_named_by_their_path() -> None:
    snapshot = run_ok(
        "model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))\n"
        "loss = model(torch.ones(4, 3)).sum()\nloss.backward()\n"
    )
    names = {a.get("name") for _, a in snapshot.graph.nodes(data=True) if a["kind"] == "leaf"}
    assert names == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"}
    assert set(snapshot.grads) == names


def test_unused_leaf_still_appears() -> None:
    snapshot = run_ok("x = torch.ones(3, requires_grad=True)\n")
    assert [a["name"] for _, a in snapshot.graph.nodes(data=True)] == ["x"]
    assert snapshot.grads == {"x": None}


def test_ids_are_the_same_on_every_run() -> None:
    script = "x = torch.ones(2, requires_grad=True)\ny = (x * 3).exp().sum()\n"
    first, second = run_ok(script), run_ok(script)
    assert list(first.graph.nodes(data="op")) == list(second.graph.nodes(data="op"))
    assert list(first.graph.edges) == list(second.graph.edges)


def test_a_long_chain_needs_no_recursion() -> None:
    snapshot = run_ok(
        "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(5000):\n    y = y * 1.0\n"
        "y.sum().backward()\n"
    )
    assert snapshot.graph.number_of_nodes() == 5002
    assert len(snapshot.passes[0].steps) == 5002
    assert len(snapshot.layout) == 5002


def test_nodes_know_the_innermost_module_that_made_them() -> None:
    snapshot = run_ok(
        "model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\n"
        "loss = model(torch.ones(2, 3)).sum()\n"
    )
    modules = {a["op"]: a.get("module") for _, a in snapshot.graph.nodes(data=True)}
    assert modules["ReluBackward0"] == "model.1"
    assert modules["SumBackward0"] is None  # made by the script, outside any module
    linear = sorted(
        a["module"] for _, a in snapshot.graph.nodes(data=True) if a["op"] == "AddmmBackward0"
    )
    assert linear == ["model.0", "model.2"]


def test_op_labels_are_the_names_pytorch_gives_the_ops() -> None:
    script = (
        "x = torch.randn(2, 3, 8, 8, requires_grad=True)\n"
        "conv = nn.Conv2d(3, 4, 3)\n"
        "y = nn.functional.max_pool2d(conv(x), 2, return_indices=True)[0]\n"
        "y = nn.functional.interpolate(y, scale_factor=2, mode='bilinear')\n"
        "y = nn.functional.adaptive_avg_pool2d(y, 2)\n"
        "y = nn.functional.layer_norm(y, [2])\n"
        "loss = nn.functional.mse_loss(y.log_softmax(-1), torch.zeros(2, 4, 2, 2))\n"
    )
    snapshot = run_ok(script)
    labels = {a.label for _, a in snapshot.graph.nodes(data=True) if a.kind == "op"}
    assert {"max_pool2d_with_indices", "upsample_bilinear2d", "mse_loss"} <= labels
    assert {label for label in labels if not hasattr(torch.ops.aten, label)} == set()
