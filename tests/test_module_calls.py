"""Module calls: calls recorded per node, collapsed and folded cards, stepping, the minimap."""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QPointF, QRectF, Qt

from explorer.data.snapshot import module_of_call
from explorer.runs.session import Session, run_script
from explorer.ui.graph.view import GraphView
from explorer.ui.model import ExplorerModel
from explorer.view.calls import CALL_CARD, OPEN_COLLAPSED_ABOVE, CallTree
from tests.helpers import graph_view, run_ok

MLP = (
    "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "x = torch.randn(5, 3, requires_grad=True)\n"
    "loss = model(x).pow(2).mean()\n"
    "loss.backward()\n"
)
CELL = (
    "cell = nn.RNNCell(2, 3)\nh = torch.zeros(1, 3)\nx = torch.randn(1, 2)\n"
    "for i in range(4):\n    h = cell(x, h){glue}\n"
    "loss = h.sum()\nloss.backward()\n"
)
ENCODER = (
    "enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 4)\n"
    "loss = enc(torch.randn(2, 3, 8)).sum()\nloss.backward()\n"
)


def _calls(snapshot, label):
    return [tuple(c or ()) for n, c in snapshot.graph.nodes(data="calls")
            if snapshot.graph.nodes[n]["label"] == label]  # fmt: skip


def test_nodes_know_every_module_call_they_were_made_in() -> None:
    snapshot = run_ok(MLP)
    assert set(_calls(snapshot, "addmm")) == {("model", "model.0"), ("model", "model.2")}
    assert _calls(snapshot, "tanh") == [("model", "model.1")]
    assert _calls(snapshot, "mean") == [()]  # made outside any module
    tanh = next(n for n, a in snapshot.graph.nodes(data=True) if a["label"] == "tanh")
    assert snapshot.graph.nodes[tanh]["module"] == "model.1"


def test_each_call_of_a_module_is_a_call_of_its_own() -> None:
    snapshot = run_ok(CELL.format(glue=""))
    tree = CallTree(snapshot)
    assert tree.all_calls == ["cell", "cell#1", "cell#2", "cell#3"]
    sizes = [sum(call in chain for chain in tree.chain_of.values()) for call in tree.all_calls]
    assert len(set(sizes)) == 1 and sizes[0] > 1
    assert {module_of_call(c) for c in tree.all_calls} == {"cell"}


def _check_quotient(snapshot, shown) -> None:
    """Every node drawn once; every edge between two cards drawn; the drawing is a DAG."""
    graph = snapshot.graph
    owner = shown.owner
    assert set(owner) == set(graph.nodes)
    assert set(owner.values()) == set(shown.graph.nodes)
    expected = {(owner[u], owner[v]) for u, v in graph.edges() if owner[u] != owner[v]}
    assert {(u, v) for u, v in shown.graph.edges()} == expected
    for edge, drawn in shown.edge_of.items():
        assert (owner[edge[0]], owner[edge[1]]) == drawn[:2]
    assert nx.is_directed_acyclic_graph(shown.graph)
    assert set(shown.layout) == set(shown.graph.nodes)


def test_collapsed_calls_become_cards_with_every_edge_between_them_kept() -> None:
    snapshot = run_ok(ENCODER)
    tree = CallTree(snapshot)
    layers = {c for c in tree.all_calls if c.count(".") == 2}
    assert layers == {f"enc.layers.{i}" for i in range(4)}
    shown = tree.shown(layers)
    _check_quotient(snapshot, shown)
    cards = {n for n in shown.graph if n.startswith(CALL_CARD)}
    assert cards == {CALL_CARD + c for c in layers}
    for card in cards:
        inside = [n for n, c in tree.chain_of.items() if card[len(CALL_CARD) :] in c]
        assert sorted(shown.members[card]) == sorted(inside)
        assert shown.graph.nodes[card]["size"] == len(inside)
    assert [b.call for b in shown.frames] == ["enc"]  # the open call around the cards


def test_parameters_go_inside_their_module_and_inputs_stay_out() -> None:
    snapshot = run_ok(MLP)
    shown = CallTree(snapshot).shown({"model.0"})
    names = {snapshot.graph.nodes[n].get("name"): c for n, c in shown.owner.items()}
    assert names["model.0.weight"] == names["model.0.bias"] == CALL_CARD + "model.0"
    assert names["x"] != CALL_CARD + "model.0"
    assert names["model.2.weight"] != CALL_CARD + "model.0"


