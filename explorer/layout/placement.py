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

PASSES = 6


def clustered_x(
    lower: np.ndarray,
    upper: np.ndarray,
    node_layer: np.ndarray,
    order: np.ndarray,
    clusters: Clusters,
    cards: int,
) -> np.ndarray:
    """x for every node: pulled toward its neighbours, frames clear of what is outside.
    Nodes below cards are cards; the rest, bends of edges, keep half as far from others."""
    count = len(node_layer)
    sequence = np.lexsort((order, node_layer))
    sizes = np.bincount(node_layer)
    x = np.empty(count)
    x[sequence] = order[sequence] - (sizes[node_layer[sequence]] - 1) / 2
    solver = _Constraints(sequence, node_layer, clusters, cards)
    ends = np.concatenate([lower, upper])
    others = np.concatenate([upper, lower])
    hits = np.bincount(ends, minlength=count)
    for _ in range(PASSES):
        sums = np.bincount(ends, weights=x[others], minlength=count)
        wanted = np.where(hits > 0, sums / np.maximum(hits, 1), x)
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
        tails: list[int] = []
        heads: list[int] = []
        gaps: list[float] = []
        order = sequence.tolist()
        layer = node_layer[sequence].tolist()
        for i in range(len(order) - 1):
            if layer[i] != layer[i + 1]:
                continue
            a, b = order[i], order[i + 1]
            tails.append(a), heads.append(b), gaps.append(1.0 if a < cards and b < cards else 0.5)
            chain_a, chain_b = ancestors[a], ancestors[b]
            if chain_a == chain_b:
                continue
            shared = 0
            while shared < min(len(chain_a), len(chain_b)) and chain_a[shared] == chain_b[shared]:
                shared += 1
            left = count + 2 * chain_a[shared] + 1 if len(chain_a) > shared else a
            right = count + 2 * chain_b[shared] if len(chain_b) > shared else b
            gap = margin + (half if left == a else 0.0) + (half if right == b else 0.0)
            tails.append(left), heads.append(right), gaps.append(gap)
        for node, chain in enumerate(ancestors):
            if chain:
                inside = half + pad[chain[-1]] / GAP_ACROSS
                c = chain[-1]
                tails += [count + 2 * c, node]
                heads += [node, count + 2 * c + 1]
                gaps += [inside, inside]
        for c, p in enumerate(clusters.parent):
            if p >= 0:
                step = (pad[p] - pad[c]) / GAP_ACROSS
                tails += [count + 2 * p, count + 2 * c + 1]
                heads += [count + 2 * c, count + 2 * p + 1]
                gaps += [step, step]
        return (
            np.array(tails, dtype=np.int64),
            np.array(heads, dtype=np.int64),
            np.array(gaps, dtype=float),
        )

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
    constraints can be applied at once, after the levels before it."""
    order = _topological(tails, heads, size)
    out = np.argsort(tails, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(tails, minlength=size))]).tolist()
    succ = heads[out].tolist()
    level = [0] * size
    for v in order:
        after = level[v] + 1
        for w in succ[start[v] : start[v + 1]]:
            if level[w] < after:
                level[w] = after
    return np.array(level, dtype=np.int64)


def _topological(tails: np.ndarray, heads: np.ndarray, size: int) -> list[int]:
    """Kahn's order of the constraint graph; a cycle would mean clusters out of order."""
    into = np.bincount(heads, minlength=size).tolist()
    out = np.argsort(tails, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(tails, minlength=size))]).tolist()
    succ = heads[out].tolist()
    order = [v for v in range(size) if into[v] == 0]
    for v in order:  # the list grows while it is read
        for w in succ[start[v] : start[v + 1]]:
            into[w] -= 1
            if into[w] == 0:
                order.append(w)
    if len(order) < size:
        raise ValueError("module calls' boxes are ordered inconsistently between layers")
    return order
