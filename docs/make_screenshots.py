"""Write the README's screenshots: the window mid-backward, light and dark.

Run it under a display, such as a virtual one:
    xvfb-run -s "-screen 0 1600x1000x24" python docs/make_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from explorer.ui.main import make_app  # noqa: E402

SCRIPT = """\
# The chain rule, as in the gradient-descent notes
x = torch.full((2,3), 4., requires_grad=True)
w = torch.tensor(0.5, requires_grad=True)
y = 2*x**2 + 3
loss = (w * y).mean()
loss.backward()
x.grad
"""


def wait_for(signal, ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settle(app, ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def main() -> None:
    app = make_app()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    from explorer.ui.main_window import MainWindow
    from explorer.ui.worker_bridge import WorkerBridge

    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        worker = WorkerBridge()
        window = MainWindow(worker, settings, ask_restore=lambda: False)
        window.resize(1500, 900)
        window.show()
        wait_for(window.model.snapshot_changed)
        window.editor.setPlainText(SCRIPT)
        window.document.set_modified(False)
        window.run_script()
        wait_for(window.model.snapshot_changed)
        for theme in ("light", "dark"):
            window.set_theme(theme)
            window.model.to_start()
            for _ in range(4):
                window.model.step_forward()
            window.graph.fit()
            settle(app)
            window.grab().save(str(out / f"window-{theme}.png"))
            print("wrote", out / f"window-{theme}.png")
        window.close()
        worker.stop()


if __name__ == "__main__":
    main()
