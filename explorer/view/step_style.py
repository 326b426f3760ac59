"""What the graph view shows at a cursor, as plain data: lit edges, cards that change, card roles.

Cards get roles, not colours: a fill role names a Theme colour ("done", "leaf", ...) and an
outline role names one of the view's pens ("selected", "running", "normal", "call").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from explorer.data.nodes import GraphNode
from explorer.data.snapshot import Step
from explorer.view.calls import Shown
from explorer.view.replay import Cursor, EdgeKey, Grad, Replay, StepView


def sent_mask(
    replay: Replay, shown: Shown, edge_index: dict[EdgeKey, int], steps: Sequence[Step]
) -> np.ndarray:
    """A mask over the drawn edges: those the given steps sent gradient along."""
    edge_of = shown.edge_of
    mask = np.zeros(len(edge_index), dtype=bool)
    hit = []
    for step in steps:
        for edge, _ in replay.sent_edges(step):
            drawn = edge if edge_of is None else edge_of.get(edge)
            if drawn is not None:
                hit.append(edge_index[drawn])
    mask[hit] = True
    return mask


def moved_cards(
    replay: Replay | None,
    before: Cursor | None,
    cursor: Cursor,
    shown: Shown | None,
    active: str | None,
) -> set[str] | None:
    """Cards whose look changes when the cursor moves from before to cursor; None: all.

    Those are the cards of the steps in between, the card that was running, and the roots
    when the move starts or ends at the first step (they are lit there together).
    """
    if replay is None or before is None or before.pass_index != cursor.pass_index:
        return None
    steps = replay.passes[cursor.pass_index].steps if replay.passes else []
    low, high = sorted((before.step_index, cursor.step_index))
    moved = {steps[i].node for i in range(max(low, 0), min(high + 1, len(steps)))}
    if 0 in (before.step_index, cursor.step_index) and replay.passes:
        moved.update(replay.passes[cursor.pass_index].root_ids())
    if shown is not None and shown.owner is not None:
        moved = {shown.visible(n) for n in moved}
    return moved | {active} - {None}


def drawn_edge_grads(shown: Shown | None, step: StepView) -> dict[EdgeKey, Any]:
    """The gradient each drawn edge carried so far (an edge between cards that stands for
    several of the graph's edges carries no single one)."""
    if shown is None or shown.edge_of is None:
        return step.edge_grads
    edge_of = shown.edge_of
    return {
        edge_of[e]: grad
        for e, grad in step.edge_grads.items()
        if e in edge_of and edge_of[e] in shown.single
    }


def node_grads(replay: Replay | None, cursor: Cursor, nodes: list[str]) -> dict[str, Grad]:
    """The gradient each of nodes received so far in this pass (leaves: their new .grad)."""
    out: dict[str, Grad] = {}
    if replay is None or not 0 <= cursor.pass_index < len(replay.passes):
        return out
    steps = replay.passes[cursor.pass_index].steps
    for node in nodes:
        index = replay.step_index(cursor.pass_index, node)
        if index is not None and index <= cursor.step_index:
            step = steps[index]
            out[node] = (
                step.grad_after if step.grad_after is not None else (step.grad_in or [None])[0]
            )
    return out


def card_fill(attrs: GraphNode, node: str, step: StepView) -> str:
    """The Theme colour a node's card is filled with at this step."""
    if node == step.accumulated:
        return "accumulated"
    if node in step.done and node != step.active:
        return "done"
    if attrs.kind == "leaf":
        return "leaf"
    if attrs.output:
        return "output"
    return "op"


def card_outline(node: str, step: StepView, selected: str | None) -> str:
    if node == selected:
        return "selected"
    if node == step.active or node in step.roots:
        return "running"
    return "nonfinite" if node == step.nonfinite else "normal"


def call_fill(
    card: str, step: StepView, shown: Shown, span: tuple[int, int] | None, at: int
) -> str:
    """A module card: "done" once all the nodes inside have run (at is the cursor's step).

    Its nodes need not run in one stretch: the engine runs the ready node made last, so
    a call's first ops (a weight's transpose) may wait until the end of the pass.
    """
    if step.accumulated is not None and shown.visible(step.accumulated) == card:
        return "accumulated"
    return "done" if span is not None and at >= span[1] else "call_card"


def call_outline(card: str, step: StepView, shown: Shown, selected: str | None) -> str:
    """A module card is outlined as running while a node inside it runs."""
    if card == selected:
        return "selected"
    lit = [step.active, *step.roots] if step.active is not None else []
    if any(shown.visible(node) == card for node in lit):
        return "running"
    inside = step.nonfinite is not None and shown.visible(step.nonfinite) == card
    return "nonfinite" if inside else "call"


def keys_near(
    keys: list[Any], pos: np.ndarray, rect: tuple[float, float, float, float]
) -> set[Any]:
    """The keys whose point is in rect (x, y, width, height) or within half its size of it,
    so that a short pan finds them ready."""
    left, top, width, height = rect
    margin_x, margin_y = width / 2, height / 2
    x, y = pos[:, 0], pos[:, 1]
    near = (
        (x >= left - margin_x) & (x <= left + width + margin_x)
        & (y >= top - margin_y) & (y <= top + height + margin_y)
    )  # fmt: skip
    return {keys[i] for i in np.flatnonzero(near)}
