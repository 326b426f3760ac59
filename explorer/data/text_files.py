"""Reading a file someone chose to open: a regular file only, its size capped before reading.

Every door that reads a script, lesson or model file comes through here (the command line,
Open, Open Recent, a drop, the autosave), so a FIFO, a device such as /dev/zero or a file
of gigabytes is refused with one plain line instead of blocking, or filling memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_TEXT_BYTES = 1_000_000  # a script or lesson; far above what the language runs (200,000)


class FileRefused(ValueError):
    """A file that is not read: `name: reason`, in plain words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.reason = reason


def read_bounded(path: Path, limit: int = MAX_TEXT_BYTES, kind: str = "a file") -> bytes:
    """The bytes of a regular file of at most limit bytes; FileRefused or OSError otherwise.

    kind names the file in the size message ("a lesson file may be at most ...").
    """
    # Opened without blocking so that a FIFO is seen, not waited on; then checked on the open
    # file itself, so the path cannot be swapped for something else between check and read.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, "not a regular file")
        if info.st_size > limit:
            raise FileRefused(path, _too_big(info.st_size, limit, kind))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)  # the file may have grown since it was checked
    if len(data) > limit:
        raise FileRefused(path, _too_big(len(data), limit, kind))
    return data


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A regular UTF-8 text file's text, without a byte-order mark; FileRefused or OSError."""
    data = read_bounded(path, limit)
    try:
        return data.decode("utf-8-sig")  # a byte-order mark is not part of the text
    except UnicodeDecodeError as error:
        raise FileRefused(path, f"not UTF-8 text (byte {error.start + 1:,})") from None


def _too_big(size: int, limit: int, kind: str) -> str:
    return f"{size:,} bytes; {kind} may be at most {limit:,} bytes"
