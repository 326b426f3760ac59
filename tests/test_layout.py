"""The layered layout: edges point up, cards never overlap, crossings that can go do go."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from explorer.layout import sugiyama
from explorer.layout.sugiyama import Layout, layered


def _graph(edges: list[tuple[str, str]]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for k, (u, v) in enumerate(edges):
        graph.add_edge(u, v, key=k, slot=k)
    return graph


def _random_dag(nodes: int, p: float, seed: int) -> nx.MultiDiGraph:
    """Edges from lower to higher numbers; every seventh one doubled, as x * x makes."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(str(n) for n in range(nodes))
    wired = nx.gnp_random_graph(nodes, p, seed=seed, directed=True).edges()
    for k, (u, v) in enumerate((u, v) for u, v in wired if u < v):
        graph.add_edge(str(u), str(v), key=0, slot=0)
        if k % 7 == 0:
            graph.add_edge(str(u), str(v), key=1, slot=1)
    return graph


def _drawn_crossings(graph: nx.MultiDiGraph, layout: Layout) -> int:
    """Pairs of edges whose drawn lines cross: each edge's x at every layer it spans (its
    bends sit on layers), compared between consecutive layers; meeting at a node is none."""

    def track(u: str, v: str, k: int) -> dict[int, float]:
        points = [layout.positions[u], *layout.routes.get((u, v, k), []), layout.positions[v]]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return {y: float(np.interp(y, ys, xs)) for y in range(int(ys[0]), int(ys[-1]) + 1)}

    tracks = [track(u, v, k) for u, v, k in graph.edges(keys=True)]
    count = 0
    for a, b in itertools.combinations(tracks, 2):
        shared = sorted(a.keys() & b.keys())
        for low, high in itertools.pairwise(shared):
            count += (a[low] - b[low]) * (a[high] - b[high]) < 0
    return count


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


def test_a_larger_graph_built_twice_gives_the_same_layout() -> None:
    first, second = _random_dag(120, 0.05, seed=7), _random_dag(120, 0.05, seed=7)
    assert layered(first) == layered(second)
    assert layered(first) == layered(first)


# Builds the same random graph as _random_dag in a fresh interpreter and prints its layout.
LAYOUT_IN_A_PROCESS = """
import json, networkx as nx
from explorer.layout.sugiyama import layered
graph = nx.MultiDiGraph()
graph.add_nodes_from(str(n) for n in range(120))
wired = nx.gnp_random_graph(120, 0.05, seed=7, directed=True).edges()
for k, (u, v) in enumerate((u, v) for u, v in wired if u < v):
    graph.add_edge(str(u), str(v), key=0, slot=0)
    if k % 7 == 0:
        graph.add_edge(str(u), str(v), key=1, slot=1)
layout = layered(graph)
print(json.dumps({
    "positions": sorted((n, list(p)) for n, p in layout.positions.items()),
    "routes": sorted((list(e), [list(p) for p in r]) for e, r in layout.routes.items()),
}))
"""


def _layout_in_a_process(hash_seed: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", LAYOUT_IN_A_PROCESS],
        capture_output=True, text=True, env=env, cwd=root, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_two_processes_with_different_hash_seeds_give_the_same_layout() -> None:
    # String hashing, and with it set and dict-of-set order, differs between the two.
    first, second = _layout_in_a_process("1"), _layout_in_a_process("2")
    assert first == second
    here = layered(_random_dag(120, 0.05, seed=7))
    assert dict(first["positions"]) == {n: list(p) for n, p in here.positions.items()}
    assert len(first["routes"]) == len(here.routes) > 0


def test_sweeps_remove_a_crossing_the_input_order_made() -> None:
    # Inputs listed as a, b but wired crosswise: a feeds the right op, b the left one.
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(["a", "b", "p", "q", "out"])
    for k, (u, v) in enumerate([("b", "p"), ("a", "q"), ("p", "out"), ("q", "out")]):
        graph.add_edge(u, v, key=k, slot=k)
    assert _drawn_crossings(graph, layered(graph)) == 0


# x feeds the ops p, q and r, which feed out; w feeds q and u feeds r. The walk down from
# out orders them p, q, r over x, w, u, where x-r crosses w-q. Median sweeps keep that
# order or mirror it whole; swapping the neighbours p and q, as transposition does,
# removes the crossing.
TIED_MEDIANS = [("p", "out"), ("q", "out"), ("r", "out")]
TIED_MEDIANS += [("x", "p"), ("x", "q"), ("x", "r"), ("u", "r"), ("w", "q")]


def test_transposition_removes_a_crossing_median_sweeps_leave() -> None:
    graph = _graph(TIED_MEDIANS)
    assert _drawn_crossings(graph, layered(graph)) == 0


def test_that_graph_does_need_the_exchanges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sugiyama, "TRANSPOSE_BUDGET", 0)
    graph = _graph(TIED_MEDIANS)
    assert _drawn_crossings(graph, layered(graph)) == 1


def test_a_tree_comes_out_without_crossings() -> None:
    # Every node feeds one consumer, inputs listed in an order that crosses everything.
    rng = np.random.default_rng(5)
    edges = [(str(n), str(int(rng.integers(0, n)))) for n in range(1, 80)][::-1]
    graph = _graph(edges)
    assert _drawn_crossings(graph, layered(graph)) == 0


