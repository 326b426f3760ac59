"""Gradient size per module call and per parameter over one backward pass: the rows of the
Gradient Flow pane, as "plot_grad_flow" draws per layer, on the module tree. No Qt."""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.data.snapshot import TensorSummary
from explorer.view.calls import CallTree
from explorer.view.grad_scale import summary_norm
from explorer.view.replay import Replay


@dataclass
class FlowRow:
    """A module call (mean and largest gradient norm of what arrived at its nodes) or a
    parameter (its .grad's norm after the pass, and that over its own norm)."""

    key: str  # the call, or the parameter's node
    label: str
    parent: str | None  # the call it is drawn under
    mean: float | None = None
    largest: float | None = None
    grad: float | None = None  # a parameter's .grad norm after the pass
    weight: float | None = None  # a parameter's own norm
    is_call: bool = True

    @property
    def ratio(self) -> float | None:
        """‖.grad‖ / ‖parameter‖: how far one step of rate 1 would move the parameter."""
        if self.grad is None or not self.weight:
            return None
        return self.grad / self.weight

    @property
    def size(self) -> float | None:
        """The norm the row's bar and colour stand for."""
        return self.largest if self.is_call else self.grad


def flow_rows(tree: CallTree, replay: Replay, pass_index: int) -> list[FlowRow]:
    """Every module call in tree order, each followed by the parameters it owns; parameters
    outside any call at the top. Calls none of whose nodes ran in the pass are left out."""
    norms, _ = replay.grad_norms(pass_index)
    members: dict[str, list[float]] = {}
    for node, chain in tree.chain_of.items():
        norm = norms.get(node)
        if norm is not None:
            for call in chain:
                members.setdefault(call, []).append(norm)
    rows: dict[str | None, list[FlowRow]] = {}
    for call in tree.all_calls:
        found = members.get(call)
        if found:
            finite = [n for n in found if math.isfinite(n)]
            mean = sum(finite) / len(finite) if finite else math.nan
            largest = max(found, key=lambda n: n if math.isfinite(n) else math.inf)
            row = FlowRow(call, tree.label(call), tree.parent.get(call), mean, largest)
            rows.setdefault(row.parent, []).append(row)
    for row in _parameters(tree, replay, pass_index):
        rows.setdefault(row.parent, []).append(row)
    return _tree_order(rows, None)


def _parameters(tree: CallTree, replay: Replay, pass_index: int) -> list[FlowRow]:
    graph = tree.graph
    out = []
    for step in replay.passes[pass_index].steps:
        attrs = graph.nodes[step.node]
        if attrs.kind != "leaf" or step.grad_after is None:
            continue
        chain = tree.chain_of.get(step.node, ())
        weight = summary_norm(attrs.value) if isinstance(attrs.value, TensorSummary) else None
        row = FlowRow(
            step.node,
            attrs.name or attrs.label or "leaf",
            chain[-1] if chain else None,
            grad=summary_norm(step.grad_after),
            weight=weight,
            is_call=False,
        )
        out.append(row)
    return sorted(out, key=lambda r: r.label)


def _tree_order(rows: dict[str | None, list[FlowRow]], parent: str | None) -> list[FlowRow]:
    out: list[FlowRow] = []
    for row in rows.get(parent, []):
        out.append(row)
        if row.is_call:
            out.extend(_tree_order(rows, row.key))
    return out
