"""Crossings between neighbouring layers: counted, and removed by exchanging neighbours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRANSPOSE_ROUNDS = 16  # rounds of exchanges after a sweep, at most


@dataclass
class Hops:
    """Steps from one layer to the next, each once: crossings happen only between these."""

    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray  # edges taking the step: parallel edges share their chain


def band_crossings(hops: Hops, node_layer: np.ndarray, position: np.ndarray) -> np.ndarray:
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


class Exchanger:
    """dot's transpose: swap neighbours in a layer when that removes crossings with both
    neighbouring layers, until no swap does.

    Many pairs are weighed at once: a swap's gain depends only on the layers beside the
    pair's, so pairs at slots of one parity in layers of one parity can all swap together,
    each gain staying exact. Only layers next to a crossing, or to a swap, are looked at.
    """

    def __init__(
        self, hops: Hops, node_layer: np.ndarray, inner: np.ndarray | None, budget: int
    ) -> None:
        count = len(node_layer)
        self.node_layer = node_layer
        self.inner = inner  # each node's innermost cluster: only a cluster's own swap
        self.sizes = np.bincount(node_layer)
        self.budget = budget  # hop ends it may look at, in all
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
