"""The Gradient Flow pane's rows: gradient size per module call and per parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.runs.session import run_script
from explorer.ui.window.main_window import MainWindow
from explorer.view.calls import CallTree
from explorer.view.grad_flow import flow_rows
from explorer.view.replay import Replay
from tests.helpers import run

MODEL = (
    "torch.manual_seed(0)\n"
    "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "x = torch.randn(5, 3)\n"
    "loss = model(x).pow(2).mean()\n"
    "loss.backward()\n"
)


def _plain_model() -> torch.nn.Module:
    namespace: dict = {"torch": torch, "nn": torch.nn}
    exec(MODEL, namespace)
    return namespace["model"]


def test_rows_follow_the_module_tree_with_each_parameter_under_its_call() -> None:
    snapshot = run_script(MODEL)
    tree, replay = CallTree(snapshot), Replay(snapshot)
    rows = flow_rows(tree, replay, 0)
    assert [r.key for r in rows if r.is_call] == ["model", "model.0", "model.1", "model.2"]
    by_label = {r.label: r for r in rows}
    for name in ("model.0.weight", "model.0.bias"):
        assert by_label[name].parent == "model.0"
        assert rows.index(by_label[name]) > rows.index(by_label["0"])
    plain = _plain_model()
    for name, parameter in plain.named_parameters():
        row = by_label[f"model.{name}"]
        grad, weight = float(parameter.grad.norm()), float(parameter.detach().norm())
        assert row.grad == pytest.approx(grad, rel=1e-6)
        assert row.ratio == pytest.approx(grad / weight, rel=1e-5)


def test_a_calls_mean_and_largest_are_of_the_gradients_that_arrived_at_its_nodes() -> None:
    snapshot = run_script(MODEL)
    tree, replay = CallTree(snapshot), Replay(snapshot)
    norms, _ = replay.grad_norms(0)
    (layer,) = [r for r in flow_rows(tree, replay, 0) if r.key == "model.2"]
    inside = [norms[n] for n, chain in tree.chain_of.items() if "model.2" in chain and n in norms]
    assert len(inside) >= 3  # addmm, the transpose, the weight and the bias
    assert layer.largest == max(inside)
    assert layer.mean == pytest.approx(np.mean(inside))


def test_a_script_without_modules_lists_its_leaves() -> None:
    snapshot = run_script(
        "w = torch.tensor([3., 4.], requires_grad=True)\n(w * w).sum().backward()\n"
    )
    (row,) = flow_rows(CallTree(snapshot), Replay(snapshot), 0)
    assert (row.label, row.parent, row.is_call) == ("w", None, False)
    assert row.grad == pytest.approx(10.0) and row.ratio == pytest.approx(2.0)
    assert math.isclose(row.weight, 5.0)


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_the_pane_shows_the_rows_and_a_parameter_row_selects_its_node(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, MODEL)
    pane = window.grad_flow
    assert [r.label for r in pane.rows if r.is_call] == ["model", "0", "1", "2"]
    assert pane.topLevelItemCount() == 1
    top = pane.topLevelItem(0)
    first_layer = top.child(0)
    assert first_layer.text(0) == "0"
    names = [first_layer.child(k).text(0) for k in range(first_layer.childCount())]
    assert names == ["model.0.bias", "model.0.weight"]
    pane.itemClicked.emit(first_layer.child(1), 0)
    selected = window.model.selected
    assert window.model.snapshot.graph.nodes[selected].name == "model.0.weight"
