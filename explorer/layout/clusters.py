"""Module calls as nested clusters of the layered layout: which call each node belongs to.

A node belongs to the calls it was made in (`calls`, outermost first); a module's own
parameter, made outside any call, joins the calls all its uses share. A collapsed call's
card (kind "call") belongs to the calls around it. The layout keeps each call's nodes
together and the frame drawn around them clear of every node and frame outside it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

Chain = tuple[str, ...]

# Scene units, as the window draws (explorer/view/geometry.py, ui/graph/frames_item.py).
CARD_W, CARD_H = 2.2, 1.1
GAP_ALONG, GAP_ACROSS = 2.0, 3.1  # one layer, one step across, in scene units
FRAME_PAD = 0.3  # between a frame and what it holds, per level of nesting
FRAME_NAME = 0.34  # the name on a frame's top edge
FRAME_MARGIN = 0.2  # clear space left between a frame and anything outside it


def module_of(call: str) -> str:
    """`cell#3` -> `cell`: the module's path without the call number."""
    return call.partition("#")[0]


def call_label(call: str, parent: str | None) -> str:
    """`enc.layers.3` inside `enc` -> `layers.3`; a repeated call gets its number."""
    path, _, number = call.partition("#")
    base = module_of(parent) if parent else ""
    short = path[len(base) + 1 :] if base and path.startswith(base + ".") else path
    return f"{short} · call {int(number) + 1}" if number else short


def node_calls(graph: nx.MultiDiGraph) -> dict[Any, Chain]:
    """Each node's module calls; a module's own parameter joins the calls its uses share,
    and a collapsed call's card the calls around it."""
    nodes = graph.nodes(data=True)
    calls = {n: tuple(_get(a, "calls") or ()) for n, a in nodes}
    cards = [n for n, a in nodes if _get(a, "kind") == "call" and _get(a, "call")]
    if cards:
        known = _known_calls(calls.values())
        for card in cards:
            calls[card] = _around(_get(graph.nodes[card], "call"), known)
    for node, attrs in nodes:
        name = _get(attrs, "name")
        if calls[node] or not name or _get(attrs, "kind") != "leaf":
            continue
        calls[node] = parameter_calls(name, [calls[s] for s in graph.successors(node)])
    return calls


def parameter_calls(name: str, uses: list[Chain]) -> Chain:
    """The calls a module's parameter belongs to: those all its uses share, down to the
    innermost call of a module that owns it (`model.0.weight` stays out of `model.0.act`)."""
    shared = _common_prefix(uses)
    while shared and not name.startswith(module_of(shared[-1]) + "."):
        shared = shared[:-1]
    return shared


def _get(attrs: Any, key: str) -> Any:
    """A node attribute or None: a GraphNode's field directly (its mapping is slower)."""
    return attrs.get(key) if isinstance(attrs, dict) else getattr(attrs, key, None)


def _common_prefix(chains: list[Chain]) -> Chain:
    if not chains:
        return ()
    first = chains[0]
    length = len(first)
    for chain in chains[1:]:
        length = min(length, len(chain))
        while length and chain[:length] != first[:length]:
            length -= 1
    return first[:length]


def _known_calls(chains: Any) -> dict[str, list[Chain]]:
    """Every call seen in a chain, by its module's path: the chain that ends with it."""
    known: dict[str, list[Chain]] = {}
    seen: set[Chain] = set()
    for chain in chains:
        for i in range(len(chain)):
            head = chain[: i + 1]
            if head not in seen:
                seen.add(head)
                known.setdefault(module_of(chain[i]), []).append(head)
    return known


