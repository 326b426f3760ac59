"""Shared helpers for tests: run a script through the whole pipeline, or drive the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QSettings, Qt

from explorer.data.snapshot import Snapshot, TensorSummary
from explorer.runs.session import Session, run_script
from explorer.ui.window.main_window import MainWindow
from explorer.ui.worker_bridge import WorkerBridge
from explorer.worker.client import DEFAULT_MEMORY_MB

WAIT_MS = 90_000  # the worker imports torch on a slow machine

# The notes' chain rule example: y = 2x² + 3, so x.grad is 4x = 16 everywhere.
NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\n"
    "y = 2*x**2+3\n"
    "y.backward(torch.ones_like(x))\n"
    "x.grad\n"
)


def run_ok(text: str) -> Snapshot:
    """Run text and fail the test with the script's own message if it reported a problem."""
    snapshot = run_script(text)
    assert snapshot.problem is None, snapshot.problem
    return snapshot


def session_ok(text: str) -> tuple[Session, Snapshot]:
    session = Session(text)
    snapshot = session.run()
    assert snapshot.problem is None, snapshot.problem
    return session, snapshot


def values(summary: TensorSummary | None) -> np.ndarray:
    assert summary is not None and summary.values is not None
    return summary.values


def texts(snapshot: Snapshot) -> list[str]:
    return [o.text for o in snapshot.outputs]


def graph_view(qtbot, snapshot: Snapshot) -> tuple[Any, Any]:
    """An ExplorerModel showing snapshot, and a GraphView of it on screen (900 × 700)."""
    from explorer.ui.graph.view import GraphView
    from explorer.ui.model import ExplorerModel

    model = ExplorerModel()
    view = GraphView(model)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    model.set_snapshot(snapshot)
    return model, view


def run(qtbot, win: MainWindow, text: str) -> None:
    """Type text into the window's editor and run it with Ctrl+Return, as a user does."""
    win.editor.setPlainText(text)
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        qtbot.keyClick(win.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


class SpareWorker:
    """Starts each window's worker one window ahead, so that its torch import overlaps the test
    before instead of holding up the window that takes it."""

    def __init__(self) -> None:
        self._spare: WorkerBridge | None = None

    def take(self, memory_mb: int) -> WorkerBridge:
        """A started worker of memory_mb, and a new spare of the default size started behind it."""
        if memory_mb != DEFAULT_MEMORY_MB:
            return WorkerBridge(memory_mb=memory_mb)
        worker, self._spare = self._spare, None
        if worker is None:
            worker = WorkerBridge(memory_mb=memory_mb)
        self._spare = WorkerBridge(memory_mb=memory_mb)
        return worker

    def stop(self) -> None:
        if self._spare is not None:
            self._spare.stop()
            self._spare = None


SPARE_WORKER = SpareWorker()


class Windows:
    """Opens windows on one settings file, and closes them and their workers afterwards."""

    def __init__(self, qtbot, settings_file: Path) -> None:
        self.qtbot = qtbot
        self.settings_file = settings_file
        self.made: list[tuple[MainWindow, WorkerBridge]] = []

    def settings(self) -> QSettings:
        return QSettings(str(self.settings_file), QSettings.Format.IniFormat)

    def open(
        self, ask_restore: Callable[[], bool] = lambda: False, memory_mb: int = DEFAULT_MEMORY_MB
    ) -> MainWindow:
        worker = SPARE_WORKER.take(memory_mb)
        win = MainWindow(worker, self.settings(), ask_restore=ask_restore)
        self.made.append((win, worker))
        win.show()
        with self.qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
            pass  # the first run, of the restored or example script
        return win

    def drop(self, win: MainWindow) -> None:
        """End a window as a crash would: no close event, so no end of session."""
        win.hide()
        win.worker.stop()
        shiboken6.delete(win)

    def close_all(self) -> None:
        for win, worker in self.made:
            if shiboken6.isValid(win) and win.isVisible():
                win.document.set_modified(False)  # no "unsaved changes" dialog
                win.close()
            worker.stop()
