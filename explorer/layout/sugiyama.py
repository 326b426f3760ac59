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
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from explorer.layout.cluster_order import ClusterArranger, clustered_sweep, median
from explorer.layout.clusters import (
    Clusters,
    dummy_ancestors,
    fillers,
    layering_edges,
    node_calls,
    number_clusters,
    reached_layers,
)
from explorer.layout.placement import clustered_x

MAX_ITERATIONS = 24  # sweeps, alternating direction (dot's MaxIter)
MIN_QUIT = 8  # sweeps in a row without a real improvement before giving up (dot's MinQuit)
SWEEP_BUDGET = 300_000  # hops looked at by all sweeps: a huge graph gets fewer sweeps
TRANSPOSE_ROUNDS = 16  # rounds of exchanges after a sweep, at most
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


def _clustered(edges: list[tuple[int, int, int]], slots: list[int], clusters: Clusters, count: int):
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
    x = clustered_x(lower, upper, node_layer, order, clusters)
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


@dataclass
class _Hops:
    """Steps from one layer to the next, each once: crossings happen only between these."""

    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray  # edges taking the step: parallel edges share their chain


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
    exchanger = _Exchanger(hops, node_layer, None if clusters is None else clusters.inner())
    arranger = None if clusters is None else ClusterArranger(clusters, node_layer)
    if arranger is not None:
        arranger.arrange_all(position)
    best, fewest = position.copy(), int(_band_crossings(hops, node_layer, position).sum())
    iterations = min(MAX_ITERATIONS, max(2, SWEEP_BUDGET // max(len(hops.lower), 1)))
    stale = 0
    for iteration in range(iterations):
        if fewest == 0 or stale >= MIN_QUIT:
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
        """Each node's neighbours on one side, and by layer the nodes that have any: the
        others have nothing to go by and keep their slots, as in dot."""
        count = len(node_layer)
        having = np.flatnonzero(np.bincount(node, minlength=count))
        return (*_grouped(node, other, count), *_grouped(node_layer[having], having, layer_count))

    def sweep(self, position: np.ndarray, upward: bool, reverse: bool) -> None:
        # node's neighbours: seen[start[node] : start[node + 1]]; layer k's nodes that have
        # any: movable[bounds[k] : bounds[k + 1]]
        seen, start, movable, bounds = self.below if upward else self.above
        layer_count = len(bounds) - 1
        steps = range(1, layer_count) if upward else range(layer_count - 2, -1, -1)
        slot_of = position.tolist()
        tie = -1 if reverse else 1  # equal medians keep their order, or swap it
        for k in steps:
            if bounds[k + 1] - bounds[k] < 2:
                continue  # one node that can move has nowhere to go
            slots, ranked = [], []
            for node in movable[bounds[k] : bounds[k + 1]]:
                first, last = start[node], start[node + 1]
                middle = (
                    slot_of[seen[first]]
                    if last - first == 1
                    else median(sorted([slot_of[m] for m in seen[first:last]]))
                )
                slot = slot_of[node]
                slots.append(slot)
                ranked.append((middle, tie * slot, node))
            slots.sort()
            ranked.sort()
            for slot, (_, _, node) in zip(slots, ranked, strict=True):
                slot_of[node] = slot
        position[:] = slot_of


def _band_crossings(hops: _Hops, node_layer: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Weighted crossings in each band (between layer k and k + 1): hop pairs whose ends
    come in opposite orders in the two layers."""
    band = node_layer[hops.lower]
    low, high = position[hops.lower], position[hops.upper]
    order = np.lexsort((high, low, band))  # equal lows (one node) never cross
    return _inversions(band[order], high[order], hops.weight[order], int(node_layer.max()) + 1)


def _inversions(group: np.ndarray, values: np.ndarray, weight: np.ndarray, groups: int):
    """Per group, the sum of weight[i] * weight[j] over pairs i < j of the group with
    values[i] > values[j]; the arrays come sorted by group.

    A bottom-up merge sort within each group, a level at a time in numpy: in every block
    of 2w elements, each element of the right half meets the weight of the larger elements
    in its sorted left half. Blocks start where groups start, so small groups (most
    layers) are done in a few levels however many there are.
    """
    sizes = np.bincount(group, minlength=groups)
    first = (np.cumsum(sizes) - sizes)[group]  # where each element's group starts
    rank = np.arange(len(group)) - first  # place within the group
    big = int(values.max(initial=0)) + 1
    found = np.zeros(groups)
    width = 1
    while width < sizes.max(initial=0):
        block = first + rank // (2 * width)  # rises along the array, one number a block
        right = rank % (2 * width) >= width
        keyed = block * big + values  # each half is sorted; blocks keep apart
        left_keys = keyed[~right]
        left_weight = np.concatenate([[0], np.cumsum(weight[~right])])
        end = np.searchsorted(left_keys, (block[right] + 1) * big)
        larger = left_weight[end] - left_weight[np.searchsorted(left_keys, keyed[right], "right")]
        found += np.bincount(group[right], weights=weight[right] * larger, minlength=groups)
        merged = np.argsort(keyed, kind="stable")
        values, weight = values[merged], weight[merged]
        width *= 2
    return np.rint(found).astype(np.int64)


class _Exchanger:
    """dot's transpose: swap neighbours in a layer when that removes crossings with both
    neighbouring layers, until no swap does.

    Many pairs are weighed at once: a swap's gain depends only on the layers beside the
    pair's, so pairs at slots of one parity in layers of one parity can all swap together,
    each gain staying exact. Only layers next to a crossing, or to a swap, are looked at.
    """

    def __init__(self, hops: _Hops, node_layer: np.ndarray, inner: np.ndarray | None) -> None:
        count = len(node_layer)
        self.node_layer = node_layer
        self.inner = inner  # each node's innermost cluster: only a cluster's own swap
        self.sizes = np.bincount(node_layer)
        self.budget = TRANSPOSE_BUDGET
        # Every hop from both ends: (node, side, other end, weight), sorted by node.
        node = np.concatenate([hops.lower, hops.upper])
        side = np.concatenate([np.ones_like(hops.lower), np.zeros_like(hops.upper)])
        other = np.concatenate([hops.upper, hops.lower])
        weight = np.concatenate([hops.weight, hops.weight])
        by_node = np.argsort(node, kind="stable")
        self.side, self.other, self.weight = side[by_node], other[by_node], weight[by_node]
        self.degree = np.bincount(node, minlength=count)
        self.start = np.cumsum(self.degree) - self.degree

    def transpose(self, position: np.ndarray, crossed: np.ndarray, equal_swaps: bool) -> int:
        """Exchange in place; return the crossings removed. crossed: the bands (between
        layer k and k + 1) that have crossings, so only their layers are looked at first."""
        active = crossed.copy()
        active[1:] |= crossed[:-1]
        sequence = np.lexsort((position, self.node_layer))  # by layer, then slot
        removed = 0
        for _ in range(TRANSPOSE_ROUNDS):
            gained, swapped = 0, np.zeros_like(active)
            for parities in ((0, 0), (0, 1), (1, 0), (1, 1)):
                if self.budget <= 0:
                    return removed + gained
                gained += self._step(position, sequence, parities, active, equal_swaps, swapped)
            removed += gained
            if gained == 0:
                break
            # a swap changes what the layers beside it see: they get another look
            active = swapped.copy()
            active[1:] |= swapped[:-1]
            active[:-1] |= swapped[1:]
        return removed

    def _step(self, position, sequence, parities, active, equal_swaps, swapped) -> int:
        layer_parity, slot_parity = parities
        layer, slot = self.node_layer[sequence], position[sequence]
        candidate = np.flatnonzero(
            active[layer]
            & (layer % 2 == layer_parity)
            & (slot % 2 == slot_parity)
            & (slot + 1 < self.sizes[layer])
        )
        if not len(candidate):
            return 0
        left, right = sequence[candidate], sequence[candidate + 1]
        if self.inner is not None:
            same = self.inner[left] == self.inner[right]
            candidate, left, right = candidate[same], left[same], right[same]
            if not len(candidate):
                return 0
        now, after = self._weigh(position, left, right)
        swap = (after < now) | (equal_swaps & (after == now) & (now > 0))
        if not swap.any():
            return 0
        position[left[swap]] += 1
        position[right[swap]] -= 1
        moved = candidate[swap]
        sequence[moved], sequence[moved + 1] = right[swap], left[swap]
        swapped[layer[moved]] = True
        return int((now - after)[swap].sum())

    def _weigh(self, position, left, right) -> tuple[np.ndarray, np.ndarray]:
        """Crossings between the hops of left[i] and right[i], as they are and swapped."""
        left_pair, left_end = self._ends(left)
        right_pair, right_end = self._ends(right)
        self.budget -= len(left_end) + len(right_end)
        width = int(self.sizes.max()) + 1
        # a group: one pair's hops to one side; keyed by the far end's slot within it
        group = left_pair * 2 + self.side[left_end]
        key = group * width + position[self.other[left_end]]
        right_key = (right_pair * 2 + self.side[right_end]) * width
        right_key += position[self.other[right_end]]
        by_key = np.argsort(right_key, kind="stable")
        right_key = right_key[by_key]
        total = np.concatenate([[0], np.cumsum(self.weight[right_end][by_key])])
        first = total[np.searchsorted(right_key, group * width)]
        last = total[np.searchsorted(right_key, group * width + width)]
        lower = total[np.searchsorted(right_key, key)] - first
        higher = last - total[np.searchsorted(right_key, key, "right")]
        weight = self.weight[left_end]
        now = np.bincount(left_pair, weights=weight * lower, minlength=len(left))
        after = np.bincount(left_pair, weights=weight * higher, minlength=len(left))
        return now, after

    def _ends(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every hop end at the given nodes: which of the nodes it belongs to, and its entry."""
        degree = self.degree[nodes]
        pair = np.repeat(np.arange(len(nodes)), degree)
        offset = np.arange(len(pair)) - np.repeat(np.cumsum(degree) - degree, degree)
        return pair, self.start[nodes][pair] + offset


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
