"""The recorded passes as the page's script needs them: per step, the card that runs, the edges
it sends along, the caption; per card, when it is done, its gradient and its inspector's page.

Everything is read from the recorded steps through the window's own replay and wording
(explorer/view/replay.py, captions.py, labels.py): the page only moves a cursor over it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.data import nonfinite
from explorer.data.nodes import GraphNode
from explorer.data.snapshot import Pass, Snapshot, Step, TensorSummary, shape_text
from explorer.page.scene import Scene
from explorer.view import captions, labels
from explorer.view.derivatives import derivative
from explorer.view.replay import Replay


class Texts:
    """Each distinct value text once, referred to by number: a gradient is often sent by one
    node and arrives at the next with the same text."""

    def __init__(self) -> None:
        self.table: list[str] = []
        self._index: dict[str, int] = {}

    def ref(self, summary: TensorSummary | None) -> int:
        text = value_text(summary)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.table)
            self.table.append(text)
        return index


EDGE_LABELS_MAX = 160  # as the window: more edges than this carry no gradient labels
LISTED_MAX = 24  # a tensor of up to this many values is listed in the inspector


def value_text(summary: TensorSummary | None) -> str:
    """A tensor for the inspector: its values when few, else its statistics."""
    if summary is None:
        return "None"
    head = f"{shape_text(summary.shape)} {summary.dtype}"
    values = summary.values
    if values is not None and values.size <= LISTED_MAX:
        return f"{head}: {_listed(np.asarray(values, dtype=float))}"
    stats = summary.statistics()
    parts = ", ".join(f"{k} {labels.number(v)}" for k, v in stats.items())
    return f"{head}: {parts}" if parts else head


def _listed(values: np.ndarray) -> str:
    if values.ndim == 0:
        return labels.number(float(values))
    if values.ndim == 1:
        return "[" + ", ".join(_number(v) for v in values) + "]"
    return "[" + ", ".join(_listed(row) for row in values) + "]"


def _number(value: float) -> str:
    return labels.number(float(value)) if np.isfinite(value) else str(float(value))


def card_roles(scene: Scene) -> list[str]:
    """Each card's fill when nothing has run: leaf, op, output or a module call."""
    roles = []
    for card in scene.cards:
        attrs = scene.shown.graph.nodes[card]
        if attrs.kind == "call":
            roles.append("call")
        elif attrs.kind == "leaf":
            roles.append("leaf")
        else:
            roles.append("output" if attrs.output else "op")
    return roles


def card_lines(scene: Scene) -> list[list[str]]:
    return [labels.node_lines(scene.shown.graph.nodes[card]) for card in scene.cards]


def card_info(scene: Scene, snapshot: Snapshot, texts: Texts) -> list[dict[str, Any]]:
    """The inspector's essentials of each card, as the window's inspector words them."""
    return [_info(scene, snapshot, card, texts) for card in scene.cards]


def _info(scene: Scene, snapshot: Snapshot, card: str, texts: Texts) -> dict[str, Any]:
    attrs = scene.shown.graph.nodes[card]
    if attrs.kind == "call":
        return _call_info(scene, snapshot, card, attrs)
    kind = "output" if attrs.output else attrs.kind or "op"
    label = attrs.label or "?"
    whole = attrs.name or label if attrs.kind == "leaf" else f"{attrs.name} = {label}"
    info: dict[str, Any] = {
        "title": whole if attrs.name else label,
        "what": f"{kind} · {attrs.op or ''} · id {card}",
    }
    if attrs.module:
        info["module"] = attrs.module
    found = derivative(attrs.op or "", attrs.saved)
    if found:
        info["forward"], info["rules"] = found[0], list(found[1])
    if attrs.shape is not None:
        info["shape"] = f"{shape_text(attrs.shape)}, dtype {attrs.dtype or ''}"
    if isinstance(attrs.value, TensorSummary):
        info["value"] = texts.ref(attrs.value)
    if attrs.const_slots:
        info["note"] = labels.const_note(attrs)
    return info


