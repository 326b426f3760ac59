"""Files someone opens are read only when they are regular files under the size cap."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from explorer.data import text_files
from explorer.data.text_files import FileRefused, read_bounded, read_text

ROOT = Path(__file__).resolve().parents[1]


def _in_time(function, *args):
    """function(*args) run on a thread: a read that blocks fails the test instead of hanging."""
    outcome: list = []

    def call() -> None:
        try:
            outcome.append(function(*args))
        except BaseException as error:  # handed back to the test
            outcome.append(error)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(10)
    assert outcome, f"{function.__name__}{args} blocked"
    return outcome[0]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "script.py"
    os.mkfifo(fifo)
    refused = _in_time(read_text, fifo)
    assert isinstance(refused, FileRefused)
    assert str(refused) == "script.py: not a regular file"


def test_a_device_and_a_folder_are_refused() -> None:
    for path in (Path("/dev/zero"), Path("/")):
        with pytest.raises(FileRefused, match="not a regular file"):
            read_text(path)


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * 100)

    def no_reading(*args, **kwargs):
        raise AssertionError("a file over the cap was read")

    monkeypatch.setattr(text_files.os, "fdopen", no_reading)
    with pytest.raises(FileRefused, match=r"big\.py: 600 bytes; a script may be at most 599"):
        read_bounded(big, 599, "a script")


def test_text_loses_its_byte_order_mark_and_bad_bytes_are_named(tmp_path: Path) -> None:
    script = tmp_path / "bom.py"
    script.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert read_text(script) == "x = 1\n"
    script.write_bytes(b"x = 'caf\xe9'\n")
    with pytest.raises(FileRefused, match=r"bom\.py: not UTF-8 text \(byte 9\)"):
        read_text(script)


@pytest.mark.parametrize("kind", ["fifo", "device", "large"])
def test_export_refuses_what_is_not_a_script_in_one_line(tmp_path: Path, kind: str) -> None:
    script = tmp_path / "script.py"
    if kind == "fifo":
        os.mkfifo(script)
    elif kind == "large":
        script.write_bytes(b"#" * (text_files.MAX_TEXT_BYTES + 1))
    else:
        script = Path("/dev/zero")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(script), "-o", "out.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: cannot read {script}: ")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out.json").exists()
