"""x-coordinates that keep module calls' frames apart: every node and frame edge a variable.

As dot places clusters: each cluster has a left and a right edge; its nodes keep inside
with the frame's padding, a nested cluster inside its parent's, and neighbours in a layer
(a node, or the edge of a cluster's box) keep apart with a margin. These are difference
constraints on an acyclic graph (sibling clusters come in one order in every layer), so a
forward pass pushing right and a backward pass pushing left both satisfy them, and so does
their mean, which lands close to where each node is pulled by its neighbours.
"""

from __future__ import annotations

import numpy as np

from explorer.layout.clusters import CARD_W, FRAME_MARGIN, GAP_ACROSS, Clusters
from explorer.layout.hubs import Outside

PASSES = 6


def clustered_x(
    lower: np.ndarray,
    upper: np.ndarray,
    node_layer: np.ndarray,
    order: np.ndarray,
    clusters: Clusters,
    cards: int,
    outside: Outside | None = None,
    passes: int = PASSES,
) -> np.ndarray:
    """x for every node: pulled toward its neighbours, frames clear of what is outside, hubs
    beyond the cards their edges pass. Nodes below cards are cards; the rest, bends of edges,
    keep half as far from others."""
    count = len(node_layer)
    sequence = np.lexsort((order, node_layer))
    sizes = np.bincount(node_layer)
    x = np.empty(count)
    x[sequence] = order[sequence] - (sizes[node_layer[sequence]] - 1) / 2
    solver = _Constraints(sequence, node_layer, clusters, cards)
    ends = np.concatenate([lower, upper])
    others = np.concatenate([upper, lower])
    hits = np.bincount(ends, minlength=count)
    for _ in range(passes):
        sums = np.bincount(ends, weights=x[others], minlength=count)
        wanted = np.where(hits > 0, sums / np.maximum(hits, 1), x)
        if outside is not None:
            outside.place(x, wanted)
        x = solver.nearest(wanted)
    return x


