"""Module calls: which are collapsed to one card, which are folded, and the graph that is drawn.

Every node knows the module calls it was made in (`calls`, outermost first). A collapsed
call stands for all its nodes as one card; an open call is drawn as a box around its parts.
Repeated identical calls side by side (the 24 layers of an encoder, the steps of an unrolled
cell) can be folded into one card, "× 24". Plain data (networkx and the layout), no Qt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import OPEN_COLLAPSED_ABOVE, Snapshot, module_of_call
from explorer.layout.clusters import node_calls as _node_calls
from explorer.layout.sugiyama import layered

CALL_CARD = "module:"  # id prefix of a collapsed call's card
EdgeKey = tuple[str, str, int]


@dataclass
class OpenCall:
    """An open module call: drawn as a frame around the cards it contains."""

    call: str
    label: str
    members: list[str]  # visible ids inside, at any depth
    depth: int  # how many open calls it sits in


@dataclass
class Shown:
    """The graph as drawn: snapshot nodes, collapsed calls and folds, with its layout."""

    graph: AutogradGraph  # a collapsed call's card is a node of kind "call"
    layout: dict[str, tuple[float, float]]
    routes: dict[EdgeKey, list[tuple[float, float]]]
    frames: list[OpenCall] = field(default_factory=list)  # the open calls, drawn as frames
    # None when every snapshot node and edge is drawn as itself
    owner: dict[str, str] | None = None  # snapshot node -> the visible node standing for it
    edge_of: dict[EdgeKey, EdgeKey] | None = None  # snapshot edge -> visible edge (not inside)
    single: set[EdgeKey] = field(default_factory=set)  # visible edges standing for exactly one
    members: dict[str, list[str]] = field(default_factory=dict)  # card -> snapshot nodes

    def visible(self, node: str) -> str:
        return node if self.owner is None else self.owner.get(node, node)


class CallTree:
    """The module calls of one snapshot, and the drawn graph for any choice of collapsed calls."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.graph: AutogradGraph = snapshot.graph
        self.chain_of = _node_calls(self.graph)
        ordered: dict[str, None] = {}
        for chain in self.chain_of.values():
            ordered.update(dict.fromkeys(chain))
        self.all_calls = sorted(ordered, key=_natural)
        self.parent: dict[str, str | None] = {}
        self.depth: dict[str, int] = {}  # how many calls a call is made inside
        ops: dict[str, set[str]] = {}
        for node, chain in self.chain_of.items():
            op = str(self.graph.nodes[node].op)
            for i, call in enumerate(chain):
                self.parent[call] = chain[i - 1] if i else None
                self.depth[call] = i
                ops.setdefault(call, set()).add(op)
        # Calls alike enough to fold: siblings of one module pattern with the same kinds of op.
        # Kinds, not counts: the first layer of a stack may lack one (its input needs no grad).
        self.signature = {
            call: (self.parent[call], re.sub(r"\d+", "N", module_of_call(call)), frozenset(kinds))
            for call, kinds in ops.items()
        }
        self._cache: dict[tuple[frozenset[str], bool, frozenset[str]], Shown] = {}

    def initial_collapsed(self) -> set[str]:
        """Nothing for small graphs; else the overview (the top-level calls)."""
        if self.graph.number_of_nodes() <= OPEN_COLLAPSED_ABOVE:
            return set()
        return self.overview()

    def overview(self) -> set[str]:
        """Every call collapsed but the ones that stand alone at the top: a model made of
        layers shows a card a layer, not one card for the whole model."""
        collapsed = set(self.all_calls)
        while True:
            tops = {_first_collapsed(chain, collapsed) for chain in self.chain_of.values()} - {None}
            if len(tops) != 1:
                return collapsed
            (alone,) = tops
            if not any(self.parent.get(c) == alone for c in self.all_calls):
                return collapsed
            collapsed.discard(alone)

    def shown(
        self, collapsed: set[str], fold: bool = False, apart: frozenset[str] = frozenset()
    ) -> Shown:
        """The drawn graph: collapsed calls as cards; with fold, alike sibling cards merged
        (except the calls kept apart)."""
        collapsed = collapsed & set(self.all_calls)
        key = (frozenset(collapsed), fold, apart)
        if key not in self._cache:
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = self._build(collapsed, fold, apart)
        return self._cache[key]

    def label(self, call: str) -> str:
        """`enc.layers.3` inside `enc` -> `layers.3`; a repeated call gets its number."""
        path, _, number = call.partition("#")
        parent = self.parent.get(call)
        base = module_of_call(parent) if parent else ""
        short = path[len(base) + 1 :] if base and path.startswith(base + ".") else path
        return f"{short} · call {int(number) + 1}" if number else short

    def laid_out(self) -> Snapshot:
        """The snapshot with every node in its place. A graph that opens collapsed comes without
        places; it is laid out here, once, when it is first drawn whole or exported."""
        snapshot = self.snapshot
        if not snapshot.laid_out():
            layout = layered(self.graph)
            snapshot.layout, snapshot.routes = layout.positions, layout.routes
        return snapshot

    # -- building ------------------------------------------------------------------------
    def _build(self, collapsed: set[str], fold: bool, apart: frozenset[str]) -> Shown:
        owner = {n: _owner(n, chain, collapsed) for n, chain in self.chain_of.items()}
        if fold:
            owner = self._fold(owner, apart)
        if all(v == n for n, v in owner.items()):
            snapshot = self.laid_out()
            frames = self._frames(owner, collapsed)
            return Shown(self.graph, snapshot.layout, snapshot.routes, frames)
        members: dict[str, list[str]] = {}
        for node, card in owner.items():
            members.setdefault(card, []).append(node)
        # a card's output: its first node (in capture order, from the root) with an edge out
        outputs: dict[str, str] = {}
        for node in self.graph.nodes:
            card = owner[node]
            if card not in outputs and any(owner[s] != card for s in self.graph.successors(node)):
                outputs[card] = node
        graph = AutogradGraph()
        for card, inside in members.items():
            if card in self.graph and owner[card] == card:
                graph.add_records([(card, self.graph.nodes[card].copy())])
            else:
                # no edge out: the card holds the graph's output, its first node from the root
                output = outputs.get(card, inside[0])
                graph.add_records([(card, self._card(card, inside, output))])
        edge_of: dict[EdgeKey, EdgeKey] = {}
        counts: Counter[EdgeKey] = Counter()
        for u, v, k, data in self.graph.edges(keys=True, data=True):
            cu, cv = owner[u], owner[v]
            if cu == cv:
                continue  # inside one card
            key = (u, v, k) if (cu, cv) == (u, v) else (cu, cv, 0)
            if key not in counts:
                graph.add_edge(cu, cv, key=key[2], **data)
            counts[key] += 1
            edge_of[(u, v, k)] = key
        layout = layered(graph)
        return Shown(
            graph,
            layout.positions,
            layout.routes,
            self._frames(owner, collapsed),
            owner,
            edge_of,
            {key for key, count in counts.items() if count == 1},
            {card: inside for card, inside in members.items() if card.startswith(CALL_CARD)},
        )

    def _card(self, card: str, inside: list[str], output: str) -> GraphNode:
        call = card[len(CALL_CARD) :]
        depth = self.depth[call]
        calls = sorted({self.chain_of[n][depth] for n in inside}, key=_natural)  # several: a fold
        label = self.label(call) if len(calls) == 1 else _fold_label(list(map(self.label, calls)))
        return GraphNode(
            kind="call",
            label=label,
            call=call,
            size=len(inside),
            module=module_of_call(call),
            repeats=len(calls) if len(calls) > 1 else None,
            shape=self.graph.nodes[output].shape,
            # the open calls around the card: the layout frames it with them
            calls=tuple(self.chain_of[output][:depth]) or None,
        )

    def repeated_calls(self) -> set[str]:
        """The outermost calls that have identical siblings: what folding collapses."""
        alike: dict[tuple, list[str]] = {}
        for call, signature in self.signature.items():
            alike.setdefault(signature, []).append(call)
        repeated = {c for calls in alike.values() if len(calls) > 1 for c in calls}
        return {c for c in repeated if not self._inside(c, repeated)}

    def _inside(self, call: str, calls: set[str]) -> bool:
        parent = self.parent.get(call)
        while parent is not None:
            if parent in calls:
                return True
            parent = self.parent.get(parent)
        return False

    def _fold(self, owner: dict[str, str], apart: frozenset[str]) -> dict[str, str]:
        """Merge sibling collapsed calls that are alike, while the graph stays a DAG."""
        alike: dict[tuple, list[str]] = {}
        for card in set(owner.values()):
            if card.startswith(CALL_CARD) and card[len(CALL_CARD) :] not in apart:
                alike.setdefault(self.signature[card[len(CALL_CARD) :]], []).append(card)
        merged = dict(owner)
        for group in alike.values():
            if len(group) < 2:
                continue
            first, members = min(group, key=_natural), set(group)
            trial = {n: first if c in members else c for n, c in merged.items()}
            if _acyclic(self.graph, trial):
                merged = trial
        return merged

    def _frames(self, owner: dict[str, str], collapsed: set[str]) -> list[OpenCall]:
        inside: dict[str, list[str]] = {}
        for node, card in owner.items():
            chain = self.chain_of[node]
            if card.startswith(CALL_CARD):  # only the open calls around the collapsed one
                chain = chain[: self.depth[card[len(CALL_CARD) :]]]
            for call in chain:
                inside.setdefault(call, []).append(card)
        return [
            OpenCall(call, self.label(call), list(dict.fromkeys(cards)), self.depth[call])
            for call, cards in inside.items()
            if call not in collapsed
        ]


