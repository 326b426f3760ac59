"""A node of the autograd graph as a typed record, and the graph whose nodes are such records."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx

if TYPE_CHECKING:
    from explorer.data.snapshot import TensorSummary

# a tensor made by the script, an op of the graph, or a collapsed module call's card
NodeKind = Literal["leaf", "op", "call"]


@dataclass(slots=True, eq=False, repr=False)
class GraphNode(MutableMapping[str, Any]):
    """What the graph knows about one node: an autograd node, or a collapsed module call.

    A field that is None is not set: it is absent from the mapping and from the export.
    The record is also a mapping over its set fields (networkx's node attribute dict), in
    the order the export writes them; a key that is not a field is refused.
    """

    op: str | None = None  # the autograd node's class: MulBackward0, AccumulateGrad
    kind: NodeKind | None = None
    label: str | None = None  # mul, accumulate_grad; a leaf's name; a card's call
    name: str | None = None  # the script's name for the tensor
    module: str | None = None  # the module that made it (its path, without the call number)
    calls: tuple[str, ...] | None = None  # the module calls open when it was made, outermost first
    shape: list[int] | None = None
    dtype: str | None = None
    value: TensorSummary | None = None  # the tensor, when it is known
    output_shapes: list[list[int]] | None = None  # every output's shape, when there are several
    const_slots: list[int] | None = None  # input slots fed by a constant or detached tensor
    # what fed each of const_slots, as the script gave it: {"value": 3}, {"name": "xs",
    # "value": <summary>}; {} when not known
    consts: list[dict[str, Any]] | None = None
    saved: dict[str, Any] | None = None  # saved tensors (summaries) and scalars, by name
    saved_bytes: int | None = None  # the storages its saved tensors hold, each counted once
    output: bool | None = None  # True: an op nothing else consumed, the end of the graph
    # a collapsed module call's card
    call: str | None = None  # the call it stands for (the first, when several are folded)
    size: int | None = None  # how many nodes it stands for
    repeats: int | None = None  # how many alike calls are folded into it, when more than one

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, _field(key))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, _field(key), value)

    def __delitem__(self, key: str) -> None:
        self[key]  # a KeyError when it is not set
        setattr(self, key, None)

    def __contains__(self, key: object) -> bool:
        return key in _NAMES and getattr(self, key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        order = _ORDER.get(self.kind, FIELDS)  # type: ignore[arg-type]
        return (key for key in order if getattr(self, key) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"GraphNode({', '.join(f'{key}={getattr(self, key)!r}' for key in self)})"

    def fields_set(self) -> list[tuple[str, Any]]:
        """What items() gives, read at once rather than key by key through the mapping's
        machinery (the export reads 30,000 records)."""
        order = _ORDER.get(self.kind, FIELDS)  # type: ignore[arg-type]
        return [(key, value) for key in order if (value := getattr(self, key)) is not None]

    def copy(self) -> GraphNode:
        """A shallow copy, as dict.copy() is (networkx copies node attributes with it)."""
        return dataclasses.replace(self)

    def __reduce__(self) -> tuple[type[GraphNode], tuple[Any, ...]]:
        """Pickled as its fields in order: half the bytes of a slots' state, and faster both
        ways (30,000 nodes cross the pipe to the window)."""
        return GraphNode, _fields_of(self)


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(GraphNode))
_NAMES = frozenset(FIELDS)
_fields_of = operator.attrgetter(*FIELDS)


def _every_field(first: tuple[str, ...]) -> tuple[str, ...]:
    """first, then the other fields: every field has a place, so none is silently left out."""
    return (*first, *(f for f in FIELDS if f not in first))


# The order the JSON export has always written a node's fields in: a leaf names itself after
# its value, an op right after its label; a card says what it stands for before its shape.
_ORDER: dict[str, tuple[str, ...]] = {
    "leaf": _every_field(("op", "kind", "label", "shape", "dtype", "value", "name")),
    "op": FIELDS,
    "call": _every_field(("kind", "label", "call", "size", "module", "repeats", "shape")),
}


def _field(key: str) -> str:
    if key not in _NAMES:
        raise KeyError(f"a graph node has no field {key!r}; its fields are {', '.join(FIELDS)}")
    return key


class AutogradGraph(nx.MultiDiGraph):
    """A networkx MultiDiGraph whose node attributes are GraphNode records.

    Edges point the way data flows forward, keyed by slot (see explorer.graph.capture).
    Every networkx call works as on a MultiDiGraph: add_node(n, kind="op"), nodes(data=True),
    copies, subgraphs and pickling; `graph.nodes[n]` is the node's GraphNode.
    """

    node_attr_dict_factory = GraphNode

    def add_records(self, records: Iterable[tuple[str, GraphNode]]) -> None:
        """Add new nodes with their records, kept as they are (not copied key by key)."""
        records = list(records)
        self.add_nodes_from(node for node, _ in records)
        for node, record in records:
            self._node[node] = record