class _Constraints:
    """x[b] >= x[a] + gap for every (a, b, gap); variables: the nodes, then each cluster's
    left and right edge (count + 2c, count + 2c + 1)."""

    def __init__(
        self, sequence: np.ndarray, node_layer: np.ndarray, clusters: Clusters, cards: int
    ) -> None:
        self.count = len(node_layer)
        tails, heads, gaps = self._collect(sequence, node_layer, clusters, cards)
        size = self.count + 2 * clusters.count
        # one constraint per pair, the widest gap
        key = tails * size + heads
        by_key = np.lexsort((-gaps, key))
        first = np.concatenate([[True], key[by_key][1:] != key[by_key][:-1]])
        tails, heads, gaps = tails[by_key][first], heads[by_key][first], gaps[by_key][first]
        self.size = size
        level = _levels(tails, heads, size)
        # forward: edges by the level of their head; backward: by the level of their tail
        self.forward = _by_level(tails, heads, gaps, level[heads], key=heads)
        self.backward = _by_level(heads, tails, -gaps, level[tails], key=tails)

    def _collect(
        self, sequence: np.ndarray, node_layer: np.ndarray, clusters: Clusters, cards: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        count = self.count
        ancestors = clusters.ancestors
        pad = clusters.pad
        half = CARD_W / 2 / GAP_ACROSS
        margin = FRAME_MARGIN / GAP_ACROSS
        # neighbours in a layer keep apart: cards a step, bends of edges half as far
        beside = np.flatnonzero(node_layer[sequence[1:]] == node_layer[sequence[:-1]])
        left_of, right_of = sequence[beside], sequence[beside + 1]
        tails, heads = [left_of], [right_of]
        gaps = [np.where((left_of < cards) & (right_of < cards), 1.0, 0.5)]
        # and when they sit in different clusters, so do the boxes they sit in
        ends: list[tuple[int, int, float]] = []
        for a, b in zip(left_of.tolist(), right_of.tolist(), strict=True):
            chain_a, chain_b = ancestors[a], ancestors[b]
            if chain_a == chain_b:
                continue
            shared = 0
            while shared < min(len(chain_a), len(chain_b)) and chain_a[shared] == chain_b[shared]:
                shared += 1
            left = count + 2 * chain_a[shared] + 1 if len(chain_a) > shared else a
            right = count + 2 * chain_b[shared] if len(chain_b) > shared else b
            gap = margin + (half if left == a else 0.0) + (half if right == b else 0.0)
            ends.append((left, right, gap))
        if ends:
            tails.append(np.array([e[0] for e in ends], dtype=np.int64))
            heads.append(np.array([e[1] for e in ends], dtype=np.int64))
            gaps.append(np.array([e[2] for e in ends]))
        # every node inside its innermost cluster's box, every cluster inside its parent's
        inner = clusters.inner()
        node = np.flatnonzero(inner >= 0)
        box = count + 2 * inner[node]
        inside = half + pad[inner[node]] / GAP_ACROSS
        child = np.flatnonzero(np.array(clusters.parent) >= 0)
        parent = np.array(clusters.parent, dtype=np.int64)[child]
        step = (pad[parent] - pad[child]) / GAP_ACROSS
        tails += [box, node, count + 2 * parent, count + 2 * child + 1]
        heads += [node, box + 1, count + 2 * child, count + 2 * parent + 1]
        gaps += [inside, inside, step, step]
        return np.concatenate(tails), np.concatenate(heads), np.concatenate(gaps).astype(float)

    def nearest(self, wanted: np.ndarray) -> np.ndarray:
        """A placement satisfying every constraint, each node close to where it is wanted."""
        free = np.full(self.size - self.count, np.inf)
        low = np.concatenate([wanted, -free])
        high = np.concatenate([wanted, free])
        for source, target, gap, first in self.forward:
            pushed = np.maximum.reduceat(low[source] + gap, first)
            low[target] = np.maximum(low[target], pushed)
        for source, target, gap, first in reversed(self.backward):
            pulled = np.minimum.reduceat(high[source] + gap, first)
            high[target] = np.minimum(high[target], pulled)
        return (low[: self.count] + high[: self.count]) / 2


def _by_level(
    source: np.ndarray, target: np.ndarray, gap: np.ndarray, level: np.ndarray, key: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Constraints grouped by level, ascending; within one, grouped by target: the sources'
    values (plus gaps) reduce at `first` into each distinct target."""
    order = np.lexsort((key, level))
    source, target, gap, level = source[order], target[order], gap[order], level[order]
    cuts = np.flatnonzero(np.diff(level)) + 1
    groups = []
    for s, t, g in zip(*(np.split(a, cuts) for a in (source, target, gap)), strict=True):
        first = np.concatenate([[0], np.flatnonzero(np.diff(t)) + 1])
        groups.append((s, t[first], g, first))
    return groups


def _levels(tails: np.ndarray, heads: np.ndarray, size: int) -> np.ndarray:
    """Each variable's longest chain of constraints from a free one: all of a level's
    constraints can be applied at once, after the levels before it. Kahn's order of the
    constraint graph, raising levels as it goes; a cycle would mean clusters out of order."""
    into = np.bincount(heads, minlength=size).tolist()
    out = np.argsort(tails, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(tails, minlength=size))]).tolist()
    succ = heads[out].tolist()
    level = [0] * size
    order = [v for v in range(size) if into[v] == 0]
    for v in order:  # the list grows while it is read
        after = level[v] + 1
        for w in succ[start[v] : start[v + 1]]:
            if level[w] < after:
                level[w] = after
            into[w] -= 1
            if into[w] == 0:
                order.append(w)
    if len(order) < size:
        raise ValueError("module calls' boxes are ordered inconsistently between layers")
    return np.array(level, dtype=np.int64)
