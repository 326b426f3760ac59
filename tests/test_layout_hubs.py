"""Parameters shared by every step of an unrolled loop stand outside the drawing, so their
long straight edges run beside the steps rather than through them."""

from __future__ import annotations

import numpy as np

from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import Snapshot
from explorer.layout.sugiyama import Layout, layered
from explorer.view.calls import CallTree
from tests.test_layout import _drawn_crossings
from tests.test_layout_frames import faults

STEPS = 16


def _unrolled() -> AutogradGraph:
    """An RNN cell called STEPS times: two shared weights, each used by every call."""
    graph = AutogradGraph()
    count = iter(range(10**6))

    def node(kind: str, call: str | None, inputs: list[str], name: str | None = None) -> str:
        made = f"n{next(count)}"
        record = GraphNode(
            op="Op", kind=kind, label=kind, name=name, calls=(call,) if call else None
        )
        graph.add_records([(made, record)])
        for slot, source in enumerate(inputs):
            graph.add_edge(source, made, key=slot, slot=slot)
        return made

    weight = node("leaf", None, [], name="cell.weight")
    bias = node("leaf", None, [], name="cell.bias")
    h = node("leaf", None, [], name="h0")
    for step in range(STEPS):
        call = f"cell#{step}"
        mixed = node("op", call, [h, node("op", call, [weight])])
        gate = node("op", call, [node("op", call, [mixed, bias])])
        h = node("op", call, [node("op", call, [gate]), gate])
    node("op", None, [h])
    return graph


def _straight(graph: AutogradGraph, layout: Layout, hub: str) -> list[tuple[str, str, int]]:
    return [
        (u, v, k)
        for u, v, k in graph.out_edges(hub, keys=True)
        if (u, v, k) not in layout.routes and layout.positions[v][1] - layout.positions[u][1] > 1
    ]


def test_a_shared_parameter_stands_beyond_the_cards_its_straight_edges_pass() -> None:
    graph = _unrolled()
    layout = layered(graph)
    for hub in ("n0", "n1"):
        edges = _straight(graph, layout, hub)
        assert len(edges) > STEPS // 2  # most of its edges are too long to route
        x, y = layout.positions[hub]
        top = max(layout.positions[v][1] for _, v, _ in edges)
        others = [
            p[0] for n, p in layout.positions.items() if n not in ("n0", "n1") and y <= p[1] <= top
        ]
        assert x < min(others) or x > max(others)


def test_a_shared_parameter_outside_crosses_no_more_than_among_the_steps() -> None:
    """The baseline is where pulling toward its neighbours puts it: at their mean."""
    graph = _unrolled()
    layout = layered(graph)
    pulled = dict(layout.positions)
    for hub in ("n0", "n1"):
        xs = [layout.positions[v][0] for v in graph.successors(hub)]
        pulled[hub] = (float(np.mean(xs)), layout.positions[hub][1])
    baseline = _drawn_crossings(graph, Layout(pulled, layout.routes))
    assert _drawn_crossings(graph, layout) < baseline


def test_the_frames_of_an_unrolled_loop_keep_apart() -> None:
    graph = _unrolled()
    layout = layered(graph)
    tree = CallTree(Snapshot(graph=graph, layout=layout.positions, routes=layout.routes))
    assert faults(tree.shown(set())) == []
