"""The code is linted and formatted with ruff, as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["explorer", "tests", "bench", "main.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test extra: pip install -e '.[test]'"
    paths = [p for p in PATHS if (ROOT / p).exists()]
    return subprocess.run([ruff, *args, *paths], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing() -> None:
    done = _ruff("check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted() -> None:
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
