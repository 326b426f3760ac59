"""Each backward step's duration, timed between the engine's hooks around the node."""

from __future__ import annotations

import math

import pytest

from explorer.runs.session import run_script
from explorer.ui.window.main_window import MainWindow
from explorer.view import grad_scale
from tests.helpers import run

HEAVY = (
    "a = torch.randn(600, 600, requires_grad=True)\n"
    "b = torch.randn(600, 600)\n"
    "y = (a @ b).tanh().sum()\n"
    "y.backward()\n"
)


def test_every_step_is_timed_and_the_matrix_product_takes_longest() -> None:
    ops: dict[str, float] = {}
    for _ in range(3):  # each op's fastest of three: another process may take the core a while
        snapshot = run_script(HEAVY)
        steps = snapshot.passes[0].steps
        assert all(s.seconds is not None and s.seconds > 0 for s in steps)
        for s in steps:
            op = snapshot.graph.nodes[s.node].op
            ops[op] = min(ops.get(op, math.inf), s.seconds)
    # two 600×600 products against elementwise work on the same elements
    assert max(ops, key=ops.get) == "MmBackward0"


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_colour_by_time_per_step_fills_the_cards_that_ran(qtbot, window: MainWindow) -> None:
    run(qtbot, window, HEAVY)
    model, graph = window.model, window.graph
    model.to_end()
    window.time_action.trigger()
    assert model.time_lens and "time per step" in window.legend.text()
    seconds, scale = model.replay.step_seconds(0)
    for node, took in seconds.items():
        assert graph.card_look(node)[0] == grad_scale.fill(took, scale, model.theme)
    mm = next(n for n, a in model.snapshot.graph.nodes(data=True) if a.op == "MmBackward0")
    model.select(mm)
    qtbot.waitUntil(lambda: "its step took" in window.inspector.toPlainText())
    window.memory_action.trigger()  # one colouring at a time
    assert model.memory_lens and not window.time_action.isChecked()
