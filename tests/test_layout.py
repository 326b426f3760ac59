"""The layered layout: edges point up, cards never overlap, sweeps undo needless crossings."""

from __future__ import annotations

import itertools

import networkx as nx

from explorer.layout.sugiyama import layered


def _graph(edges: list[tuple[str, str]]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for k, (u, v) in enumerate(edges):
        graph.add_edge(u, v, key=k, slot=k)
    return graph


def _crossings(graph: nx.MultiDiGraph, x: dict[str, float], y: dict[str, float]) -> int:
    pairs = [(u, v) for u, v in graph.edges() if y[v] - y[u] == 1]
    return sum(
        1
        for (a, b), (c, d) in itertools.combinations(pairs, 2)
        if y[a] == y[c] and (x[a] - x[c]) * (x[b] - x[d]) < 0
    )


def test_every_edge_points_to_a_higher_layer_and_cards_keep_apart() -> None:
    graph = nx.gnp_random_graph(60, 0.08, seed=3, directed=True)
    dag = _graph([(str(u), str(v)) for u, v in graph.edges() if u < v])
    layout = layered(dag)
    for u, v in dag.edges():
        assert layout.positions[v][1] > layout.positions[u][1]
    by_layer: dict[float, list[float]] = {}
    for x, y in layout.positions.values():
        by_layer.setdefault(y, []).append(x)
    for xs in by_layer.values():
        xs.sort()
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(xs))


def test_the_same_graph_gives_the_same_layout() -> None:
    edges = [("a", "c"), ("b", "c"), ("a", "d"), ("c", "e"), ("d", "e"), ("b", "e")]
    assert layered(_graph(edges)) == layered(_graph(edges))


def test_sweeps_remove_a_crossing_the_input_order_made() -> None:
    # Inputs listed as a, b but wired crosswise: a feeds the right op, b the left one.
    edges = [("b", "p"), ("a", "q"), ("p", "out"), ("q", "out")]
    graph = _graph(edges)
    graph.remove_nodes_from(list(graph))
    for node in ["a", "b", "p", "q", "out"]:
        graph.add_node(node)
    for k, (u, v) in enumerate(edges):
        graph.add_edge(u, v, key=k, slot=k)
    layout = layered(graph)
    x = {n: p[0] for n, p in layout.positions.items()}
    y = {n: p[1] for n, p in layout.positions.items()}
    assert _crossings(graph, x, y) == 0


def test_a_long_edge_gets_one_bend_per_layer_it_crosses() -> None:
    layout = layered(_graph([("x", "a"), ("a", "b"), ("b", "c"), ("x", "c")]))
    (bends,) = layout.routes.values()
    assert [y for _, y in bends] == [1.0, 2.0]
