"""Ordering within layers that keeps each module call's nodes side by side.

As graphviz dot does with clusters: within every layer a cluster's nodes stay contiguous,
nested clusters inside their parent's run, and sibling clusters come in the same order in
every layer, so that each can be given a box of its own across the layers it spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.layout.clusters import Clusters, memberships


class ClusterArranger:
    """Sorts a layer by values while keeping clusters whole and sibling clusters in one order."""

    def __init__(self, clusters: Clusters, node_layer: np.ndarray) -> None:
        self.ancestors = clusters.ancestors
        self.cluster_count = clusters.count
        self.node_layer = node_layer
        self.sizes = np.bincount(node_layer)
        self.sizes_list = self.sizes.tolist()
        by_layer = np.argsort(node_layer, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(self.sizes)])
        flat = by_layer.tolist()
        cuts = bounds.tolist()
        self.layer_nodes = [flat[cuts[k] : cuts[k + 1]] for k in range(len(self.sizes))]
        # a layer whose nodes all sit in the same clusters sorts as if there were none
        number: dict[tuple[int, ...], int] = {}
        chain_id = np.array([number.setdefault(a, len(number)) for a in self.ancestors])
        in_order = chain_id[by_layer]
        starts = bounds[:-1][self.sizes > 0]
        same = np.ones(len(self.sizes), dtype=bool)
        same[self.sizes > 0] = np.minimum.reduceat(in_order, starts) == np.maximum.reduceat(
            in_order, starts
        )
        self.plain = same.tolist()
        self.member_node, self.member_cluster = memberships(self.ancestors)

    def ranks(self, position: np.ndarray) -> list[int]:
        """Every cluster's place among all: by the mean place of its nodes across its layers
        (each layer centred), so sibling clusters get one order for every layer."""
        centred = position - (self.sizes[self.node_layer] - 1) / 2
        count = self.cluster_count
        sums = np.bincount(self.member_cluster, centred[self.member_node], minlength=count)
        mean = sums / np.maximum(np.bincount(self.member_cluster, minlength=count), 1)
        order = np.lexsort((np.arange(count), mean))
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        return rank.tolist()

    def arrange_all(self, position: np.ndarray) -> None:
        """Make every layer's clusters contiguous and consistently ordered, in place,
        changing as little of the present order as that allows."""
        slot_of = position.tolist()
        rank = self.ranks(position)
        for nodes, plain in zip(self.layer_nodes, self.plain, strict=True):
            if not plain:
                value = {n: slot_of[n] for n in nodes}
                for i, n in enumerate(self.arrange(nodes, value, slot_of, 1, rank)):
                    slot_of[n] = i
        position[:] = slot_of

    def arrange(
        self, nodes: list[int], value: dict[int, float], slot_of: list[int], tie: int, rank: list
    ) -> list[int]:
        return _arrange(nodes, 0, value, slot_of, tie, self.ancestors, rank)


def _arrange(
    nodes: list[int],
    depth: int,
    value: dict[int, float],
    slot_of: list[int],
    tie: int,
    ancestors: list[tuple[int, ...]],
    rank: list[int],
) -> list[int]:
    """nodes (all inside the same depth clusters) in order: a node by its value, a cluster
    by its nodes' mean value; then the clusters among themselves by rank, in the places
    the clusters took."""
    direct: list[int] = []
    groups: dict[int, list[int]] = {}
    for n in nodes:
        chain = ancestors[n]
        if len(chain) == depth:
            direct.append(n)
        else:
            groups.setdefault(chain[depth], []).append(n)
    if not groups:
        return sorted(direct, key=lambda n: (value[n], tie * slot_of[n], n))
    entries: list[tuple[Any, ...]] = [(value[n], tie * slot_of[n], n, -1) for n in direct]
    for c, members in groups.items():
        mean = sum(value[m] for m in members) / len(members)
        entries.append((mean, tie * min(slot_of[m] for m in members), -1, c))
    entries.sort()
    ordered = iter(sorted((e[3] for e in entries if e[3] >= 0), key=rank.__getitem__))
    out: list[int] = []
    for entry in entries:
        if entry[3] < 0:
            out.append(entry[2])
        else:
            out += _arrange(groups[next(ordered)], depth + 1, value, slot_of, tie, ancestors, rank)
    return out


@dataclass
class Side:
    """Each node's neighbours on one side of its layer (a node's are seen[start[node] :
    start[node + 1]]), and by layer the nodes that have any, or None where fewer than two
    do: the others have nothing to go by and keep their slots, as in dot. Built once, read
    by every sweep."""

    seen: list[int]
    start: list[int]
    movable: list[list[int] | None]


def clustered_sweep(
    arranger: ClusterArranger, side: Side, position: np.ndarray, upward: bool, reverse: bool
) -> None:
    """One weighted-median sweep (see sugiyama._Sweeper) with clusters kept whole. A layer
    whose nodes share their clusters is sorted as without them; elsewhere a node without
    neighbours on the side looked at goes by its own place, scaled to that layer."""
    seen, start, movable = side.seen, side.start, side.movable
    sizes = arranger.sizes_list
    layer_count = len(sizes)
    steps = range(1, layer_count) if upward else range(layer_count - 2, -1, -1)
    slot_of = position.tolist()
    rank: list[int] | None = None
    tie = -1 if reverse else 1
    plain = arranger.plain
    for k in steps:
        if plain[k]:
            nodes = movable[k]
            if nodes is not None:  # one node that can move has nowhere to go
                sort_by_median(nodes, seen, start, slot_of, tie)
            continue
        nodes = arranger.layer_nodes[k]
        scale = sizes[k - 1 if upward else k + 1] / len(nodes)
        value: dict[int, float] = {}
        for node in nodes:
            first, last = start[node], start[node + 1]
            if last == first:
                value[node] = (slot_of[node] + 0.5) * scale - 0.5
            elif last - first == 1:
                value[node] = slot_of[seen[first]]
            else:
                value[node] = median(sorted([slot_of[m] for m in seen[first:last]]))
        if rank is None:
            rank = arranger.ranks(position)
        for i, n in enumerate(arranger.arrange(nodes, value, slot_of, tie, rank)):
            slot_of[n] = i
    position[:] = slot_of


def sort_by_median(
    nodes: list[int], seen: list[int], start: list[int], slot_of: list[int], tie: int
) -> None:
    """As without clusters: nodes with neighbours sorted by median into their own slots."""
    if len(nodes) == 2:  # most layers of a long chain: no lists to build and sort
        _sort_pair(nodes[0], nodes[1], seen, start, slot_of, tie)
        return
    slots, ranked = [], []
    for node in nodes:
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


def _sort_pair(
    a: int, b: int, seen: list[int], start: list[int], slot_of: list[int], tie: int
) -> None:
    """sort_by_median of two nodes, the same answer without its lists."""
    first, last = start[a], start[a + 1]
    at = (
        slot_of[seen[first]]
        if last - first == 1
        else median(sorted([slot_of[m] for m in seen[first:last]]))
    )
    first, last = start[b], start[b + 1]
    bt = (
        slot_of[seen[first]]
        if last - first == 1
        else median(sorted([slot_of[m] for m in seen[first:last]]))
    )
    sa, sb = slot_of[a], slot_of[b]
    low, high = (sa, sb) if sa < sb else (sb, sa)
    if (at, tie * sa, a) <= (bt, tie * sb, b):
        slot_of[a], slot_of[b] = low, high
    else:
        slot_of[b], slot_of[a] = low, high


def median(values: list[int]) -> float:
    """dot's weighted median: with an even count, lean toward the side packed tighter."""
    count = len(values)
    if count % 2:
        return values[count // 2]
    left, right = values[count // 2 - 1], values[count // 2]
    left_span, right_span = left - values[0], values[-1] - right
    if left_span + right_span == 0:
        return (left + right) / 2
    return (left * right_span + right * left_span) / (left_span + right_span)
