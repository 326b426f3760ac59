"""Replay of recorded backward passes: what is lit at each step. Plain Python, no Qt.

Stepping never recomputes a gradient: a cursor moves over the recorded steps and
everything shown is read from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.data.health import FirstNonFinite, first_nonfinite
from explorer.data.nodes import AutogradGraph
from explorer.data.snapshot import Pass, Snapshot, Step, TensorSummary
from explorer.view.grad_scale import Scale, pass_norms, scale_of

EdgeKey = tuple[str, str, int]  # (source, target, slot): one edge of the MultiDiGraph
Grad = TensorSummary | None


@dataclass(frozen=True)
class Cursor:
    """A position: pass index and step index (-1: before the pass's first step)."""

    pass_index: int
    step_index: int


@dataclass
class StepView:
    """Everything the view lights at one cursor position."""

    active: str | None = None  # the node the engine is running
    done: set[str] = field(default_factory=set)  # nodes that already ran in this pass
    flowed: set[EdgeKey] = field(default_factory=set)  # edges that carried gradient so far
    edge_grads: dict[EdgeKey, TensorSummary] = field(default_factory=dict)
    active_edges: set[EdgeKey] = field(default_factory=set)  # sent by the active node
    accumulated: str | None = None  # the leaf whose .grad just changed
    step: Step | None = None
    # At a pass's first step: every node it started from (several roots start together)
    roots: set[str] = field(default_factory=set)
    # where the pass's first NaN or infinity started, once the cursor has reached that step
    nonfinite: str | None = None


class Replay:
    """Indexes a Snapshot's passes so any cursor position is cheap to show."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.graph: AutogradGraph = snapshot.graph
        self.passes: list[Pass] = snapshot.passes
        # the source feeding each (target, slot): where a node's grad_out[slot] goes
        self._source: dict[tuple[str, int], str] = {
            (target, key): source for source, target, key in self.graph.edges(keys=True)
        }
        self._last: tuple[Cursor, StepView] | None = None
        self._indexes: list[dict[str, int]] = []
        self._nonfinite: dict[int, FirstNonFinite | None] = {}
        self._norms: dict[int, tuple[dict[str, float], Scale | None]] = {}
        self._seconds: dict[int, tuple[dict[str, float], Scale | None]] = {}
        # autograd.grad's passes reach leaves without changing their .grad
        self._leaf_steps = [
            [(i, s) for i, s in enumerate(p.steps) if _is_leaf(self.graph, s.node)]
            if p.results is None
            else []
            for p in self.passes
        ]

    def step_index(self, pass_index: int, node: str) -> int | None:
        """Where node ran in the pass (each node runs at most once a pass), or None."""
        while len(self._indexes) <= pass_index:
            steps = self.passes[len(self._indexes)].steps
            self._indexes.append({s.node: i for i, s in enumerate(steps)})
        return self._indexes[pass_index].get(node)

    def first_nonfinite(self, pass_index: int) -> FirstNonFinite | None:
        """Where the pass's first NaN or infinity started, None when it has none."""
        if pass_index not in self._nonfinite:
            record = self.passes[pass_index]
            found = record.first_nonfinite  # as recorded, with its words
            self._nonfinite[pass_index] = found if found is not None else first_nonfinite(record)
        return self._nonfinite[pass_index]

    def grad_norms(self, pass_index: int) -> tuple[dict[str, float], Scale | None]:
        """Each node's arrived gradient norm in the pass, and the scale they span."""
        if pass_index not in self._norms:
            norms = pass_norms(self.passes[pass_index])
            self._norms[pass_index] = (norms, scale_of(norms))
        return self._norms[pass_index]

    def step_seconds(self, pass_index: int) -> tuple[dict[str, float], Scale | None]:
        """How long each node's step took in the pass, and the scale those times span."""
        if pass_index not in self._seconds:
            steps = self.passes[pass_index].steps
            seconds = {s.node: s.seconds for s in steps if s.seconds is not None}
            self._seconds[pass_index] = (seconds, scale_of(seconds))
        return self._seconds[pass_index]

    def step_count(self, pass_index: int) -> int:
        return len(self.passes[pass_index].steps) if 0 <= pass_index < len(self.passes) else 0

    def sent_edges(self, step: Step) -> list[tuple[EdgeKey, TensorSummary]]:
        """The edges a step sent gradient along, with the gradient on each."""
        out = []
        for slot, grad in enumerate(step.grad_out):
            source = self._source.get((step.node, slot))
            if grad is not None and source is not None:
                out.append(((source, step.node, slot), grad))
        return out

    def view(self, cursor: Cursor) -> StepView:
        """What is lit after the step at cursor has run (nothing at step -1).

        Moving a few steps from the last view only adds or removes what those steps sent:
        each node runs once per pass, so each edge carries gradient once.
        """
        if not 0 <= cursor.pass_index < len(self.passes):
            return StepView()
        steps = self.passes[cursor.pass_index].steps
        target = min(cursor.step_index, len(steps) - 1)
        last = self._last
        if last is not None and last[0].pass_index == cursor.pass_index:
            start, view = last[0].step_index, last[1]
            if abs(target - start) <= _INCREMENTAL:
                view = _copy(view)
                for index in range(start + 1, target + 1):
                    self._add(view, steps[index])
                for index in range(start, target, -1):
                    self._remove(view, steps[index])
                return self._finish(cursor, view, steps, target)
        view = StepView()
        for index in range(target + 1):
            self._add(view, steps[index])
        return self._finish(cursor, view, steps, target)

    def _add(self, view: StepView, step: Step) -> None:
        view.done.add(step.node)
        for edge, grad in self.sent_edges(step):
            view.flowed.add(edge)
            view.edge_grads[edge] = grad

    def _remove(self, view: StepView, step: Step) -> None:
        view.done.discard(step.node)
        for edge, _ in self.sent_edges(step):
            view.flowed.discard(edge)
            view.edge_grads.pop(edge, None)

    def _finish(self, cursor: Cursor, view: StepView, steps: list[Step], last: int) -> StepView:
        view.active = view.step = view.accumulated = None
        view.active_edges = set()
        view.roots = set(self.passes[cursor.pass_index].root_ids()) if last == 0 else set()
        found = self.first_nonfinite(cursor.pass_index)
        view.nonfinite = found.node if found is not None and last >= found.step - 1 else None
        if last >= 0:
            step = steps[last]
            view.step = step
            view.active = step.node
            view.active_edges = {edge for edge, _ in self.sent_edges(step)}
            if _is_leaf(self.graph, step.node) and self.passes[cursor.pass_index].results is None:
                view.accumulated = step.node
        self._last = (Cursor(cursor.pass_index, last), view)
        return view

    def leaf_grads(self, cursor: Cursor) -> dict[str, tuple[Grad, Grad]]:
        """Each leaf's (.grad before, .grad after) as of cursor, across all passes so far.

        A leaf that has not run yet in the current pass shows the .grad it had at the end of
        the passes before (accumulation across backward calls).
        """
        grads: dict[str, tuple[Grad, Grad]] = {}
        for pass_index in range(min(cursor.pass_index + 1, len(self.passes))):
            current = pass_index == cursor.pass_index
            limit = cursor.step_index if current else len(self.passes[pass_index].steps)
            for index, step in self._leaf_steps[pass_index]:
                if index <= limit:
                    grads[step.node] = (step.grad_before, step.grad_after)
        return grads


_INCREMENTAL = 64  # further than this, a view is rebuilt from the pass's start


def _copy(view: StepView) -> StepView:
    return StepView(done=set(view.done), flowed=set(view.flowed), edge_grads=dict(view.edge_grads))


def _is_leaf(graph: AutogradGraph, node: str) -> bool:
    return graph.nodes[node].kind == "leaf" if node in graph else False