def _call_info(scene: Scene, snapshot: Snapshot, card: str, attrs: GraphNode) -> dict[str, Any]:
    members = scene.shown.members.get(card, [])
    inside = labels.inside_text([snapshot.graph.nodes[n] for n in members])
    info: dict[str, Any] = {
        "title": attrs.label or "module",
        "what": f"module call {attrs.call or ''}",
        "inside": inside,
    }
    if attrs.repeats:
        info["note"] = f"{attrs.repeats} identical calls folded into this card."
    return info


def passes(scene: Scene, snapshot: Snapshot, texts: Texts) -> list[dict[str, Any]]:
    replay = Replay(snapshot)
    return [_pass(scene, snapshot, replay, texts, i, p) for i, p in enumerate(snapshot.passes)]


def _pass(
    scene: Scene, snapshot: Snapshot, replay: Replay, texts: Texts, index: int, p: Pass
) -> dict[str, Any]:
    """One pass: per step the running card, the drawn edges it sent along, and the caption;
    per card the step from which it is drawn as done, its gradient and inspector lines."""
    shown, graph, card_index = scene.shown, snapshot.graph, scene.card_index
    edge_index = scene.geo.edge_index
    edge_of = shown.edge_of
    count = len(p.steps)
    cards = len(scene.cards)
    done = [-1] * cards
    first_sent = [-1] * len(scene.geo.edge_keys)
    labelled = len(scene.geo.edge_keys) <= EDGE_LABELS_MAX
    edge_text: dict[int, str] = {}
    run, sent, caps, acc = [], [], [], []
    grads: dict[int, list[Any]] = {}
    inspect: dict[int, dict[str, Any]] = {}
    members: dict[int, list[int]] = {}
    arrived: dict[str, list[list[Any]]] = {}  # node -> gradients sent to it, by whom
    for k, step in enumerate(p.steps):
        attrs = graph.nodes[step.node]
        card = card_index[shown.visible(step.node)]
        run.append(card)
        caps.append(captions.step(attrs, k, count))
        own = shown.visible(step.node) == step.node
        if own:
            done[card] = k + 1
        else:
            members.setdefault(card, []).append(k)
            done[card] = k  # a module card is done once its last node has run
        is_leaf = attrs.kind == "leaf" and p.results is None
        acc.append(card if is_leaf else -1)
        drawn = []
        for edge, grad in replay.sent_edges(step):
            target = edge if edge_of is None else edge_of.get(edge)
            arrived.setdefault(edge[0], []).append(
                [k, labels.node_title(attrs), edge[2], texts.ref(grad)]
            )
            if target is None:
                continue
            e = edge_index[target]
            drawn.append(e)
            if first_sent[e] < 0:
                first_sent[e] = k
            if labelled and (edge_of is None or target in shown.single):
                edge_text[e] = labels.tensor_text(grad, 14)
        sent.append(drawn)
        if own:
            grad = step.grad_after if step.grad_after is not None else (step.grad_in or [None])[0]
            if grad is not None:
                grads[card] = [k, labels.node_lines(attrs, grad)[-1]]
            inspect[card] = _step_info(step, texts)
    for node, sources in arrived.items():
        card = card_index.get(shown.visible(node))
        if card is not None and card in inspect and len(sources) > 1:
            inspect[card]["met"] = sources
    where = f"line {p.line}" if p.line else "on request"
    found = replay.first_nonfinite(index)
    nan = None
    if found is not None:
        card = card_index[shown.visible(found.node)]
        why = found.why or nonfinite.why(graph, found)
        nan = {"step": found.step - 1, "card": card, "why": why}
    return {
        "nan": nan,
        "name": f"pass {index + 1} ({where})",
        "before": captions.before(count),
        "run": run,
        "sent": sent,
        "captions": caps,
        "acc": acc,
        "roots": sorted({card_index[shown.visible(r)] for r in p.root_ids() if r in graph}),
        "done": done,
        "first": first_sent,
        "edgeText": edge_text,
        "grads": grads,
        "inspect": inspect,
        "members": members,
    }


def _step_info(step: Step, texts: Texts) -> dict[str, Any]:
    out: dict[str, Any] = {
        "in": [texts.ref(g) for g in step.grad_in],
        "out": [texts.ref(g) for g in step.grad_out],
    }
    if step.grad_after is not None:
        out["before"] = texts.ref(step.grad_before)
        out["after"] = texts.ref(step.grad_after)
    return out
