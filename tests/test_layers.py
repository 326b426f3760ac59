"""The layer contract: the torch side imports no Qt, the Qt side imports no torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
WORKER_SIDE = ["explorer.lang", "explorer.graph", "explorer.layout", "explorer.snapshot"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def _modules(subpackage: str) -> list[Path]:
    path = PACKAGE / subpackage
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


@pytest.mark.parametrize("subpackage", ["lang", "graph", "layout", "snapshot"])
def test_worker_side_source_never_imports_qt(subpackage: str) -> None:
    for module in _modules(subpackage):
        assert not _imports(module) & {"PySide6", "pyqtgraph"}, module


def test_ui_source_never_imports_torch() -> None:
    for module in _modules("ui"):
        assert "torch" not in _imports(module), module


def test_worker_side_loads_no_qt_at_run_time() -> None:
    code = (
        "import sys\n"
        f"for name in {WORKER_SIDE!r} + ['explorer.pipeline', 'explorer.export']:\n"
        "    __import__(name)\n"
        "import explorer.lang.interpreter, explorer.graph.recorder, explorer.layout.sugiyama\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_snapshot_and_export_load_without_torch() -> None:
    code = "import sys\nimport explorer.snapshot, explorer.export\nprint('torch' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
