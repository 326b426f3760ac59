"""Passes a script starts with torch.autograd.grad, torch.autograd.backward and backward(inputs=),
each checked against the same script run by plain PyTorch: printed gradients, every leaf's .grad,
the graph, and the order the engine ran each pass's nodes in (from the profiler)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.data.snapshot import Snapshot
from explorer.lang.limits import Limits
from explorer.runs.session import run_script
from explorer.view.replay import Cursor, Replay
from explorer.view.step_style import card_outline, moved_cards
from tests.helpers import run_ok, texts, values
from tests.test_faithful import (
    _PASS_RANGE,
    assert_same,
    engine_order,
    grads_now,
    named_leaves,
    op_of,
    plain_grad,
    root_of,
    walk,
)

ROOT = Path(__file__).resolve().parents[1]

_LEAVES = (
    "x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
    "w = torch.tensor([1.5, 0.25, -0.5], requires_grad=True)\n"
)
CASES = {
    "grad_of_a_leaf": _LEAVES
    + "y = (x * w).exp().sum()\ng, = torch.autograd.grad(y, x)\nprint(g)\n",
    "grad_imported": (
        "from torch.autograd import grad\n" + _LEAVES + "y = (x * w).tanh().sum()\n"
        "gx, gw = grad(y, [x, w])\nprint(gx, gw)\n"
    ),
    "grad_of_a_non_leaf": (
        "import torch.autograd\n" + _LEAVES + "h = x * w\ny = (h * h).sum()\n"
        "gh, = torch.autograd.grad(y, h)\nprint(gh)\n"
    ),
    "grad_of_a_non_leaf_and_the_leaf_before_it": (
        _LEAVES + "h = x * w\ny = (h * h).sum()\n"
        "gh, gx = torch.autograd.grad(y, [h, x])\nprint(gh, gx)\n"
    ),
    "double_backward": (
        _LEAVES + "y = (x * w).exp().sum()\n"
        "g, = torch.autograd.grad(y, x, create_graph=True)\ng.sum().backward()\n"
    ),
    "hessian_vector_product": (
        _LEAVES + "v = torch.tensor([1.0, 0.0, -1.0])\ny = (x ** 3 * w).sum()\n"
        "g, = torch.autograd.grad(y, x, create_graph=True)\n"
        "hv, = torch.autograd.grad((g * v).sum(), x)\nprint(hv)\n"
    ),
    "gradient_penalty": (
        "model = nn.Linear(3, 1)\n"
        "data = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], requires_grad=True)\n"
        "out = torch.tanh(model(data))\n"
        "g, = torch.autograd.grad(out.sum(), data, create_graph=True)\n"
        "penalty = ((g.norm(dim=1) - 1) ** 2).mean()\n"
        "loss = out.mean() + 10 * penalty\nloss.backward()\n"
    ),
    "backward_of_several_roots": (
        _LEAVES + "a = (x * w).sum()\nb = x.exp()\n"
        "torch.autograd.backward([a, b], [None, torch.tensor([1.0, 2.0, 3.0])])\n"
    ),
    "grad_of_several_roots": (
        _LEAVES + "a = (x * w).sum()\nb = (x * x).sum()\n"
        "ga, gb = torch.autograd.grad([a, b], [x, w], grad_outputs=[torch.tensor(2.0), None])\n"
        "print(ga, gb)\n"
    ),
    "backward_inputs_a_leaf": _LEAVES + "y = (x * w).sum()\ny.backward(inputs=[w])\n",
    "autograd_backward_inputs": (
        _LEAVES + "h = x * w\ny = h.sin().sum()\n"
        "torch.autograd.backward(y, inputs=[x, h])\nprint(h.grad)\n"
    ),
    "retain_grad_of_a_non_leaf": (
        _LEAVES + "h = x * w\nh.retain_grad()\ny = (h * 3).sum()\ny.backward()\nprint(h.grad)\n"
    ),
    "grad_then_backward_keeps_grad_apart": (
        _LEAVES + "y = (x * w).sum()\ng, = torch.autograd.grad(y, w, retain_graph=True)\n"
        "print(x.grad, w.grad)\ny.backward()\nprint(g)\n"
    ),
    "allow_unused_and_materialize": (
        _LEAVES + "z = torch.tensor([1.0], requires_grad=True)\ny = (x * w).sum()\n"
        "gx, gz = torch.autograd.grad(y, [x, z], allow_unused=True, materialize_grads=True)\n"
        "print(gx, gz)\n"
    ),
}


@dataclass
class PlainRun:
    namespace: dict[str, Any]
    roots: list[list[Any]] = field(default_factory=list)  # per pass, the root nodes
    results: list[tuple | None] = field(default_factory=list)  # per pass, autograd.grad's
    printed: str = ""
    order: list[list[str]] = field(default_factory=list)


_BACKWARD, _GRAD = torch.autograd.backward, torch.autograd.grad


def plain_run(text: str) -> PlainRun:
    run = PlainRun({"torch": torch, "nn": nn, "F": F})

    def started(roots: Any) -> None:
        items = roots if isinstance(roots, list | tuple) else [roots]
        run.roots.append([root_of(t) for t in items])

    def backward(tensors: Any, *args: Any, **kwargs: Any) -> None:
        started(tensors)
        run.results.append(None)
        with torch.profiler.record_function(_PASS_RANGE):
            _BACKWARD(tensors, *args, **kwargs)

    def grad(outputs: Any, *args: Any, **kwargs: Any) -> Any:
        started(outputs)
        with torch.profiler.record_function(_PASS_RANGE):
            results = _GRAD(outputs, *args, **kwargs)
        run.results.append(results)
        return results

    torch.manual_seed(0)
    printed = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(printed),
        torch.profiler.profile() as profile,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(torch.autograd, "backward", backward)
        patch.setattr(torch.autograd, "grad", grad)
        warnings.simplefilter("ignore")
        exec(text, run.namespace)  # the cases above, never user input
    run.printed = printed.getvalue()
    run.order = engine_order(profile.events(), len(run.roots))
    return run


@functools.cache
def both(case: str) -> tuple[Snapshot, PlainRun]:
    snapshot = run_script(CASES[case])
    assert snapshot.problem is None, f"the app refused valid PyTorch: {snapshot.problem}"
    return snapshot, plain_run(CASES[case])


# -- against plain PyTorch, every case --------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_printed_gradients_match_plain_torch(case: str) -> None:
    snapshot, plain = both(case)
    assert "\n".join(texts(snapshot)) == plain.printed.rstrip("\n")


@pytest.mark.parametrize("case", list(CASES))
def test_leaf_grads_match_plain_torch(case: str) -> None:
    snapshot, plain = both(case)
    expected = grads_now(plain.namespace)
    assert set(snapshot.grads) == {n for n, t in named_leaves(plain.namespace).items() if
                                   t.requires_grad or t.grad is not None}  # fmt: skip
    for name, summary in snapshot.grads.items():
        app = None if summary is None else values(summary)
        assert_same(app, expected[name], f"grad of {name}")


@pytest.mark.parametrize("case", list(CASES))
def test_step_order_matches_the_profiler(case: str) -> None:
    snapshot, plain = both(case)
    assert len(snapshot.passes) == len(plain.order)
    for one_pass, names in zip(snapshot.passes, plain.order, strict=True):
        # Several roots start from a GraphRoot the engine makes for the call: it is no node
        # of the graph, so it is no step; with one root the engine skips it.
        engine = [n for n in names if n != "GraphRoot"]
        assert len(one_pass.root_ids()) > 1 or engine == names
        assert [op_of(snapshot, s.node) for s in one_pass.steps] == engine


@pytest.mark.parametrize("case", list(CASES))
def test_graph_is_pytorchs_own(case: str) -> None:
    snapshot, plain = both(case)
    finals = [root_of(v) for v in plain.namespace.values() if isinstance(v, torch.Tensor)]
    ops, edges = walk([*(r for roots in plain.roots for r in roots), *finals])
    graph = snapshot.graph
    assert Counter(a["op"] for _, a in graph.nodes(data=True)) == ops
    app_edges = Counter(
        (op_of(snapshot, u), op_of(snapshot, v), d["slot"]) for u, v, d in graph.edges(data=True)
    )
    assert app_edges == edges


@pytest.mark.parametrize("case", list(CASES))
def test_roots_and_results_match_plain_torch(case: str) -> None:
    snapshot, plain = both(case)
    for one_pass, roots, results in zip(snapshot.passes, plain.roots, plain.results, strict=True):
        assert [op_of(snapshot, r) for r in one_pass.root_ids()] == [
            type(r).__name__ for r in roots
        ]
        assert (one_pass.roots == []) == (len(roots) == 1)
        if results is None:
            assert one_pass.results is None
            continue
        assert one_pass.results is not None and len(one_pass.results) == len(results)
        for recorded, result in zip(one_pass.results, results, strict=True):
            app = None if recorded.grad is None else values(recorded.grad)
            assert_same(app, None if result is None else result.detach().numpy(), case)


# -- what each kind of pass means ----------------------------------------------------------
def test_a_grad_pass_fills_no_grad_and_says_where_its_results_went() -> None:
    snapshot, _ = both("grad_of_a_leaf")
    (one_pass,) = snapshot.passes
    assert snapshot.grads == {"x": None, "w": None}
    (result,) = one_pass.results or []
    assert snapshot.graph.nodes[result.node]["name"] == "x"
    assert snapshot.graph.nodes[result.node]["kind"] == "leaf"
    # The engine reaches x's AccumulateGrad and takes the result there without running it:
    # a step that received the result, and no .grad before or after; w is not reached.
    leaves = [s for s in one_pass.steps if snapshot.graph.nodes[s.node]["kind"] == "leaf"]
    assert [s.node for s in leaves] == [result.node] == [one_pass.steps[-1].node]
    np.testing.assert_array_equal(values(leaves[0].grad_in[0]), values(result.grad))
    assert leaves[0].grad_before is None and leaves[0].grad_after is None
    replay = Replay(snapshot)
    assert replay.view(Cursor(0, len(one_pass.steps) - 1)).accumulated is None
    assert replay.leaf_grads(Cursor(0, len(one_pass.steps) - 1)) == {}


def test_a_result_for_a_non_leaf_goes_to_the_node_that_made_it() -> None:
    snapshot, _ = both("grad_of_a_non_leaf")
    (result,) = snapshot.passes[0].results or []
    assert snapshot.graph.nodes[result.node]["name"] == "h"
    np.testing.assert_allclose(values(result.grad), 2 * np.array([0.75, -0.25, -1.0]))


def test_a_result_taken_at_a_node_that_also_runs_is_one_step() -> None:
    snapshot, _ = both("grad_of_a_non_leaf_and_the_leaf_before_it")
    (one_pass,) = snapshot.passes
    gh, gx = one_pass.results or []
    (step,) = [s for s in one_pass.steps if s.node == gh.node]
    np.testing.assert_array_equal(values(step.grad_in[0]), values(gh.grad))
    # It ran for x's sake (slot 0), and sent nothing towards w, which no result needs.
    assert step.grad_out[0] is not None and step.grad_out[1] is None
    assert one_pass.steps[-1].node == gx.node


def test_an_unused_input_has_no_node_and_a_materialized_zero() -> None:
    snapshot, _ = both("allow_unused_and_materialize")
    gx, gz = snapshot.passes[0].results or []
    assert gx.node is not None and gz.node is None
    np.testing.assert_array_equal(values(gz.grad), [0.0])


def test_double_backward_goes_through_the_first_pass_backward_nodes() -> None:
    snapshot, _ = both("double_backward")
    first, second = snapshot.passes
    assert first.retain_graph  # create_graph=True keeps the graph, as PyTorch defaults it
    ran_first = {s.node for s in first.steps}
    ran_second = {s.node for s in second.steps}
    # The gradient's graph is made of nodes the first pass made, and reaches back into the
    # forward graph the first pass ran through.
    assert ran_second - ran_first and ran_second & ran_first
    grad_ops = [op_of(snapshot, n) for n in ran_second - ran_first]
    assert "SumBackward0" in grad_ops and "MulBackward0" in grad_ops


def test_hessian_vector_product_values() -> None:
    snapshot, _ = both("hessian_vector_product")
    x, w, v = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5]), np.array([1, 0, -1])
    hv = values((snapshot.passes[1].results or [])[0].grad)
    np.testing.assert_allclose(hv, 6 * x * w * v, rtol=1e-6)


def test_inputs_limit_which_leaves_accumulate() -> None:
    snapshot, _ = both("backward_inputs_a_leaf")
    assert snapshot.grads["x"] is None
    np.testing.assert_allclose(values(snapshot.grads["w"]), [0.5, -1.0, 2.0])
    (one_pass,) = snapshot.passes
    assert [snapshot.graph.nodes[n]["name"] for n in one_pass.inputs or []] == ["w"]


def test_a_non_leaf_input_gets_its_grad_and_is_named_by_its_node() -> None:
    snapshot, _ = both("autograd_backward_inputs")
    names = [snapshot.graph.nodes[n]["name"] for n in snapshot.passes[0].inputs or []]
    assert names == ["x", "h"]


def test_retained_grad_of_a_non_leaf_is_what_arrived_at_its_node() -> None:
    snapshot, _ = both("retain_grad_of_a_non_leaf")
    step = next(
        s for s in snapshot.passes[0].steps if snapshot.graph.nodes[s.node].get("name") == "h"
    )
    np.testing.assert_array_equal(values(step.grad_in[0]), [3.0, 3.0, 3.0])
    assert texts(snapshot) == ["tensor([3., 3., 3.])"]


# -- fidelity -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "kept"),
    [
        ("create_graph=True, retain_graph=False", False),
        ("create_graph=True", True),
        ("retain_graph=True", True),
        ("", False),
    ],
)
def test_retain_graph_is_what_pytorch_makes_of_it(arguments: str, kept: bool) -> None:
    snapshot = run_ok(_LEAVES + f"y = (x * w).sum()\ny.backward({arguments})\n")
    assert snapshot.passes[0].retain_graph is kept
    assert snapshot.to_dict()["backward"][0]["retain_graph"] is kept


def test_sparse_gradients_are_exported_with_their_values() -> None:
    text = "emb = nn.Embedding(5, 3, sparse=True)\nemb(torch.tensor([1, 1, 3])).sum().backward()\n"
    snapshot = run_ok(text)
    torch.manual_seed(0)
    plain = {"torch": torch, "nn": nn}
    exec(text, plain)
    expected = plain_grad(PlainRun(plain), "emb.weight")
    assert expected is not None and expected.is_sparse
    exported = snapshot.to_dict()["grads"]["emb.weight"]
    assert exported["sparse"] is True
    np.testing.assert_array_equal(exported["values"], expected.to_dense().numpy())


def test_a_large_sparse_gradient_is_summarised_like_a_dense_one() -> None:
    snapshot = run_ok(
        "emb = nn.Embedding(5000, 3, sparse=True)\nemb(torch.tensor([1, 1, 3])).sum().backward()\n"
    )
    exported = snapshot.to_dict()["grads"]["emb.weight"]
    assert exported["sparse"] is True and "values" not in exported
    assert exported["max"] == 2.0 and exported["head"][3:6] == [2.0, 2.0, 2.0]


# -- the export and the view ----------------------------------------------------------------
def test_export_writes_roots_and_a_gradient_per_root(tmp_path: Path) -> None:
    source = tmp_path / "roots.py"
    source.write_text(CASES["backward_of_several_roots"], encoding="utf-8")
    out = tmp_path / "roots.json"
    command = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (one_pass,) = json.loads(out.read_text(encoding="utf-8"))["backward"]
    assert "root" not in one_pass
    nodes = {n["id"]: n for n in json.loads(out.read_text(encoding="utf-8"))["graph"]["nodes"]}
    assert [nodes[r]["name"] for r in one_pass["roots"]] == ["a", "b"]
    assert one_pass["gradient"][0] is None
    assert one_pass["gradient"][1]["values"] == [1.0, 2.0, 3.0]


def test_a_grad_pass_exports_its_results() -> None:
    snapshot, _ = both("grad_of_several_roots")
    exported = snapshot.to_dict()["backward"][0]
    assert len(exported["roots"]) == 2 and exported["gradient"][0]["values"] == 2.0
    assert [r["node"] for r in exported["results"]] == [
        r.node for r in snapshot.passes[0].results or []
    ]
    assert exported["results"][1]["grad"]["values"] == [1.0, -2.0, 4.0]  # d(2a + b)/dw = 2x


def test_every_root_is_lit_at_the_first_step_and_unlit_after() -> None:
    snapshot, _ = both("backward_of_several_roots")
    replay = Replay(snapshot)
    roots = set(snapshot.passes[0].root_ids())
    first = replay.view(Cursor(0, 0))
    assert first.roots == roots and first.active in roots
    assert {card_outline(n, first, None) for n in roots} == {"running"}
    later = replay.view(Cursor(0, 2))
    assert not later.roots
    assert roots <= (moved_cards(replay, Cursor(0, 0), Cursor(0, 2), None, later.active) or set())


# -- refusals and limits --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("torch.autograd.grad(y, x, is_grads_batched=True)", "is_grads_batched=True"),
        ("torch.autograd.grad(y, 'cpu')", "a device (cpu)"),
        ("torch.autograd.backward(y, inputs=['cpu'])", "a device (cpu)"),
        ("torch.autograd.grad(y, [1, 2])", "inputs must be a tensor"),
        ("torch.autograd.grad(y, x, only_inputs=True)", "unexpected keyword"),
        ("torch.autograd.backward([y, y], [None])", "1 gradients for 2 tensors"),
    ],
)
def test_refusals_name_line_and_column(call: str, message: str) -> None:
    snapshot = run_script(_LEAVES + "y = (x * w).sum()\nz = 1 + " + call + "\n")
    problem = snapshot.problem
    assert problem is not None and message in problem.message, problem
    assert (problem.line, problem.column) == (4, 9)
    assert not snapshot.passes


def test_every_kind_of_pass_counts_against_the_limit() -> None:
    script = (
        _LEAVES
        + "y = (x * w).sum()\n"
        + (
            "torch.autograd.grad(y, x, retain_graph=True)\n"
            "torch.autograd.backward(y, retain_graph=True)\n"
            "y.backward(retain_graph=True, inputs=[x])\n"
        )
    )
    assert run_script(script, Limits(max_passes=3)).problem is None
    problem = run_script(script + "torch.autograd.grad(y, w)\n", Limits(max_passes=3)).problem
    assert problem is not None and "more than 3 backward passes" in problem.message


def test_the_window_outlines_every_root_at_the_first_step(qtbot) -> None:
    from tests.helpers import graph_view

    snapshot, _ = both("backward_of_several_roots")
    model, view = graph_view(qtbot, snapshot)
    geo = view._styler.geo
    roots = snapshot.passes[0].root_ids()
    running = model.theme.active.lower()
    model.move_to(Cursor(0, 0))
    assert [view.layers.nodes.look(geo.index[r])[1] for r in roots] == [running, running]
    model.move_to(Cursor(0, 2))
    outlines = [view.layers.nodes.look(geo.index[r])[1] for r in roots]
    assert outlines.count(running) <= 1  # only a root still running keeps the outline
