"""Pausing Python's cycle collector around work that makes many objects and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cycle collection inside: a graph of tens of thousands of nodes, or a snapshot being
    unpickled, is that many new objects, and the collector would scan them all again and
    again while they are made (3-4× slower), to find no cycle worth it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
