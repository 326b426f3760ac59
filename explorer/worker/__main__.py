"""The worker process: cap its memory, keep stdout for frames only, then serve requests.

Run by WorkerClient as `python -m explorer.worker --memory-mb N`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
from typing import BinaryIO

from explorer.worker.protocol import DEFAULT_MEMORY_MB

# The cap is on address space (RLIMIT_AS), measured with torch 2.13 CPU on Linux x86-64:
# - `import torch` alone maps 624 MiB (VmSize), 413 MiB of it shared libraries; an idle
#   worker is 638 MiB, 671 MiB after the notes example, 800 MiB (peak 864) once an op on a
#   large tensor has started torch's intra-op threads. Resident memory stays near 300 MiB.
# - Each intra-op thread adds its 8 MiB stack, and glibc gives threads that allocate their
#   own malloc arena of 64 MiB reserved address space. With torch.set_num_threads(16) a
#   small run reached 1.95 GiB, with 64 threads 2.65 GiB.
# So 4096 MiB starts on any ordinary machine and leaves scripts about 3.2 GiB here (1.4 GiB
# on a 64-thread machine); a worker under 700 MiB still started. RLIMIT_DATA would not count
# the libraries but counts thread stacks just the same, so it would not be much fairer.


def cap_memory(memory_mb: int) -> None:
    """Make allocations beyond memory_mb MiB fail in this process; 0 means no cap."""
    if memory_mb <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


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
