"""A layered (Sugiyama-style) layout on numpy: layers, dummy nodes, crossing reduction, coordinates.

Inputs sit in layer 0 and every edge points to a higher layer. An edge spanning several
layers is routed through one dummy node per layer it crosses, so it bends around cards
instead of running through them. Deterministic: the same graph gives the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

SWEEPS = 6  # barycenter passes, alternating down and up, for graphs of moderate depth
SWEEP_BUDGET = 40_000  # layer visits in all sweeps: very deep graphs get fewer sweeps
# Edges spanning more layers than this are drawn straight, without dummies: a weight shared
# by every step of an unrolled RNN would otherwise need dummies quadratic in its length.
MAX_ROUTED_SPAN = 8
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
    layer = _layers(graph, ids, index)
    edges = [(index[u], index[v], k) for u, v, k in graph.edges(keys=True)]
    chains, node_layer = _dummies(edges, layer)
    order = _order(chains, node_layer)
    x = _coordinates(chains, node_layer, order)
    positions = {n: (float(x[i]), float(layer[i])) for i, n in enumerate(ids)}
    routes = {}
    for (u, v, k), chain in zip(edges, chains, strict=True):
        inner = [(float(x[d]), float(node_layer[d])) for d in chain[1:-1]]
        if inner:
            routes[(ids[u], ids[v], k)] = inner
    return Layout(positions, routes)


def _layers(graph: nx.MultiDiGraph, ids: list[str], index: dict[str, int]) -> np.ndarray:
    """Longest path from the inputs, then each node as late as its consumers allow."""
    order = [index[n] for n in nx.topological_sort(graph)]
    preds = [[index[p] for p in graph.predecessors(n)] for n in ids]
    succs = [[index[s] for s in graph.successors(n)] for n in ids]
    layer = np.zeros(len(ids), dtype=np.int64)
    for node in order:
        if preds[node]:
            layer[node] = max(layer[p] for p in preds[node]) + 1
    for node in reversed(order):
        if succs[node]:
            layer[node] = min(layer[s] for s in succs[node]) - 1
    return layer


def _dummies(
    edges: list[tuple[int, int, int]], layer: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    """Each edge as a chain of node indices, one per layer; dummies numbered after the nodes."""
    chains: list[list[int]] = []
    extra_layers: list[int] = []
    next_id = len(layer)
    shared: dict[tuple[int, int], list[int]] = {}  # parallel edges (x * x) share one route
    for u, v, _ in edges:
        if (u, v) in shared:
            chains.append(shared[(u, v)])
            continue
        chain = [u]
        span = int(layer[v]) - int(layer[u])
        for step in range(int(layer[u]) + 1, int(layer[v])) if span <= MAX_ROUTED_SPAN else ():
            chain.append(next_id)
            extra_layers.append(step)
            next_id += 1
        chain.append(v)
        chains.append(chain)
        shared[(u, v)] = chain
    node_layer = np.concatenate([layer, np.array(extra_layers, dtype=np.int64)])
    return chains, node_layer


def _segments(chains: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Every one-layer hop as (lower, upper) arrays."""
    lower = [a for chain in chains for a in chain[:-1]]
    upper = [b for chain in chains for b in chain[1:]]
    return np.array(lower, dtype=np.int64), np.array(upper, dtype=np.int64)


def _by_layer(nodes: np.ndarray, node_layer: np.ndarray, layer_count: int) -> list[np.ndarray]:
    """Indices into nodes, grouped by the layer of each node."""
    keys = node_layer[nodes]
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(layer_count + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(layer_count)]


def _order(chains: list[list[int]], node_layer: np.ndarray) -> np.ndarray:
    """Position of each node within its layer, after barycenter sweeps."""
    count = len(node_layer)
    layer_count = int(node_layer.max()) + 1
    lower, upper = _segments(chains)
    layers = _by_layer(np.arange(count), node_layer, layer_count)
    up_segments = _by_layer(upper, node_layer, layer_count)  # segments arriving from below
    down_segments = _by_layer(lower, node_layer, layer_count)  # segments leaving upward
    position = np.zeros(count)
    for members in layers:
        position[members] = np.arange(len(members))
    sweeps = max(2, min(SWEEPS, SWEEP_BUDGET // layer_count))
    for sweep in range(sweeps):
        downward = sweep % 2 == 1
        steps = range(layer_count - 2, -1, -1) if downward else range(1, layer_count)
        for k in steps:
            members = layers[k]
            chosen = down_segments[k] if downward else up_segments[k]
            if len(members) < 2 or not len(chosen):
                continue
            moving = lower[chosen] if downward else upper[chosen]
            fixed = upper[chosen] if downward else lower[chosen]
            # positions within a layer are 0..n-1, so they index the layer's own bins
            slot = position[moving].astype(np.int64)
            sums = np.bincount(slot, weights=position[fixed], minlength=len(members))
            hits = np.bincount(slot, minlength=len(members))
            by_slot = members[np.argsort(position[members], kind="stable")]
            centre = np.where(hits > 0, sums / np.maximum(hits, 1), np.arange(len(members)))
            ranked = by_slot[np.lexsort((np.arange(len(members)), centre))]
            position[ranked] = np.arange(len(ranked))
    return position


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