def _around(call: str, known: dict[str, list[Chain]]) -> Chain:
    """The open calls around a collapsed call. A card has no chain of its own, so its
    module's path tells where it sits: inside the deepest call seen elsewhere whose module
    holds its module (the same call number preferred), and inside a first call of each
    module on the path between (a container that is never called, as a ModuleList, only
    adds a box that holds the same cards)."""
    path, _, number = call.partition("#")
    parts = path.split(".")
    around: Chain = ()
    start = 1
    for cut in range(len(parts) - 1, 0, -1):
        found = known.get(".".join(parts[:cut]))
        if found:
            same = [c for c in found if c[-1].partition("#")[2] == number]
            around, start = (same or found)[0], cut + 1
            break
    return around + tuple(".".join(parts[:i]) for i in range(start, len(parts)))


@dataclass
class Clusters:
    """The calls of one graph as numbered clusters; cluster -1 is the whole graph."""

    parent: list[int]  # enclosing cluster, -1 at the top
    depth: list[int]  # 0 at the top
    pad: np.ndarray  # scene units between the cluster's frame and its cards
    ancestors: list[tuple[int, ...]]  # per node (dummies and fillers too), outermost first

    @property
    def count(self) -> int:
        return len(self.parent)

    def inner(self) -> np.ndarray:
        """Each node's innermost cluster, -1 for none."""
        return np.array([a[-1] if a else -1 for a in self.ancestors], dtype=np.int64)


def number_clusters(chains: list[Chain]) -> Clusters | None:
    """Numbered clusters and each node's, or None when no node is in a call."""
    number: dict[Chain, int] = {}
    parent: list[int] = []
    ancestors: list[tuple[int, ...]] = []
    for chain in chains:
        ids = []
        for i in range(len(chain)):
            head = chain[: i + 1]
            if head not in number:
                number[head] = len(parent)
                parent.append(ids[-1] if ids else -1)
            ids.append(number[head])
        ancestors.append(tuple(ids))
    if not parent:
        return None
    depth = [0] * len(parent)
    for c, p in enumerate(parent):  # a parent is numbered before its children
        depth[c] = depth[p] + 1 if p >= 0 else 0
    deepest = max(depth)
    pad = FRAME_PAD * (1 + deepest - np.array(depth, dtype=float))
    return Clusters(parent, depth, pad, ancestors)


def reach_below(pad: float) -> int:
    """Layers under a frame's lowest cards that its frame reaches into: a layer is reached
    when the frame enters the band between it and its neighbours (half a layer each way)."""
    return math.ceil((CARD_H / 2 + pad) / GAP_ALONG + 0.5) - 1


def reach_above(pad: float) -> int:
    """Layers over a frame's highest cards that its frame (with its name) reaches into."""
    return math.ceil((CARD_H / 2 + pad + FRAME_NAME) / GAP_ALONG + 0.5) - 1


def layering_edges(
    edges: list[tuple[int, int, int]], clusters: Clusters, count: int
) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """The edges to layer by, with the layers each must span, as dot ranks clusters: each
    cluster gets a bottom and a top (nodes count + 2c, count + 2c + 1) that its nodes lie
    between, and an edge leaving a cluster for a sibling, or for a node beside it, runs
    from the cluster's top with room for its frame, so sibling calls stack one above the
    other with their frames apart. Frames one above the other need no room across."""
    ancestors = clusters.ancestors
    pad = clusters.pad
    extra: dict[tuple[int, int], int] = {}
    for node, chain in enumerate(ancestors[:count]):
        if chain:
            extra[(count + 2 * chain[-1], node)] = 0
            extra[(node, count + 2 * chain[-1] + 1)] = 0
    for c, p in enumerate(clusters.parent):
        if p >= 0:
            extra[(count + 2 * p, count + 2 * c)] = 0
            extra[(count + 2 * c + 1, count + 2 * p + 1)] = 0
    computed = {v for _, v, _ in edges}
    for u, v, _ in edges:
        a, b = ancestors[u], ancestors[v]
        if a == b:
            continue
        shared = _shared(a, b)
        tail, head, span = u, v, 1
        if len(a) > shared:
            tail = count + 2 * a[shared] + 1
            span += reach_above(pad[a[shared]])
        # An input or a parameter from outside may stand beside a call, level with its use,
        # rather than below the whole call: the order keeps it out of the call's box.
        if len(b) > shared and (u in computed or tail != u):
            head = count + 2 * b[shared]
            span += reach_below(pad[b[shared]])
        if (tail, head) != (u, v):
            extra[(tail, head)] = max(extra.get((tail, head), 0), span)
    lengths = np.ones(len(edges) + len(extra), dtype=np.int64)
    lengths[len(edges) :] = list(extra.values())
    return [*edges, *((u, v, 0) for u, v in extra)], lengths


