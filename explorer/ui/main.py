"""Start the window: the application object, settings, the worker, and the main window."""

from __future__ import annotations

import ctypes.util
import os
import pickle
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


# Qt's X11 plugin needs these system libraries; without them Qt aborts the process.
X11_LIBRARIES = ("xcb-cursor", "xcb-icccm", "xcb-keysyms", "xkbcommon-x11")


def missing_display_libraries() -> list[str]:
    """System libraries Qt needs for an X11 window that this machine lacks."""
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("WAYLAND_DISPLAY"):
        return []
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return []
    return [name for name in X11_LIBRARIES if ctypes.util.find_library(name) is None]


def run_window(script: str | None = None, recording: bytes | None = None) -> int:
    """Open the window (with script, if given, or a recording from explorer.record()'s
    Recording.show()) and run until it closes."""
    missing = missing_display_libraries()
    if missing:
        names = ", ".join(f"lib{name}" for name in missing)
        print(
            f"error: Qt needs the system libraries {names} to open a window here; install them "
            "with your package manager (on Debian or Ubuntu: apt-get install libxcb-cursor0 "
            "libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0)",
            file=sys.stderr,
        )
        return 1
    app = make_app()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    from explorer.ui.window.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge
    from explorer.worker.client import DEFAULT_MEMORY_MB

    settings = QSettings()
    memory = settings.value("worker/memory_mb", DEFAULT_MEMORY_MB, type=int)
    worker = WorkerBridge(memory_mb=memory)
    window = MainWindow(worker, settings)
    if script:
        window.open_path(Path(script))
    if recording is not None:
        # Written by Recording.show() in the user's own process, for this process alone.
        snapshot, origin = pickle.loads(recording)
        window.show_recording(snapshot, origin)
    window.show()
    try:
        return app.exec()
    finally:
        worker.stop()
