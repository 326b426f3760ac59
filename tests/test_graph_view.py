"""The graph view: edges routed around cards, and card text that appears when zoomed in."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.ui.graph.view import GraphView
from explorer.ui.model import ExplorerModel
from tests.helpers import graph_view, run_ok

CHAIN = (
    "x = torch.full((4,), 0.5, requires_grad=True)\n"
    "w = torch.full((4,), 1.01, requires_grad=True)\n"
    "y = x\nfor i in range(300):\n    y = y * w + 0.1\nloss = y.sum()\nloss.backward()\n"
)


def _view(qtbot, script: str) -> tuple[ExplorerModel, GraphView]:
    return graph_view(qtbot, run_ok(script))


def test_card_text_follows_stepping_once_zoomed_in(qtbot) -> None:
    model, view = _view(qtbot, CHAIN)
    first = model.snapshot.passes[0].steps[0].node
    assert view.card_text(first) is not None  # too tall to read whole: it opens on the output
    view.fit()
    assert view.card_text(first) is None  # 600 cards fitted in the view: too small to read
    for _ in range(3):
        model.step_forward()
    view.center_on(model.step_view().active)
    # loss = 4 · (1.01³⁰⁰ · (0.5 + 10) − 10) = 791.1 to four figures, and d loss/d loss = 1
    assert view.card_text(first) == "loss = sum\nscalar · 791.1\ngrad 1"
    untouched = model.snapshot.passes[0].steps[10].node
    view.center_on(untouched)  # text is written only on cards near the view
    assert "grad" not in view.card_text(untouched)


def test_only_cards_near_the_view_carry_text(qtbot) -> None:
    model, view = _view(qtbot, CHAIN)
    near = {n for n in model.snapshot.graph if view.card_text(n) is not None}
    assert 0 < len(near) < model.snapshot.graph.number_of_nodes() / 4
    rect = view.view.viewRect()
    geo = view.geometry_
    for node in near:  # within the view or half a view beyond it
        x, y = geo.pos[geo.index[node]]
        assert rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height()).contains(
            x, y
        )
    view.set_all_labels(True)  # as for rendering the whole graph to a file
    view.fit()
    assert all(view.card_text(n) is not None for n in model.snapshot.graph)


def test_an_edge_across_layers_bends_around_the_cards_between() -> None:
    snapshot = run_ok("x = torch.ones(2, requires_grad=True)\ny = x.exp().sin().cos()\nz = y * x\n")
    (route,) = snapshot.routes.values()
    source, target, _ = next(iter(snapshot.routes))
    assert snapshot.graph.nodes[source]["kind"] == "leaf"
    assert snapshot.graph.nodes[target]["op"] == "MulBackward0"
    layers = [y for _, y in route]
    assert layers == sorted(layers) and len(layers) == 3  # one bend per layer crossed
    others = {snapshot.layout[n] for n in snapshot.graph if n not in (source, target)}
    assert not others & set(route)  # no bend sits on a card


def test_edges_are_laid_out_once_as_arrays_with_an_arrowhead_each() -> None:
    from explorer.view import geometry

    snapshot = run_ok(
        "x = torch.ones(2, requires_grad=True)\ny = x.exp().sin().cos()\nz = y * x + x * x\n"
    )
    geo = geometry.build(snapshot.graph, snapshot.layout, True, snapshot.routes)
    arrows, bare = geo.arrows(), geo.bare()
    for i, (source, target, _) in enumerate(geo.edge_keys):
        line = geo.edge_line(i)
        tail, head = geo.pos[geo.index[source]], geo.pos[geo.index[target]]
        assert line[0][1] == pytest.approx(tail[1] + geometry.CARD_H / 2)  # leaves the top
        assert line[-1][1] == pytest.approx(head[1] - geometry.CARD_H / 2)  # enters the bottom
        assert len(line) == 2 + len(snapshot.routes.get((source, target, _), []))
        mine = arrows.owner == i
        points = np.column_stack([arrows.x[mine], arrows.y[mine]])
        assert np.allclose(points[: len(line)], line)
        left, tip, right = points[len(line) :]
        assert np.allclose(tip, line[-1])
        assert np.linalg.norm(left - tip) == pytest.approx(np.linalg.norm(right - tip))
        wings = [False, True, True, False]  # no line to the left wing, none after the right
        assert arrows.connect[mine].tolist() == [True] * (len(line) - 1) + wings
        assert bare.connect[bare.owner == i].tolist() == [True] * (len(line) - 1) + [False]
    # x * x: the two parallel edges are drawn side by side, not on top of each other
    x = next(n for n, a in snapshot.graph.nodes(data=True) if a.get("name") == "x")
    twins = [i for i, (u, v, _) in enumerate(geo.edge_keys) if u == x and
             snapshot.graph.nodes[v]["op"] == "MulBackward0" and
             snapshot.graph.number_of_edges(u, v) == 2]  # fmt: skip
    assert len(twins) == 2
    assert geo.edge_line(twins[0])[0][0] != geo.edge_line(twins[1])[0][0]


def test_stepping_keeps_the_running_node_in_sight(qtbot) -> None:
    model, view = _view(qtbot, CHAIN)
    start = view.view.viewRect()
    for _ in range(400):
        model.step_forward()
        geo = view.geometry_
        x, y = geo.pos[geo.index[model.step_view().active]]
        assert view.view.viewRect().contains(x, y)
    assert view.view.viewRect().center() != start.center()  # it moved down the chain
    assert abs(view.view.viewRect().width() - start.width()) < 1e-6 * start.width()  # same zoom
