"""Nodes whose edges run mostly straight across many layers, kept at the outside of the drawing.

A parameter that every step of an unrolled loop uses has an edge to each step, too long to
route, so drawn straight; a straight edge crosses whatever lies between its ends. Pulled
toward the cards it feeds, such a node sits among them and its fan of edges runs through
every step it passes. At an end of its layer, placed beyond the cards of the layers its
edges span, the fan runs beside the drawing instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTSIDE = 2.0  # layout units beyond the widest card of the layers a hub's edges span


@dataclass
class Hubs:
    """The hubs of one graph: nodes, the side each keeps to, the layers their edges span."""

    node: np.ndarray
    left: np.ndarray  # True: the left end of its layer; False: the right end
    low: np.ndarray  # lowest and highest layer its straight edges reach
    high: np.ndarray
    edge_hub: np.ndarray  # every straight edge at a hub: which hub (an index into node)
    edge_far: np.ndarray  # and the node at its other end
    reached: np.ndarray | None = None  # mean x of the cards its straight edges reach


def find_hubs(
    chains: list[list[int]], node_layer: np.ndarray, ancestors: list[tuple[int, ...]], cards: int
) -> Hubs:
    """Cards outside every module call with more edges drawn straight past other layers than
    not: outside every call, a node can stand at an end of its layer without leaving a box."""
    tails = np.array([chain[0] for chain in chains], dtype=np.int64)
    heads = np.array([chain[-1] for chain in chains], dtype=np.int64)
    routed = np.array([len(chain) for chain in chains], dtype=np.int64) > 2
    straight = ~routed & (node_layer[heads] - node_layer[tails] > 1)
    ends = np.concatenate([tails, heads])
    far = np.concatenate([heads, tails])
    both = np.concatenate([straight, straight])
    degree = np.bincount(ends, minlength=cards)
    long = np.bincount(ends[both], minlength=cards)
    top = np.array([not chain for chain in ancestors[:cards]], dtype=bool)
    node = np.flatnonzero(top & (2 * long > degree))
    low = node_layer[node].copy()
    high = node_layer[node].copy()
    hub_of = np.full(cards, -1, dtype=np.int64)
    hub_of[node] = np.arange(len(node))
    which = hub_of[ends[both]]
    hit = which >= 0
    edge_hub, edge_far = which[hit], far[both][hit]
    np.minimum.at(low, edge_hub, node_layer[edge_far])
    np.maximum.at(high, edge_hub, node_layer[edge_far])
    left = np.zeros(len(node), dtype=bool)
    return Hubs(node, left, low, high, edge_hub, edge_far)


def to_ends(position: np.ndarray, node_layer: np.ndarray, hubs: Hubs) -> None:
    """Move each hub to its side's end of its layer, in place, the others keeping their order.
    Hubs at one end come in the order of the cards they reach (ties by place), so that their
    fans, side by side, cross each other less."""
    reached = position[hubs.node] if hubs.reached is None else hubs.reached
    for k in np.unique(node_layer[hubs.node]).tolist():
        nodes = np.flatnonzero(node_layer == k)
        nodes = nodes[np.argsort(position[nodes], kind="stable")]
        mine = node_layer[hubs.node] == k
        rest = nodes[~np.isin(nodes, hubs.node[mine])]
        ends = []
        for side in (mine & hubs.left, mine & ~hubs.left):
            ends.append(hubs.node[side][np.lexsort((position[hubs.node[side]], reached[side]))])
        position[np.concatenate([ends[0], rest, ends[1]])] = np.arange(len(nodes))


class Outside:
    """Where hubs are wanted: beyond the cards of the layers their edges span."""

    def __init__(self, hubs: Hubs, node_layer: np.ndarray, cards: int) -> None:
        self.hubs = hubs
        others = np.ones(cards, dtype=bool)
        others[hubs.node] = False
        card = np.flatnonzero(others)
        self.cards = card[np.argsort(node_layer[card], kind="stable")]
        layer = node_layer[self.cards]
        self.layers, self.first = np.unique(layer, return_index=True)

    def _extent(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per hub, the least and the most x of the cards in the layers its edges span."""
        values = x[self.cards]
        least = np.minimum.reduceat(values, self.first)
        most = np.maximum.reduceat(values, self.first)
        start = np.searchsorted(self.layers, self.hubs.low)
        stop = np.searchsorted(self.layers, self.hubs.high, "right")
        low, high = np.full(len(start), np.nan), np.full(len(start), np.nan)
        for i, (a, b) in enumerate(zip(start.tolist(), stop.tolist(), strict=True)):
            if a < b:
                low[i], high[i] = least[a:b].min(), most[a:b].max()
        return low, high

    def choose_sides(self, x: np.ndarray) -> None:
        """Each hub to the side of the middle of the cards its edges pass (at x) where the
        cards at their other ends lie, on average."""
        hubs = self.hubs
        if len(hubs.node) and len(self.cards):
            low, high = self._extent(x)
            count = np.bincount(hubs.edge_hub, minlength=len(hubs.node))
            far = np.bincount(hubs.edge_hub, x[hubs.edge_far], len(hubs.node))
            hubs.reached = far / np.maximum(count, 1)
            hubs.left = hubs.reached < (low + high) / 2

    def place(self, x: np.ndarray, wanted: np.ndarray) -> None:
        """Set the hubs' wanted x from the cards' present x."""
        hubs = self.hubs
        if not len(hubs.node) or not len(self.cards):
            return
        low, high = self._extent(x)
        edge = np.where(hubs.left, low - OUTSIDE, high + OUTSIDE)
        known = ~np.isnan(edge)
        wanted[hubs.node[known]] = edge[known]
