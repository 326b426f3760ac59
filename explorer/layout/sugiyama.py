"""A layered (Sugiyama-style) layout on numpy: layers, dummy nodes, crossing reduction, coordinates.

Inputs sit in layer 0 and every edge points to a higher layer. An edge spanning several
layers is routed through one dummy node per layer it crosses, so it bends around cards
instead of running through them; only very long edges are drawn straight.

Crossings are reduced the way graphviz dot does it: an initial order from a depth-first
walk down from the outputs (a tree comes out without crossings), then weighted-median
sweeps alternating in direction, each followed by transposition (swapping neighbours in a
layer while that removes crossings), keeping the order with the fewest crossings seen.
Crossings are counted between one-layer steps of edges, parallel edges weighing what
they number. Work budgets bound the sweeps and exchanges, so a huge graph gets fewer.
Deterministic: the same graph gives the same picture.

Nodes made in module calls are laid out as dot lays out clusters, so that the frame drawn
around each call holds its own cards only: a call's nodes take a block of layers, with room
for the frames between sibling calls (clusters.py), stay side by side in every layer with
sibling calls in one order (cluster_order.py), and get x-coordinates that keep every
frame's box clear of what lies outside it (placement.py). A parameter whose edges run
straight past many layers stands outside the cards they pass (hubs.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from explorer.layout.cluster_order import ClusterArranger, clustered_sweep, sort_by_median
from explorer.layout.cluster_order import Side as _Side
from explorer.layout.clusters import (
    Clusters,
    dummy_ancestors,
    fillers,
    layering_edges,
    node_calls,
    number_clusters,
    reached_layers,
)
from explorer.layout.crossings import Exchanger as _Exchanger
from explorer.layout.crossings import Hops as _Hops
from explorer.layout.crossings import band_crossings as _band_crossings
from explorer.layout.hubs import Outside, find_hubs, to_ends
from explorer.layout.placement import clustered_x

MAX_ITERATIONS = 24  # sweeps, alternating direction (dot's MaxIter)
MIN_QUIT = 8  # sweeps in a row without a real improvement before giving up (dot's MinQuit)
# With module calls a sweep also rearranges clusters, layer by layer in Python, and on the
# graphs measured (bench/bench_layout.py) the best order came within 4 sweeps of the last
# real improvement: later ones cost time and found nothing.
MIN_QUIT_CLUSTERED = 4
SWEEP_BUDGET = 300_000  # hops looked at by all sweeps: a huge graph gets fewer sweeps
TRANSPOSE_BUDGET = 2_000_000  # hop ends looked at by all exchanges
# Edges spanning up to ALWAYS_ROUTED_SPAN layers get dummies; longer ones up to
# MAX_ROUTED_SPAN too, shortest first, while their dummies don't outnumber the nodes.
# Longer edges are drawn straight: a weight shared by every step of an unrolled RNN
# would otherwise need dummies quadratic in its length.
ALWAYS_ROUTED_SPAN = 8
MAX_ROUTED_SPAN = 32
COORDINATE_PASSES = 6


@dataclass
class Layout:
    """Node positions (x across, y = layer) and the bend points of every edge."""

    positions: dict[str, tuple[float, float]]
    routes: dict[tuple[str, str, int], list[tuple[float, float]]]  # inner bends only


def layered(graph: nx.MultiDiGraph) -> Layout:
    if graph.number_of_nodes() == 0:
        return Layout({}, {})
    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    edges = [(index[u], index[v], k) for u, v, k in graph.edges(keys=True)]
    calls = node_calls(graph)
    clusters = number_clusters([calls[n] for n in ids])
    slots = [k if isinstance(k, int) else 0 for _, _, k in edges]  # keys are input slots
    if clusters is None:
        layer = _layers(len(ids), edges)
        chains, node_layer = _dummies(edges, layer)
        order = _order(chains, slots, node_layer)
        x = _coordinates(chains, node_layer, order)
    else:
        layer, chains, node_layer, x = _clustered(edges, slots, clusters, len(ids))
    positions = {n: (float(x[i]), float(layer[i])) for i, n in enumerate(ids)}
    routes = {}
    for (u, v, k), chain in zip(edges, chains, strict=True):
        inner = [(float(x[d]), float(node_layer[d])) for d in chain[1:-1]]
        if inner:
            routes[(ids[u], ids[v], k)] = inner
    return Layout(positions, routes)


def _clustered(
    edges: list[tuple[int, int, int]], slots: list[int], clusters: Clusters, count: int
) -> tuple[np.ndarray, list[list[int]], np.ndarray, np.ndarray]:
    """Layers, chains and x when nodes sit in module calls: frames apart, layers between."""
    try:
        layer = _layers(count + 2 * clusters.count, *layering_edges(edges, clusters, count))
    except nx.NetworkXUnfeasible:  # calls feeding each other back and forth: nodes alone
        layer = _layers(count, edges)
    layer = layer[:count]
    chains, node_layer = _dummies(edges, layer)
    layer_count = int(node_layer.max()) + 1
    reach = reached_layers(clusters, layer, layer_count)
    dummy_ancestors(chains, node_layer, clusters, reach)
    extra = np.array(fillers(clusters, node_layer, reach), dtype=np.int64)
    node_layer = np.concatenate([node_layer, extra])
    order = _order(chains, slots, node_layer, clusters)
    lower, upper = _segments(chains)
    hubs = find_hubs(chains, node_layer, clusters.ancestors, count)
    outside = None
    if len(hubs.node):  # a rough placement tells each hub its side
        outside = Outside(hubs, node_layer, count)
        outside.choose_sides(
            clustered_x(lower, upper, node_layer, order, clusters, count, passes=2)
        )
        to_ends(order, node_layer, hubs)
    x = clustered_x(lower, upper, node_layer, order, clusters, count, outside)
    drawn = len(node_layer) - len(extra)
    return layer, chains, node_layer, x - x[:drawn].min()


def _layers(
    count: int, edges: list[tuple[int, int, int]], lengths: np.ndarray | None = None
) -> np.ndarray:
    """Longest path from the inputs, then each node as late as its consumers allow; an
    edge spans at least its length (1 unless given)."""
    tails = np.array([u for u, _, _ in edges], dtype=np.int64)
    heads = np.array([v for _, v, _ in edges], dtype=np.int64)
    succs, start = _grouped(tails, heads, count)
    if lengths is None:
        lengths = np.ones(len(edges), dtype=np.int64)
    spans, _ = _grouped(tails, lengths, count)
    waiting = np.bincount(heads, minlength=count).tolist()
    order = [n for n in range(count) if waiting[n] == 0]
    layer = [0] * count
    for node in order:  # Kahn's topological sort: the list grows while it is read
        for i in range(start[node], start[node + 1]):
            s = succs[i]
            layer[s] = max(layer[s], layer[node] + spans[i])
            waiting[s] -= 1
            if waiting[s] == 0:
                order.append(s)
    if len(order) < count:
        raise nx.NetworkXUnfeasible("Graph contains a cycle")
    for node in reversed(order):
        if start[node] < start[node + 1]:
            layer[node] = min(
                [layer[succs[i]] - spans[i] for i in range(start[node], start[node + 1])]
            )
    return np.array(layer, dtype=np.int64)


def _grouped(keys: np.ndarray, values: np.ndarray, count: int) -> tuple[list[int], list[int]]:
    """values by key (0 .. count - 1), stable: group i is flat[start[i] : start[i + 1]].

    Two flat lists rather than a list per group: far fewer objects for the garbage
    collector to walk, which it does often while a big graph is laid out.
    """
    order = np.argsort(keys, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=count))])
    return values[order].tolist(), start.tolist()


def _dummies(
    edges: list[tuple[int, int, int]], layer: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    """Each edge as a chain of node indices, one per layer; dummies numbered after the nodes."""
    pairs = list(dict.fromkeys((u, v) for u, v, _ in edges))  # parallel edges share a route
    layers = layer.tolist()
    spans = [layers[v] - layers[u] for u, v in pairs]
    routed = _routed_span(np.array(spans, dtype=np.int64), len(layers))
    extra_layers: list[int] = []
    next_id = len(layers)
    shared: dict[tuple[int, int], list[int]] = {}
    for (u, v), span in zip(pairs, spans, strict=True):
        chain = [u]
        for step in range(layers[u] + 1, layers[v]) if span <= routed else ():
            chain.append(next_id)
            extra_layers.append(step)
            next_id += 1
        chain.append(v)
        shared[(u, v)] = chain
    chains = [shared[(u, v)] for u, v, _ in edges]
    node_layer = np.concatenate([layer, np.array(extra_layers, dtype=np.int64)])
    return chains, node_layer


def _routed_span(spans: np.ndarray, node_count: int) -> int:
    """The longest span that gets dummies: see ALWAYS_ROUTED_SPAN."""
    lengths = np.arange(MAX_ROUTED_SPAN + 1)
    edges = np.bincount(spans, minlength=MAX_ROUTED_SPAN + 1)[: MAX_ROUTED_SPAN + 1]
    dummies = np.cumsum(edges * np.maximum(lengths - 1, 0))  # to route every span up to i
    longest = ALWAYS_ROUTED_SPAN
    while longest < MAX_ROUTED_SPAN and dummies[longest + 1] <= node_count:
        longest += 1
    return longest


def _segments(chains: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Every step of every chain as (lower, upper) arrays; a straight long edge is one step."""
    lower = [a for chain in chains for a in chain[:-1]]
    upper = [b for chain in chains for b in chain[1:]]
    return np.array(lower, dtype=np.int64), np.array(upper, dtype=np.int64)


