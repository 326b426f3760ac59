"""The window on small and scaled screens, the stepper's caption, the status bar's counts, and
presenter mode's reading sizes."""

from __future__ import annotations

from explorer.ui.model import ExplorerModel
from explorer.ui.panels.stepper import StepperBar
from explorer.ui.window.main_window import MainWindow
from explorer.ui.window.runner import counted
from explorer.view.replay import Cursor
from tests.helpers import NOTES, run, run_ok


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


# -- the stepper's caption ----------------------------------------------------------------
def test_the_step_caption_has_its_own_row_clear_of_the_speed_box(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES + "z = x * 2\n")
    window.resize(1024, 600)  # a small screen's window: the graph's column is narrow
    window.model.step_forward()
    qtbot.wait(50)
    stepper = window.stepper
    caption, speed = stepper.caption, stepper.speed
    assert caption.text() == stepper.caption_text() and caption.text().startswith("Step 1 of ")
    assert caption.geometry().bottom() < speed.geometry().top()  # above the controls
    assert not caption.is_elided() and caption.shown_text() == caption.text()


def test_a_caption_too_long_for_a_narrow_bar_ends_in_an_ellipsis(qtbot) -> None:
    snapshot = run_ok(
        "x = torch.ones(3, requires_grad=True)\nt = torch.zeros(3)\n"
        "loss = F.binary_cross_entropy_with_logits(x, t)\nloss.backward()\n"
    )
    model = ExplorerModel()
    bar = StepperBar(model)
    qtbot.addWidget(bar)
    model.set_snapshot(snapshot, Cursor(0, 0))
    bar.resize(bar.minimumSizeHint().width(), 60)  # as in a window at its narrowest
    bar.show()
    qtbot.wait(20)
    whole = bar.caption_text()
    assert whole.endswith("runs BinaryCrossEntropyWithLogitsBackward0")
    assert bar.caption.text() == whole and bar.caption.toolTip() == whole
    assert bar.caption.is_elided() and bar.caption.shown_text().endswith("…")
    assert bar.caption.shown_text()[:-1] in whole
    bar.resize(1400, 60)
    qtbot.wait(20)
    assert not bar.caption.is_elided() and bar.caption.shown_text() == whole