def test_each_layer_order_is_a_permutation() -> None:
    graph = _random_dag(90, 0.06, seed=11)
    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    edges = [(index[u], index[v], k) for u, v, k in graph.edges(keys=True)]
    chains, node_layer = sugiyama._dummies(edges, sugiyama._layers(len(ids), edges))
    assert len(node_layer) > len(ids)  # some dummies, ordered with the nodes
    order = sugiyama._order(chains, [k for _, _, k in edges], node_layer)
    for k in range(int(node_layer.max()) + 1):
        in_layer = order[node_layer == k]
        assert sorted(in_layer.tolist()) == list(range(len(in_layer)))


def test_crossings_are_counted_per_band_with_weights() -> None:
    rng = np.random.default_rng(2)
    node_layer = np.repeat(np.arange(4), 5)  # 4 layers of 5
    position = np.tile(np.arange(5), 4)
    lower = rng.integers(0, 15, 40)
    upper = (node_layer[lower] + 1) * 5 + rng.integers(0, 5, 40)
    pairs = np.unique(lower * 20 + upper)
    weight = rng.integers(1, 4, len(pairs))
    hops = sugiyama._Hops(pairs // 20, pairs % 20, weight)
    expected = np.zeros(4, dtype=np.int64)
    for i, j in itertools.combinations(range(len(pairs)), 2):
        a, b, c, d = hops.lower[i], hops.upper[i], hops.lower[j], hops.upper[j]
        crossed = (position[a] - position[c]) * (position[b] - position[d]) < 0
        if node_layer[a] == node_layer[c] and crossed:
            expected[node_layer[a]] += weight[i] * weight[j]
    counted = sugiyama._band_crossings(hops, node_layer, position)
    assert counted.tolist() == expected.tolist()
    assert expected.sum() > 0


def test_a_long_edge_gets_one_bend_per_layer_it_crosses() -> None:
    layout = layered(_graph([("x", "a"), ("a", "b"), ("b", "c"), ("x", "c")]))
    (bends,) = layout.routes.values()
    assert [y for _, y in bends] == [1.0, 2.0]


def test_routes_pass_through_every_layer_between_their_ends() -> None:
    graph = _random_dag(90, 0.06, seed=4)
    layout = layered(graph)
    spans = set()
    for u, v, k in graph.edges(keys=True):
        low, high = int(layout.positions[u][1]), int(layout.positions[v][1])
        bends = layout.routes.get((u, v, k))
        if high - low <= sugiyama.ALWAYS_ROUTED_SPAN:
            assert [y for _, y in bends or []] == list(range(low + 1, high))
        elif bends is not None:
            assert [y for _, y in bends] == list(range(low + 1, high))
        spans.add(high - low)
    assert max(spans) > 2  # the graph does have edges to route


def test_parallel_edges_share_their_route() -> None:
    graph = _graph([("x", "a"), ("a", "b"), ("b", "c"), ("x", "c"), ("x", "c")])
    layout = layered(graph)
    assert layout.routes[("x", "c", 3)] == layout.routes[("x", "c", 4)]


def test_a_residual_edge_is_routed_and_an_enormously_long_one_is_straight() -> None:
    chain = [(f"c{i}", f"c{i + 1}") for i in range(60)]
    graph = _graph([*chain, ("c0", "c18"), ("c0", "c60")])
    layout = layered(graph)
    assert len(layout.routes[("c0", "c18", 60)]) == 17
    assert ("c0", "c60", 61) not in layout.routes


def test_a_cycle_is_refused() -> None:
    with pytest.raises(nx.NetworkXUnfeasible):
        layered(_graph([("a", "b"), ("b", "c"), ("c", "a")]))


def test_a_layout_made_in_the_background_is_the_layout_made_here(monkeypatch) -> None:
    from explorer.layout import background

    graph = _random_dag(300, 0.02, seed=5)
    ahead = background.Background(graph)
    if sys.platform.startswith("linux"):
        assert ahead._pending is not None  # it runs in a child
    assert ahead.result() == layered(graph)
    assert ahead._pool is None  # the child is gone once its answer is in
    # A child that fails costs only time: the layout is made here.
    monkeypatch.setattr(background, "_lay_out_inherited", lambda: 1 / 0)
    assert background.Background(graph).result() == layered(graph)


def test_a_model_files_export_lays_out_while_its_pass_runs_and_writes_the_same(
    tmp_path: Path, monkeypatch
) -> None:
    from explorer.layout import background
    from explorer.runs.model_file import export_model_file, run_model_file

    model = tmp_path / "model.py"
    steps = 1200  # opens collapsed: its run lays nothing out, the export lays it out ahead
    model.write_text(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
        "class Unrolled(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.cell = nn.RNNCell(3, 4)\n"
        "    def forward(self, x):\n        h = torch.zeros(1, 4)\n"
        f"        for t in range({steps}):\n            h = self.cell(x[t], h)\n"
        "        return h.sum()\n"
        f"model = Unrolled()\nexample_input = torch.randn({steps}, 1, 3)\n"
    )
    started = []
    monkeypatch.setattr(
        background.Background, "__init__",
        lambda self, graph, real=background.Background.__init__: (
            started.append(graph.number_of_nodes()), real(self, graph))[1],
    )  # fmt: skip
    exported = export_model_file(model, model.read_text())
    assert exported.problem is None and started == [exported.graph.number_of_nodes()]
    assert exported.layout == layered(run_model_file(model).snapshot().graph).positions
