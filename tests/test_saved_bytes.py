"""Memory held for backward: each node's saved storages and the graph's, as PyTorch's own
saved-tensor hooks see them."""

from __future__ import annotations

import pytest
import torch

from explorer.runs.session import run_script
from explorer.ui.window.main_window import MainWindow
from explorer.view import grad_scale, labels
from tests.helpers import run

SCRIPTS = [
    "x = torch.randn(64, 32, requires_grad=True)\ny = (x.exp() * x).sum()\n",
    "w = torch.randn(32, 16, requires_grad=True)\nx = torch.randn(8, 32)\n"
    "h = torch.tanh(x @ w)\nloss = (h ** 2).mean()\n",
    "x = torch.randn(10, 10, requires_grad=True)\nv = x[2:5]\n"
    "y = (v * v).sum() + x.sigmoid().sum()\n",
]


def _held_by_hooks(script: str) -> int:
    """The bytes of every distinct storage PyTorch saved for backward while script ran."""
    storages: dict[tuple[int, int], int] = {}
    kept: list[torch.Tensor] = []  # alive until counted, so no address is reused

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr(), storage.nbytes()] = storage.nbytes()
        kept.append(tensor)
        return tensor

    torch.manual_seed(0)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        exec(script, {"torch": torch})
    return sum(storages.values())


def test_the_graphs_total_is_what_the_saved_tensor_hooks_saw() -> None:
    for script in SCRIPTS:
        snapshot = run_script("torch.manual_seed(0)\n" + script)
        assert snapshot.problem is None
        assert snapshot.graph.graph["saved_bytes"] == _held_by_hooks(script), script


def test_each_node_counts_a_storage_it_saved_twice_once() -> None:
    snapshot = run_script("x = torch.randn(100, requires_grad=True)\ny = (x * x).sum()\n")
    (mul,) = [a for _, a in snapshot.graph.nodes(data=True) if a.op == "MulBackward0"]
    assert mul.saved_bytes == 100 * 4  # self and other are one storage
    written = snapshot.to_dict()
    assert written["graph"]["saved_bytes"] == 400
    (node,) = [n for n in written["graph"]["nodes"] if n["op"] == "MulBackward0"]
    assert node["saved_bytes"] == 400


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_the_inspector_and_the_memory_lens_show_what_is_held(qtbot, window: MainWindow) -> None:
    run(qtbot, window, "x = torch.randn(256, 64, requires_grad=True)\ny = (x.exp() * x).sum()\n")
    model, graph = window.model, window.graph
    total = model.snapshot.graph.graph["saved_bytes"]
    assert total == 2 * 256 * 64 * 4  # x, and exp's result
    model.select(None)
    qtbot.waitUntil(lambda: "Held for backward" in window.inspector.toPlainText())
    text = window.inspector.toPlainText()
    assert labels.byte_text(total) in text and "mul" in text and "exp" in text
    nodes = dict(model.snapshot.graph.nodes(data=True))
    mul = next(n for n, a in nodes.items() if a.op == "MulBackward0")
    leaf = next(n for n, a in nodes.items() if a.kind == "leaf")
    model.select(mul)
    qtbot.waitUntil(lambda: "until backward frees it" in window.inspector.toPlainText())
    assert labels.byte_text(nodes[mul].saved_bytes) in window.inspector.toPlainText()
    before = graph.card_look(mul)[0]
    window.memory_action.trigger()
    assert model.memory_lens and "held for backward" in window.legend.text()
    scale = model.memory_scale()
    assert graph.card_look(mul)[0] == grad_scale.fill(
        float(nodes[mul].saved_bytes), scale, model.theme
    )
    assert graph.card_look(mul)[0] != before
    assert graph.card_look(leaf)[0] == model.theme.leaf  # holds nothing: its own colour
    window.lens_action.trigger()  # one colouring at a time
    assert model.grad_lens and not model.memory_lens and not window.memory_action.isChecked()


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_before_any_pass_no_edge_is_drawn_as_having_carried_gradient(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, "x = torch.randn(3, requires_grad=True)\ny = (x * x).sum()\n")
    assert window.model.pass_count == 0
    layers = window.graph.layers
    for item in (layers.flow_before, layers.flow, layers.active_edges, *layers.sized):
        assert item.chosen() is not None and not item.chosen().any()


def test_sizes_read_in_decimal_units() -> None:
    assert [labels.byte_text(n) for n in (400, 1000, 10_000, 97_700, 12_000_000)] == [
        "400 B", "1 kB", "10 kB", "97.7 kB", "12 MB",
    ]  # fmt: skip
