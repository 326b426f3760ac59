"""The JSON export of the notes' chain rule, byte for byte, against a golden file.

A deliberate change to the export format rewrites the file, and the diff is then reviewed:

    EXPLORER_REGOLD=1 python -m pytest tests/test_export_golden.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import app
from tests.helpers import NOTES

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "chain_rule.json"


def _export_by_command(script: Path, out: Path) -> bytes:
    command = [sys.executable, str(ROOT / "main.py"), "export", str(script), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=script.parent)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_the_chain_rule_export_matches_the_golden_file(tmp_path: Path) -> None:
    script = tmp_path / "chain_rule.py"
    script.write_text(NOTES)
    exported = _export_by_command(script, tmp_path / "out.json")
    if os.environ.get("EXPLORER_REGOLD") == "1":
        GOLDEN.write_bytes(exported)
        pytest.skip(f"rewrote {GOLDEN.relative_to(ROOT)}; review its diff")
    assert exported == GOLDEN.read_bytes()
    # A second run, in this process through the same entry point, writes the same bytes.
    assert app.main(["export", str(script), "-o", str(tmp_path / "again.json")]) == 0
    assert (tmp_path / "again.json").read_bytes() == exported