def _shared(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many outer clusters two nodes share."""
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared


def reached_layers(
    clusters: Clusters, layer: np.ndarray, layer_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, the first and last layer its frame reaches (its cards' layers and the
    frame's margins): any other card in those layers must stand beside it."""
    node, cluster = memberships(clusters.ancestors[: len(layer)])
    low = np.full(clusters.count, layer_count, dtype=np.int64)
    high = np.full(clusters.count, -1, dtype=np.int64)
    np.minimum.at(low, cluster, layer[node])
    np.maximum.at(high, cluster, layer[node])
    below = np.array([reach_below(pad) for pad in clusters.pad.tolist()], dtype=np.int64)
    above = np.array([reach_above(pad) for pad in clusters.pad.tolist()], dtype=np.int64)
    return np.maximum(0, low - below), np.minimum(layer_count - 1, high + above)


def memberships(ancestors: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Every (node, cluster it lies in) pair, as two arrays: nodes ascending, each node's
    clusters outermost first."""
    lengths = [len(chain) for chain in ancestors]
    node = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    cluster = np.fromiter(itertools.chain.from_iterable(ancestors), np.int64, sum(lengths))
    return node, cluster


def dummy_ancestors(
    chains: list[list[int]], node_layer: np.ndarray, clusters: Clusters, reach: tuple
) -> None:
    """Give each dummy the clusters it passes through: those of the edge's ends whose frames
    reach its layer, so an edge enters a frame rather than running round it."""
    low, high = reach
    ancestors = clusters.ancestors
    done: set[int] = set()
    for chain in chains:
        if len(chain) < 3 or chain[1] in done:
            continue
        tail, head = ancestors[chain[0]], ancestors[chain[-1]]
        for dummy in chain[1:-1]:
            done.add(dummy)
            at = node_layer[dummy]
            a = [c for c in tail if low[c] <= at <= high[c]]
            b = [c for c in head if low[c] <= at <= high[c]]
            ancestors.append(tuple(b if len(b) > len(a) else a))


def fillers(clusters: Clusters, node_layer: np.ndarray, reach: tuple) -> list[int]:
    """Placeholders (nodes without edges) for the layers a frame reaches but none of its
    nodes sit in, so that the ordering keeps other nodes of those layers beside it; their
    layers are returned, and their clusters appended to clusters.ancestors."""
    low, high = reach
    present: list[set[int]] = [set() for _ in range(clusters.count)]
    for node, chain in enumerate(clusters.ancestors):
        for c in chain:
            present[c].add(int(node_layer[node]))
    chain_of = _chains(clusters)
    layers: list[int] = []
    for c in sorted(range(clusters.count), key=lambda c: -clusters.depth[c]):
        for at in range(int(low[c]), int(high[c]) + 1):
            if at in present[c]:
                continue
            layers.append(at)
            clusters.ancestors.append(chain_of[c])
            for outer in chain_of[c]:
                present[outer].add(at)
    return layers


def _chains(clusters: Clusters) -> list[tuple[int, ...]]:
    """Each cluster with the clusters around it, outermost first."""
    chains: list[tuple[int, ...]] = []
    for c, p in enumerate(clusters.parent):
        chains.append((*chains[p], c) if p >= 0 else (c,))
    return chains
