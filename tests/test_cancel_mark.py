"""A run cancelled while it runs leaves the graph before it on screen, marked as not current."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.ui.graph.view import STALE_TEXT
from explorer.ui.window.main_window import MainWindow
from tests.helpers import run

NOTES = "x = torch.full((2,3), 4., requires_grad=True)\ny = (2*x**2+3)\n"
DATA = "w = torch.tensor(0.5, requires_grad=True)\nloss = (w * 3) ** 2\n"
LONG = "a = torch.randn(64, 64)\nfor i in range(100000):\n    b = a @ a @ a\n"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the worker tests need Linux")
@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_a_cancelled_run_leaves_the_old_graph_marked_until_the_next_run(
    qtbot, window: MainWindow
) -> None:
    mark = window.graph.stale_mark
    run(qtbot, window, NOTES)
    shown = window.model.snapshot
    assert mark.isHidden()
    window.editor.setPlainText(LONG)
    window.run_action.trigger()
    assert window.model.running
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.model.running, timeout=5000)
    assert window.model.snapshot is shown  # the old graph stays on screen
    assert not mark.isHidden() and mark.text() == STALE_TEXT
    assert mark.y() < window.graph.height() // 4  # over the top of the graph
    run(qtbot, window, DATA)
    assert mark.isHidden()
