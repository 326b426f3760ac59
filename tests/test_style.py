"""The code is linted and formatted with ruff, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["explorer", "tests", "bench", "main.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    # Through this Python, so a fresh install works before any shell has rehashed its PATH.
    paths = [p for p in PATHS if (ROOT / p).exists()]
    command = [sys.executable, "-m", "ruff", *args, *paths]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing() -> None:
    done = _ruff("check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted() -> None:
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
