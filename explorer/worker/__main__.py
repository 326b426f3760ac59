"""The worker process: cap its memory, keep stdout for frames only, then serve requests.

Run by WorkerClient as `python -m explorer.worker --memory-mb N`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import BinaryIO

from explorer.worker.memory import cap_memory
from explorer.worker.protocol import DEFAULT_MEMORY_MB


def take_stdout_for_frames() -> BinaryIO:
    """A private copy of stdout for frames; fd 1 itself now goes to stderr.

    torch, its profiler and C libraries may print to fd 1, and one stray byte there would
    corrupt the frame stream.
    """
    sys.stdout.flush()
    private = os.dup(1)  # not inherited by children: os.dup makes non-inheritable fds
    os.dup2(2, 1)
    return os.fdopen(private, "wb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.worker")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    args = parser.parse_args(argv)
    cap_memory(args.memory_mb)
    frames = take_stdout_for_frames()
    from explorer.worker.serve import serve  # imports torch, so only once the cap is set

    try:
        return serve(frames, sys.stdin.buffer, args.memory_mb)
    finally:
        # A dead client leaves a frame unflushed; without this, exit would report it.
        with contextlib.suppress(OSError):
            frames.close()


if __name__ == "__main__":
    sys.exit(main())
