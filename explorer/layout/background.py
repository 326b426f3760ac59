"""A layout made in a forked process while this one goes on: an export's second core.

`python main.py export` of a model file lays out the graph and then runs its backward pass;
the two need nothing of each other, and the layout of a 30,000-node graph takes as long as
the pass. A forked child inherits the graph without copying or pickling it, lays it out, and
sends back the Layout. Where fork is not the way processes start (Windows, macOS), or the
child fails, the layout is made here when it is asked for.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.pool import AsyncResult, Pool

import networkx as nx

from explorer.layout.sugiyama import Layout, layered

_inherited: nx.MultiDiGraph | None = None  # the graph a forked child lays out


def _lay_out_inherited() -> Layout:
    assert _inherited is not None
    return layered(_inherited)


class Background:
    """layered(graph), started now; result() waits for it."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        global _inherited
        self.graph = graph
        self._pool: Pool | None = None
        self._pending: AsyncResult | None = None
        if not sys.platform.startswith("linux"):
            return
        _inherited = graph
        try:
            self._pool = multiprocessing.get_context("fork").Pool(1)
            self._pending = self._pool.apply_async(_lay_out_inherited)
        except OSError:  # no process to spare: lay it out here instead
            self.close()
        finally:
            _inherited = None  # the child has its own copy; this process needs none

    def result(self) -> Layout:
        try:
            if self._pending is not None:
                return self._pending.get()
        except Exception:  # the child died or could not send it: what we lose is the time
            pass
        finally:
            self.close()
        return layered(self.graph)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
