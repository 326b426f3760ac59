"""Find in the graph: the nodes whose name, label, op or module path contain a text. No Qt."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import module_of_call


def matches(graph: AutogradGraph, text: str) -> list[str]:
    """Every node that matches text (case aside), each once: those matching by name first,
    then by label, by op, and by the module calls they were made in (`layers.3.self_attn`)."""
    needle = text.strip().lower()
    if not needle:
        return []
    found: dict[str, None] = {}
    for field in (_name, _label, _op, _module):
        for node, attrs in graph.nodes(data=True):
            value = field(attrs)
            if value and needle in value.lower():
                found.setdefault(node)
    return list(found)


@dataclass
class Found:
    """The matches of one text and the one shown; moving past either end wraps around."""

    text: str
    nodes: list[str]
    at: int = 0

    def move(self, step: int) -> str | None:
        """The match step places after the one shown (before it, for a negative step)."""
        if not self.nodes:
            return None
        self.at = (self.at + step) % len(self.nodes)
        return self.nodes[self.at]

    def count_text(self) -> str:
        """`3 of 12`: where the shown match stands among them all."""
        return f"{self.at + 1} of {len(self.nodes)}" if self.nodes else "no match"


def _name(attrs: GraphNode) -> str | None:
    return attrs.name


def _label(attrs: GraphNode) -> str | None:
    return attrs.label


def _op(attrs: GraphNode) -> str | None:
    return attrs.op


def _module(attrs: GraphNode) -> str | None:
    calls = attrs.calls or ()
    return " ".join(module_of_call(call) for call in calls) or attrs.module
