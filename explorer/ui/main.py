"""Start the window: the application object, settings, the worker, and the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from explorer import __version__

ORGANIZATION = "AutogradExplorer"
APPLICATION = "Autograd Explorer"


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    return app


def run_window(script: str | None = None) -> int:
    """Open the window (with script, if given) and run until it closes."""
    app = make_app()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    from explorer.ui.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge
    from explorer.worker.client import DEFAULT_MEMORY_MB

    settings = QSettings()
    memory = settings.value("worker/memory_mb", DEFAULT_MEMORY_MB, type=int)
    worker = WorkerBridge(memory_mb=memory)
    window = MainWindow(worker, settings)
    if script:
        window.open_path(Path(script))
    window.show()
    try:
        return app.exec()
    finally:
        worker.stop()