def test_repeated_blocks_fold_into_one_card() -> None:
    snapshot = run_ok(ENCODER)
    tree = CallTree(snapshot)
    layers = {f"enc.layers.{i}" for i in range(4)}
    shown = tree.shown(layers, fold=True)
    _check_quotient(snapshot, shown)
    (card,) = [n for n in shown.graph if n.startswith(CALL_CARD)]
    attrs = shown.graph.nodes[card]
    assert attrs["repeats"] == 4
    assert attrs["label"] == "layers.0–3 × 4"
    assert len(shown.members[card]) == sum(
        any(c in layers for c in chain) for chain in tree.chain_of.values()
    )


def test_a_fold_that_would_make_a_cycle_is_not_made() -> None:
    plain = CallTree(run_ok(CELL.format(glue="")))
    calls = set(plain.all_calls)
    (folded,) = [n for n in plain.shown(calls, fold=True).graph if n.startswith(CALL_CARD)]
    assert plain.shown(calls, fold=True).graph.nodes[folded]["label"] == "cell × 4"
    # an op between the calls: folding them would loop through it
    glued = CallTree(run_ok(CELL.format(glue="\n    h = h * 0.5")))
    shown = glued.shown(set(glued.all_calls), fold=True)
    assert len([n for n in shown.graph if n.startswith(CALL_CARD)]) == 4
    _check_quotient(glued.snapshot, shown)


def test_large_graphs_open_collapsed_to_their_top_level_modules() -> None:
    layers = ", ".join(["nn.Linear(2, 2), nn.Tanh()"] * 420)
    snapshot = run_ok(
        f"model = nn.Sequential({layers})\nx = torch.randn(1, 2)\n"
        "loss = model(x).sum()\nloss.backward()\n"
    )
    assert snapshot.graph.number_of_nodes() > OPEN_COLLAPSED_ABOVE
    tree = CallTree(snapshot)
    collapsed = tree.initial_collapsed()
    assert "model" not in collapsed  # standing alone at the top, it is opened
    shown = tree.shown(collapsed)
    cards = {n for n in shown.graph if n.startswith(CALL_CARD)}
    assert cards == {f"{CALL_CARD}model.{i}" for i in range(840)}
    assert CallTree(run_ok(MLP)).initial_collapsed() == set()


# -- the view ----------------------------------------------------------------------------
def _view(qtbot, script: str) -> tuple[ExplorerModel, GraphView]:
    return graph_view(qtbot, run_ok(script))


def test_stepping_lights_a_collapsed_module_while_its_nodes_run(qtbot) -> None:
    model, view = _view(qtbot, MLP)
    model.set_collapsed({"model.0", "model.2"})
    theme = model.theme
    steps = model.snapshot.passes[0].steps
    for card in ("model.0", "model.2"):
        ran = [i for i, s in enumerate(steps) if card in (model.call_tree.chain_of[s.node])]
        assert ran, card
        for index in range(len(steps)):
            model.move_to(type(model.cursor)(0, index))
            fill, outline = view.card_look(CALL_CARD + card)
            running = outline == theme.active.lower()
            assert running == (index in ran), (card, index)
            leaf = model.snapshot.graph.nodes[steps[index].node]["kind"] == "leaf"
            if leaf and index in ran:  # a parameter inside: its .grad was just filled
                assert fill == theme.accumulated.lower(), (card, index)
            else:
                assert (fill == theme.done.lower()) == (index >= ran[-1]), (card, index)


def test_gradient_flows_along_edges_into_and_out_of_cards(qtbot) -> None:
    model, view = _view(qtbot, MLP)
    model.set_collapsed({"model"})
    model.to_end()
    lit = view.lit_edges()
    card = CALL_CARD + "model"
    assert any(v == card for _, v, _ in lit)  # from the loss into the model
    assert all(card in (u, v) or model.shown.owner[u] == u for u, v, _ in lit)
    x = next(n for n, a in model.snapshot.graph.nodes(data=True) if a.get("name") == "x")
    assert (x, card, 0) in lit  # on to the input x, out of the model's card


