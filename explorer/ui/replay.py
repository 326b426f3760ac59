"""Replay of recorded backward passes: what is lit at each step. Plain Python, no Qt.

Stepping never recomputes a gradient: a cursor moves over the recorded steps and
everything shown is read from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from explorer.snapshot import Pass, Snapshot, Step, TensorSummary

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
    incoming: list[EdgeKey] = field(default_factory=list)  # edges whose gradients met here
    accumulated: str | None = None  # the leaf whose .grad just changed
    step: Step | None = None


class Replay:
    """Indexes a Snapshot's passes so any cursor position is cheap to show."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.graph: nx.MultiDiGraph = snapshot.graph
        self.passes: list[Pass] = snapshot.passes
        # the source feeding each (target, slot): where a node's grad_out[slot] goes
        self._source: dict[tuple[str, int], str] = {
            (target, key): source for source, target, key in self.graph.edges(keys=True)
        }
        self._leaf_steps = [
            [(i, s) for i, s in enumerate(p.steps) if _is_leaf(self.graph, s.node)]
            for p in self.passes
        ]

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
        """What is lit after the step at cursor has run (nothing at step -1)."""
        state = StepView()
        if not 0 <= cursor.pass_index < len(self.passes):
            return state
        steps = self.passes[cursor.pass_index].steps
        last = min(cursor.step_index, len(steps) - 1)
        for index in range(last + 1):
            step = steps[index]
            state.done.add(step.node)
            for edge, grad in self.sent_edges(step):
                state.flowed.add(edge)
                state.edge_grads[edge] = grad
        if last >= 0:
            step = steps[last]
            state.step = step
            state.active = step.node
            state.active_edges = {edge for edge, _ in self.sent_edges(step)}
            state.incoming = [
                (step.node, target, key)
                for _, target, key in self.graph.out_edges(step.node, keys=True)
                if (step.node, target, key) in state.flowed
            ]
            if _is_leaf(self.graph, step.node):
                state.accumulated = step.node
        return state

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


def _is_leaf(graph: nx.MultiDiGraph, node: str) -> bool:
    return graph.nodes[node].get("kind") == "leaf" if node in graph else False
