"""The window on small and scaled screens, the stepper's caption, the status bar's counts, and
presenter mode's reading sizes."""

from __future__ import annotations

from explorer.ui.window.main_window import MainWindow
from explorer.ui.window.runner import counted
from tests.helpers import NOTES, run


def test_counts_agree_with_their_nouns() -> None:
    assert counted(1, "backward pass", "backward passes") == "1 backward pass"
    assert counted(2, "backward pass", "backward passes") == "2 backward passes"
    assert counted(0, "edge", "edges") == "0 edges"
    assert counted(1_500, "node", "nodes") == "1,500 nodes"


def test_the_status_bar_says_one_backward_pass_and_one_node(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)  # one backward pass
    message = window.statusBar().currentMessage()
    assert message.endswith(" · 1 backward pass"), message
    run(qtbot, window, "x = torch.ones(2, requires_grad=True)\n")  # a lone leaf
    message = window.statusBar().currentMessage()
    assert message.endswith(" · 1 node · 0 edges · 0 backward passes"), message
    run(qtbot, window, NOTES + "y.backward(torch.ones_like(x))\n")
    assert window.statusBar().currentMessage().endswith(" · 2 backward passes")
