"""The real window on private settings, for scripts that drive it (benchmarks, screenshots)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from explorer.ui.main import make_app


def wait_for(signal: Any, ms: int = 120_000) -> None:
    """Run the event loop until signal fires (or ms pass)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settle(ms: int = 300) -> None:
    """Let pending paints and timers run for ms."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


@contextmanager
def open_window(width: int = 1500, height: int = 900, trust: bool = False) -> Iterator[Any]:
    """A shown MainWindow with a fresh worker, its first run done; closed and stopped after.

    trust: model files are opened without asking (the caller chose them).
    """
    make_app()
    from explorer.ui.window.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge

    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        worker = WorkerBridge()
        window = MainWindow(
            worker, settings, ask_restore=lambda: False, ask_trust=lambda path: trust
        )
        window.resize(width, height)
        window.show()
        wait_for(window.model.snapshot_changed)
        try:
            yield window
        finally:
            window.document.set_modified(False)
            window.close()
            worker.stop()
