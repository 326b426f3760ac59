"""The memory cap of a process that runs scripts, and how its failures are worded.

The worker and `export` on the command line both set it before torch is imported, so this
module imports no torch.
"""

from __future__ import annotations

import resource

from explorer.data.snapshot import Problem

# The cap is on address space (RLIMIT_AS), measured with torch 2.13 CPU on Linux x86-64:
# - `import torch` alone maps 624 MiB (VmSize), 413 MiB of it shared libraries; an idle
#   worker is 638 MiB, 671 MiB after the notes example, 800 MiB (peak 864) once an op on a
#   large tensor has started torch's intra-op threads. Resident memory stays near 300 MiB.
# - Each intra-op thread adds its 8 MiB stack, and glibc gives threads that allocate their
#   own malloc arena of 64 MiB reserved address space. With torch.set_num_threads(16) a
#   small run reached 1.95 GiB, with 64 threads 2.65 GiB.
# So 5120 MiB starts on any ordinary machine and leaves scripts about 4.2 GiB here (2.4 GiB
# on a 64-thread machine), above their own 4 GiB budget; a worker under 700 MiB still
# started. RLIMIT_DATA would not count the libraries but counts thread stacks just the same,
# so it would not be much fairer.

# How torch and Python word an allocation that hit the cap. The interpreter turns torch's
# RuntimeError into a script problem with its first line, so the words are all that is left.
_OUT_OF_MEMORY = ("can't allocate memory", "cannot allocate memory", "out of memory")


def cap_memory(memory_mb: int) -> None:
    """Make allocations beyond memory_mb MiB fail in this process; 0 means no cap."""
    if memory_mb <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def is_out_of_memory(message: str) -> bool:
    lowered = message.lower()
    return lowered == "memoryerror" or any(words in lowered for words in _OUT_OF_MEMORY)


def over_the_cap(cap: str, where: Problem | None = None) -> Problem:
    """The problem of a run that hit the cap, named as cap ("the worker's cap (5,120 MB)"),
    at where's place when it has one."""
    problem = Problem(
        f"the script needed more memory than {cap}",
        hint="use smaller tensors, or fewer of them at once",
    )
    if where is not None:
        problem.line, problem.column, problem.text = where.line, where.column, where.text
    return problem