def _hops(chains: list[list[int]], node_layer: np.ndarray) -> _Hops:
    lower, upper = _segments(chains)
    short = node_layer[upper] - node_layer[lower] == 1
    count = len(node_layer)
    pair, weight = np.unique(lower[short] * count + upper[short], return_counts=True)
    return _Hops(pair // count, pair % count, weight.astype(np.int64))


def _order(
    chains: list[list[int]],
    slots: list[int],
    node_layer: np.ndarray,
    clusters: Clusters | None = None,
) -> np.ndarray:
    """Position of each node within its layer (0, 1, ...), with few crossings; with
    clusters, each cluster's nodes contiguous in every layer (see cluster_order)."""
    hops = _hops(chains, node_layer)
    layer_count = int(node_layer.max()) + 1
    position = _initial_order(chains, slots, node_layer)
    sweeper = _Sweeper(hops, node_layer, layer_count)
    inner = None if clusters is None else clusters.inner()
    exchanger = _Exchanger(hops, node_layer, inner, TRANSPOSE_BUDGET)
    arranger = None if clusters is None else ClusterArranger(clusters, node_layer)
    if arranger is not None:
        arranger.arrange_all(position)
    best, fewest = position.copy(), int(_band_crossings(hops, node_layer, position).sum())
    iterations = min(MAX_ITERATIONS, max(2, SWEEP_BUDGET // max(len(hops.lower), 1)))
    patience = MIN_QUIT if arranger is None else MIN_QUIT_CLUSTERED
    stale = 0
    for iteration in range(iterations):
        if fewest == 0 or stale >= patience:
            break
        stale += 1
        # As dot, to get off a plateau: every other pair of sweeps sorts equal medians the
        # other way, and the exchanges in the others swap pairs that cross as much swapped.
        reverse = iteration % 4 >= 2
        if arranger is None:
            sweeper.sweep(position, upward=iteration % 2 == 0, reverse=reverse)
        else:
            side = sweeper.below if iteration % 2 == 0 else sweeper.above
            clustered_sweep(arranger, side, position, iteration % 2 == 0, reverse)
        bands = _band_crossings(hops, node_layer, position)
        # the exchanges' gains are exact, so the count after them needs no recounting
        crossings = int(bands.sum()) - exchanger.transpose(position, bands > 0, not reverse)
        if crossings <= fewest:
            if crossings < 0.995 * fewest:  # dot's Convergence: still improving
                stale = 0
            best, fewest = position.copy(), crossings
    if arranger is not None:
        arranger.arrange_all(best)  # sibling clusters in one order in every layer
    if fewest > 0:
        exchanger.transpose(best, _band_crossings(hops, node_layer, best) > 0, False)
    return best


def _initial_order(chains: list[list[int]], slots: list[int], node_layer: np.ndarray) -> np.ndarray:
    """Order of first visit in a depth-first walk from the outputs toward the inputs.

    Each node's inputs are walked in slot order, so a tree comes out without crossings,
    and anything shared sits with the first consumer that reaches it.
    """
    count = len(node_layer)
    lower, upper = _segments(chains)
    slot = np.repeat(np.array(slots, dtype=np.int64), [len(chain) - 1 for chain in chains])
    # each node's inputs, last slot first: pushed so, the first slot is popped first
    by_input = np.lexsort((-lower, -slot))
    inputs, start = _grouped(upper[by_input], lower[by_input], count)
    has_output = np.bincount(lower, minlength=count) > 0
    seen = bytearray(count)
    visited: list[int] = []
    stack = np.flatnonzero(~has_output)[::-1].tolist()
    while stack:
        node = stack.pop()
        if seen[node]:
            continue
        seen[node] = 1
        visited.append(node)
        stack += inputs[start[node] : start[node + 1]]
    rank = np.empty(count, dtype=np.int64)
    rank[np.array(visited, dtype=np.int64)] = np.arange(count)
    # 0, 1, ... within each layer, in the order of the walk
    sequence = np.lexsort((rank, node_layer))
    sizes = np.bincount(node_layer)
    position = np.empty(count, dtype=np.int64)
    position[sequence] = np.arange(count) - (np.cumsum(sizes) - sizes)[node_layer[sequence]]
    return position


class _Sweeper:
    """Weighted-median sweeps: each layer sorted by its neighbours in the layer before it.

    Sequential, layer after layer, in plain Python: layers are mostly a handful of nodes,
    where list operations beat numpy's cost per call.
    """

    def __init__(self, hops: _Hops, node_layer: np.ndarray, layer_count: int) -> None:
        self.below = self._side(hops.upper, hops.lower, node_layer, layer_count)
        self.above = self._side(hops.lower, hops.upper, node_layer, layer_count)

    @staticmethod
    def _side(node: np.ndarray, other: np.ndarray, node_layer: np.ndarray, layer_count: int):
        count = len(node_layer)
        having = np.flatnonzero(np.bincount(node, minlength=count))
        movable, bounds = _grouped(node_layer[having], having, layer_count)
        layers: list[list[int] | None] = [None] * layer_count
        for k in np.flatnonzero(np.diff(bounds) > 1).tolist():
            layers[k] = movable[bounds[k] : bounds[k + 1]]
        return _Side(*_grouped(node, other, count), layers)

    def sweep(self, position: np.ndarray, upward: bool, reverse: bool) -> None:
        side = self.below if upward else self.above
        seen, start, movable = side.seen, side.start, side.movable
        layer_count = len(movable)
        steps = range(1, layer_count) if upward else range(layer_count - 2, -1, -1)
        slot_of = position.tolist()
        tie = -1 if reverse else 1  # equal medians keep their order, or swap it
        for k in steps:
            if movable[k] is not None:  # one node that can move has nowhere to go
                sort_by_median(movable[k], seen, start, slot_of, tie)
        position[:] = slot_of


def _coordinates(chains: list[list[int]], node_layer: np.ndarray, order: np.ndarray) -> np.ndarray:
    """x for every node: pulled toward its neighbours, keeping order and a gap of 1."""
    count = len(node_layer)
    lower, upper = _segments(chains)
    # All layers at once: nodes sorted by (layer, order); each layer is one run of that list.
    sequence = np.lexsort((order, node_layer))
    layer_of = node_layer[sequence]
    sizes = np.bincount(node_layer)
    rank = order[sequence]
    x = np.empty(count)
    x[sequence] = rank - (sizes[layer_of] - 1) / 2
    ends = np.concatenate([lower, upper])
    others = np.concatenate([upper, lower])
    hits = np.bincount(ends, minlength=count)
    for _ in range(COORDINATE_PASSES):
        sums = np.bincount(ends, weights=x[others], minlength=count)
        wanted = np.where(hits > 0, sums / np.maximum(hits, 1), x)
        x[sequence] = _spread(wanted[sequence], rank, layer_of, sizes)
    return x - x.min()


def _spread(
    wanted: np.ndarray, rank: np.ndarray, layer_of: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """Positions as close to wanted as keeps each layer's order with a gap of 1 between nodes.

    Subtracting each node's rank turns "at least 1 apart, in order" into "not decreasing",
    which a running maximum gives; a per-layer offset larger than any coordinate restarts
    the running maximum at every layer. Each layer is then re-centred on what it wanted.
    """
    span = float(np.abs(wanted).max() + len(wanted) + 1)
    lifted = wanted - rank + layer_of * (4 * span)
    placed = np.maximum.accumulate(lifted) - layer_of * (4 * span) + rank
    shift = np.bincount(layer_of, weights=placed - wanted, minlength=len(sizes))
    return placed - shift[layer_of] / np.maximum(sizes[layer_of], 1)
