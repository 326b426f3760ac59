"""Test settings: Qt draws offscreen, so the suite needs no display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


WAIT_MS = 90_000  # the worker imports torch on a slow machine


@pytest.fixture
def window(qtbot, tmp_path: Path):
    """The real window with a worker of its own and private settings, its first run done.

    Closed with no unsaved-changes question; a test never registers it with qtbot.addWidget,
    whose close would ask.
    """
    from PySide6.QtCore import QSettings

    from explorer.ui.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    worker = WorkerBridge()
    win = MainWindow(worker, settings, ask_restore=lambda: False)
    win.show()
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        pass
    yield win
    win.document.set_modified(False)
    win.close()
    worker.stop()
