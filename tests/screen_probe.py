"""Opens the window on the screen the environment describes and prints where it landed.

Run in a process of its own (`python -m tests.screen_probe SETTINGS_FILE`), since a process
has one set of screens: the offscreen platform reads them from a configuration file
(`QT_QPA_PLATFORM=offscreen:configfile=screens.json`), and QT_SCALE_FACTOR scales them.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication

from explorer.ui.main import make_app


def rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def measure(settings_file: str) -> dict:
    app = make_app()
    from explorer.ui.window.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge

    worker = WorkerBridge()
    settings = QSettings(settings_file, QSettings.Format.IniFormat)
    window = MainWindow(worker, settings, ask_restore=lambda: False)
    window.show()
    for _ in range(30):  # laid out, and fitted once shown
        app.processEvents()
    docks = {
        name: rect(dock.geometry().translated(window.geometry().topLeft()))
        for name, dock in window.docks.items()
        if dock.isVisible() and not dock.visibleRegion().isEmpty()
    }
    measured = {
        "available": rect(window.screen().availableGeometry()),
        "frame": rect(window.frameGeometry()),
        "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
        "docks": docks,
        "tabbed": [d.objectName() for d in window.tabifiedDockWidgets(window.docks["inspector"])],
        "graph": [window.graph.width(), window.graph.height()],
    }
    window.document.set_modified(False)
    window.close()  # saves the geometry, as a user's closing does
    settings.sync()
    worker.stop()
    QApplication.processEvents()
    return measured


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