def _click(qtbot, view: GraphView, x: float, y: float, double: bool = False) -> None:
    point = view.mapFromScene(view.view.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    if double:  # as a mouse sends it: a click, then the second press as a double-click
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_double_click_opens_a_card_and_inside_a_frame_closes_it(qtbot) -> None:
    model, view = _view(qtbot, MLP)
    model.set_collapsed({"model.0"})
    geo = view.geometry_
    x, y = geo.pos[geo.index[CALL_CARD + "model.0"]]
    _click(qtbot, view, x, y, double=True)
    assert "model.0" not in model.collapsed
    assert CALL_CARD + "model.0" not in model.shown.graph
    # the frame around model.0's nodes: double-click its empty corner to close it
    box = next(b for b in model.shown.frames if b.call == "model.0")
    points = view.geometry_.pos[[view.geometry_.index[m] for m in box.members]]
    corner = points.min(axis=0) - [1.25, 0.75]  # inside the frame's padding, off the cards
    assert view.frame_at(*view.view.mapViewToScene(QPointF(*corner)).toTuple()) == "model.0"
    _click(qtbot, view, *corner, double=True)
    assert "model.0" in model.collapsed


def test_the_minimap_shows_when_zoomed_in_and_moves_the_view(qtbot) -> None:
    model, view = _view(qtbot, ENCODER)
    view.fit()
    assert not view.minimap.isVisible()
    first = model.snapshot.passes[0].steps[0].node
    view.center_on(first)
    assert view.minimap.isVisible()
    before = view.view.viewRect().center()
    qtbot.mouseClick(view.minimap, Qt.MouseButton.LeftButton, pos=view.minimap.rect().center())
    after = view.view.viewRect().center()
    x0, y0, x1, y1 = view.geometry_.bounds()
    assert abs(after.x() - (x0 + x1) / 2) < (x1 - x0) * 0.1
    assert abs(after.y() - (y0 + y1) / 2) < (y1 - y0) * 0.1
    assert (before - after).manhattanLength() > 1


def test_a_large_unrolled_loop_opens_folded_to_one_card(qtbot) -> None:
    model, view = _view(qtbot, CELL.format(glue="").replace("range(4)", "range(450)"))
    assert model.snapshot.graph.number_of_nodes() > OPEN_COLLAPSED_ABOVE
    assert model.fold
    (card,) = [n for n in model.shown.graph if n.startswith(CALL_CARD)]
    assert model.shown.graph.nodes[card]["label"] == "cell × 450"
    assert view.card_look(card) is not None
    model.set_fold(False)
    assert len([n for n in model.shown.graph if n.startswith(CALL_CARD)]) == 450


def test_folding_collapses_repeated_blocks_and_opening_unfolds_them_one_level(qtbot) -> None:
    model, _ = _view(qtbot, ENCODER)
    assert not model.collapsed  # small: it opens with everything shown
    model.set_fold(True)
    (card,) = [n for n in model.shown.graph if n.startswith(CALL_CARD)]
    assert model.shown.graph.nodes[card]["label"] == "layers.0–3 × 4"
    model.expand(card)  # the fold opens into one card per layer
    layers = {f"{CALL_CARD}enc.layers.{i}" for i in range(4)}
    assert {n for n in model.shown.graph if n.startswith(CALL_CARD)} == layers
    model.expand(f"{CALL_CARD}enc.layers.2")  # and a layer into its ops
    assert {n for n in model.shown.graph if n.startswith(CALL_CARD)} == layers - {
        f"{CALL_CARD}enc.layers.2"
    }
    inside = [n for n, chain in model.call_tree.chain_of.items() if "enc.layers.2" in chain]
    assert all(n in model.shown.graph for n in inside)


def test_no_minimap_without_a_graph(qtbot) -> None:
    model, view = graph_view(qtbot, run_script("x = torch.ones(3, requires_grad=True\n"))
    assert model.snapshot.problem is not None and not len(view.geometry_.ids)
    view.view.setRange(QRectF(100, 100, 5, 5), padding=0)  # far from where a graph would be
    assert not view.minimap.isVisible()


def test_a_graph_sent_without_places_is_laid_out_when_first_drawn_whole(qtbot) -> None:
    script = CELL.format(glue="").replace("range(4)", "range(450)")
    laid_out = Session(script).run()
    sent = Session(script).run(layout=False)  # as the worker sends a graph that opens collapsed
    assert sent.layout == {} and not sent.laid_out()
    model, view = graph_view(qtbot, sent)
    assert model.collapsed and not sent.laid_out()  # the overview needs no full layout
    model.expand_all()
    model.set_fold(False)
    assert sent.laid_out()
    assert sent.layout == laid_out.layout and sent.routes == laid_out.routes
    assert view.geometry_ is not None and len(view.geometry_.pos) == len(sent.layout)


def test_collapse_all_shows_a_card_a_layer_and_the_view_refits(qtbot) -> None:
    model, view = _view(qtbot, MLP)
    view.view.setRange(QRectF(1000, 1000, 5, 5), padding=0)  # looking far away
    model.collapse_all()
    cards = {n for n in model.shown.graph if n.startswith(CALL_CARD)}
    assert cards and all(c.count(".") == 1 for c in cards)  # model.0, model.1...: not model
    rect = view.view.viewRect()
    assert all(rect.contains(float(x), float(y)) for x, y in view.geometry_.pos)
    view.view.setRange(QRectF(1000, 1000, 5, 5), padding=0)
    model.expand_all()
    rect = view.view.viewRect()
    assert all(rect.contains(float(x), float(y)) for x, y in view.geometry_.pos)
