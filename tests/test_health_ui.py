"""The window marks where a pass's first NaN started, goes there, and says why."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction

from explorer.ui.panels.inspector import withheld_run
from explorer.ui.window.main_window import NO_NONFINITE, MainWindow
from explorer.view import grad_scale, step_style
from tests.helpers import run

WHERE_TRAP = (
    "x = torch.tensor([0., 1., 4.], requires_grad=True)\n"
    "y = torch.where(x > 0, torch.sqrt(x), 0.)\n"
    "y.sum().backward()\n"
)
FINITE = "x = torch.tensor([1., 4.], requires_grad=True)\ntorch.sqrt(x).sum().backward()\n"


def _go_to_nan(window: MainWindow) -> QAction:
    (view,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&View"]
    (item,) = [a for a in view.actions() if a.text() == "Go to the First &NaN"]
    return item


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_go_to_the_first_nan_steps_there_selects_it_and_the_inspector_says_why(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, WHERE_TRAP)
    model = window.model
    steps = model.snapshot.passes[0].steps
    sqrt = next(s.node for s in steps if model.snapshot.graph.nodes[s.node].op == "SqrtBackward0")
    assert model.step_view().nonfinite is None  # before the step that makes it
    _go_to_nan(window).trigger()
    assert model.selected == sqrt
    assert steps[model.cursor.step_index].node == sqrt
    qtbot.waitUntil(lambda: "NaN starts here" in window.inspector.toPlainText())
    assert "torch.where trap" in window.inspector.toPlainText()
    model.step_forward()
    model.select(None)
    assert step_style.card_outline(sqrt, model.step_view(), None) == "nonfinite"
    model.to_start()
    assert step_style.card_outline(sqrt, model.step_view(), None) == "normal"


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_with_no_nan_the_action_says_so_and_moves_nothing(qtbot, window: MainWindow) -> None:
    run(qtbot, window, FINITE)
    before = window.model.cursor
    _go_to_nan(window).trigger()
    assert window.model.cursor == before
    assert window.statusBar().currentMessage() == NO_NONFINITE


SIZES = (
    "w = torch.tensor([1., 2.], requires_grad=True)\n"
    "a = w * 1000.\n"
    "b = a * 1e-6\n"
    "b.sum().backward()\n"
)


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_colour_by_gradient_size_fills_each_card_that_ran_by_its_gradients_norm(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, SIZES)
    model, graph = window.model, window.graph
    snapshot = model.snapshot
    by_label = {a.name or a.label: n for n, a in snapshot.graph.nodes(data=True)}
    model.to_end()
    ran_fill = graph.card_look(by_label["w"])[0]
    window.lens_action.trigger()
    assert model.grad_lens and "‖grad‖ arrived" in window.legend.text()
    norms, scale = model.replay.grad_norms(0)
    looks = {label: graph.card_look(node)[0] for label, node in by_label.items()}
    for label, node in by_label.items():
        assert looks[label] == grad_scale.fill(norms[node], scale, model.theme), label
    assert looks["w"] != ran_fill  # the lens, not the step colours
    assert looks["w"] != looks["b"]  # 1e-3 √2 and √2 are three decades apart
    # the edges that carried gradient are drawn in their size's colour, small and large apart
    sized = [item.chosen() for item in graph.layers.sized]
    used = [k for k, mask in enumerate(sized) if mask is not None and mask.any()]
    assert len(used) >= 2
    assert sum(int(sized[k].sum()) for k in used) == len(graph.lit_edges())
    model.to_start()  # nothing has run: no card is coloured by size
    assert graph.card_look(by_label["w"])[0] == model.theme.leaf
    window.lens_action.trigger()
    model.to_end()
    assert graph.card_look(by_label["w"])[0] == ran_fill
    assert "‖grad‖ arrived" not in window.legend.text()


BIG_TRAP = (
    "x = torch.tensor([0., 1., 4., 9., 0., 16., 25., 36.], requires_grad=True)\n"
    "y = torch.where(x > 0, torch.sqrt(x), 0.)\n"
    "y.sum().backward()\n"
)


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_the_cause_is_named_though_the_saved_tensors_stayed_in_the_worker(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, BIG_TRAP)
    graph = window.model.snapshot.graph
    (sqrt,) = [n for n, a in graph.nodes(data=True) if a.op == "SqrtBackward0"]
    assert withheld_run(graph.nodes[sqrt].saved) is not None  # 8 values: left in the worker
    _go_to_nan(window).trigger()
    qtbot.waitUntil(lambda: "NaN starts here" in window.inspector.toPlainText())
    assert "sqrt at 0" in window.inspector.toPlainText()
