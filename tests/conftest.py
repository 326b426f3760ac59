"""Test settings: Qt draws offscreen, so the suite needs no display."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shiboken6
from PySide6.QtCore import QSettings

from explorer.ui.window.main_window import MainWindow
from explorer.ui.worker_bridge import WorkerBridge
from explorer.worker.client import DEFAULT_MEMORY_MB

WAIT_MS = 90_000  # the worker imports torch on a slow machine


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
        worker = WorkerBridge(memory_mb=memory_mb)
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


@pytest.fixture
def windows(qtbot, tmp_path: Path) -> Iterator[Windows]:
    made = Windows(qtbot, tmp_path / "settings.ini")
    yield made
    made.close_all()


@pytest.fixture
def window(windows: Windows) -> MainWindow:
    """The real window with a worker of its own and private settings, its first run done.

    Closed with no unsaved-changes question; a test never registers it with qtbot.addWidget,
    whose close would ask.
    """
    return windows.open()