def _first_collapsed(chain: tuple[str, ...], collapsed: set[str]) -> str | None:
    return next((call for call in chain if call in collapsed), None)


def _owner(node: str, chain: tuple[str, ...], collapsed: set[str]) -> str:
    call = _first_collapsed(chain, collapsed)
    return node if call is None else CALL_CARD + call


def _acyclic(graph: AutogradGraph, owner: dict[str, str]) -> bool:
    quotient = nx.DiGraph()
    quotient.add_edges_from((owner[u], owner[v]) for u, v in graph.edges() if owner[u] != owner[v])
    return nx.is_directed_acyclic_graph(quotient)


def _natural(text: str) -> list:
    """`layers.10` after `layers.9`; `cell#12` after `cell#2`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _fold_label(labels: list[str]) -> str:
    """`layers.0` … `layers.23` -> `layers.0–23 × 24`; `cell`, `cell · call 2`… -> `cell × 3`."""
    first, last = labels[0], labels[-1]
    head = re.match(r"(.*?)(\d+)$", first)
    tail = re.match(r"(.*?)(\d+)$", last)
    if head and tail and head.group(1) == tail.group(1) and "·" not in first:
        return f"{first}–{tail.group(2)} × {len(labels)}"
    return f"{first.split(' · ')[0]} × {len(labels)}"
