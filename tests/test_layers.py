"""The layer contract, by folder: Qt only in `ui/`, torch never in `ui/`, `view/`, `data/` or
`page/`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
QT = {"PySide6", "pyqtgraph", "shiboken6"}
TORCH = {"torch"}

# Every folder of the package and what it must never import. The torch side may import torch;
# the window side may import Qt; the plain data, the view logic and the layout import neither.
CONTRACT: dict[str, set[str]] = {
    "lang": QT,
    "graph": QT,
    "layout": QT | TORCH,
    "runs": QT,
    "data": QT | TORCH,
    "view": QT | TORCH,
    "lessons": QT | TORCH,
    "page": QT | TORCH,
    "worker": QT,
    "ui": TORCH,
}


def _imports(path: Path) -> set[str]:
    """The top-level packages a module imports anywhere, in functions too."""
    return _imports_of(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def _imports_of(nodes: Iterable[ast.AST]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_every_folder_of_the_package_is_under_the_contract() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(CONTRACT)


@pytest.mark.parametrize("folder", sorted(CONTRACT))
def test_a_folder_never_imports_what_its_side_must_not(folder: str) -> None:
    modules = sorted((PACKAGE / folder).rglob("*.py"))
    assert modules
    for module in modules:
        crossing = _imports(module) & CONTRACT[folder]
        assert not crossing, f"{module.relative_to(PACKAGE.parent)} imports {sorted(crossing)}"


def test_the_loose_modules_import_neither_qt_nor_torch() -> None:
    # app.py picks a side at run time, inside its functions; the rest are shared by both sides.
    for module in sorted(PACKAGE.glob("*.py")):
        top_level = ast.parse(module.read_text(encoding="utf-8")).body
        names = _imports_of(top_level)
        assert not names & (QT | TORCH), module.name


def _loaded(code: str, **env: str) -> set[str]:
    """The top-level packages among QT | TORCH that a fresh interpreter has loaded after code."""
    script = code + (
        "\nimport sys\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules}"
        f" & set({sorted(QT | TORCH)!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, **env),
        timeout=180,
    )
    return set(out.stdout.split())


def test_the_torch_side_loads_no_qt_at_run_time() -> None:
    code = (
        "import explorer.runs.session, explorer.runs.model_file, explorer.runs.descent\n"
        "import explorer.runs.gradcheck, explorer.worker.serve, explorer.data.export\n"
        "from explorer.runs.session import run_script\n"
        "run_script('x = torch.ones(2, requires_grad=True)\\n(x * 2).sum().backward()')\n"
    )
    assert not _loaded(code) & QT


def test_the_plain_data_and_view_logic_load_neither_side() -> None:
    code = "\n".join(
        f"import explorer.{folder}.{module.stem}"
        for folder in ("data", "view", "layout", "lessons")
        for module in sorted((PACKAGE / folder).glob("*.py"))
        if module.stem != "__init__"
    )
    assert _loaded(code) == set()


def test_the_window_process_never_loads_torch_after_a_real_run() -> None:
    # A real window, a real worker, a run and a backward step: torch stays in the worker.
    code = textwrap.dedent(
        """
        import tempfile
        from PySide6.QtCore import QEventLoop, QSettings, QTimer
        from explorer.ui.main import make_app
        from explorer.ui.window.main_window import MainWindow
        from explorer.ui.worker_bridge import WorkerBridge

        def wait(signal):
            loop = QEventLoop()
            signal.connect(loop.quit)
            QTimer.singleShot(120_000, loop.quit)
            loop.exec()

        app = make_app()
        folder = tempfile.mkdtemp()
        settings = QSettings(folder + "/settings.ini", QSettings.Format.IniFormat)
        worker = WorkerBridge()
        win = MainWindow(worker, settings, ask_restore=lambda: False)
        win.show()
        wait(win.model.snapshot_changed)
        assert win.model.snapshot.graph.number_of_nodes() > 0
        win.model.to_start()
        assert win.model.step_forward()
        app.processEvents()
        win.document.set_modified(False)
        win.close()
        worker.stop()
        """
    )
    assert _loaded(code, QT_QPA_PLATFORM="offscreen") == {"PySide6", "pyqtgraph", "shiboken6"}
