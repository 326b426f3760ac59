"""Walk grad_fn.next_functions into a networkx graph with stable string ids.

Edges point the way data flows forward: from an input's node to the op that consumed it,
keyed by `slot`, the index in the consumer's next_functions. The walk is iterative, so a
graph tens of thousands of nodes deep is fine.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

import networkx as nx
import torch
from torch.autograd.graph import Node

from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import TensorSummary, module_of_call
from explorer.graph.summary import dtype_name, summarize
from explorer.lang.errors import ScriptError
from explorer.lang.limits import Limits
from explorer.layout.clusters import parameter_calls

_SAVED_PREFIX = "_saved_"
_BOOKKEEPING = re.compile(r"_sym_(sizes|strides|storage_offset|argsize\w*)$")
# per autograd Node class: (attribute, name) of what it saves for backward
_saved_names: dict[type, list[tuple[str, str]]] = {}


class Naming(Protocol):
    """What the script knows about the tensors behind autograd nodes."""

    # An op is asked about by its node's sequence number (node._sequence_nr()).
    def leaf_name(self, tensor: torch.Tensor) -> str | None: ...
    def output_name(self, sequence: int) -> str | None: ...
    def output_value(self, sequence: int) -> TensorSummary | None: ...
    # the module calls open when node was made, outermost first (`cell#1`: a second call)
    def module_path(self, sequence: int) -> tuple[str, ...] | None: ...
    # what fed the node's constant inputs, in slot order: {"value": 3}, {"name": "xs", ...}
    def const_inputs(self, node: Node, count: int) -> list[dict[str, Any]] | None: ...


@functools.cache
def op_label(op: str) -> str:
    """MulBackward0 -> mul, MseLossBackward0 -> mse_loss, AccumulateGrad -> accumulate_grad,
    MaxPool2DWithIndicesBackward0 -> max_pool2d_with_indices (as torch names the op)."""
    name = re.sub(r"Backward\d*$", "", op)
    return _WORD_START.sub("_", name).lower()


# where a new word starts in a node's class name: after a lower-case letter, or at a capital
# followed by a lower-case letter (so that the 2D of Pool2DWith stays with its word)
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[0-9A-Z])(?=[A-Z][a-z])")


def is_leaf_node(node: Node) -> bool:
    return type(node).__name__ == "AccumulateGrad"


class GraphCapture:
    """The graph of every autograd node seen so far; ids stay the same across captures."""

    def __init__(self, naming: Naming, max_nodes: int = Limits.max_graph_nodes) -> None:
        # A proxy: the recorder owns this capture, and a strong link back would be a cycle.
        self.naming = weakref.proxy(naming)
        self.max_nodes = max_nodes  # a larger graph is refused before it is described
        self.graph = AutogradGraph()
        # every storage a node saved for backward, (address, bytes) -> bytes: the graph's total
        # counts a storage several nodes saved once
        self._held: dict[tuple[int, int], int] = {}
        self._ids: dict[Node, str] = {}  # holding the Node keeps its identity (and id) stable
        self._done: set[str] = set()
        self._cache = SummaryCache()
        self._whole = True  # every walk went to the end: no node's inputs were left out
        # Its edges, counted as they are added: networkx counts a multigraph's by walking
        # every node's adjacency (a quarter of a second at 30,000 nodes).
        self.edge_count = 0

    def node_id(self, node: Node) -> str:
        found = self._ids.get(node)
        if found is None:
            found = f"n{len(self._ids)}"
            self._ids[node] = found
        return found

    def known_id(self, node: Node) -> str | None:
        """node's id if it is in the graph, else None (no id is made for it)."""
        found = self._ids.get(node)
        return found if found in self._done else None

    def node(self, node_id: str) -> Node | None:
        """The autograd node captured under node_id, if there is one."""
        return next((node for node, found in self._ids.items() if found == node_id), None)

    def nodes(self) -> list[Node]:
        """Every autograd node captured so far."""
        return list(self._ids)

    def closed(self) -> list[Node]:
        """Every autograd node captured, when every node they reach is among them: not so
        after a walk stopped at the size limit (then none)."""
        return list(self._ids) if self._whole else []

    def forget(self) -> None:
        """Let go of the autograd nodes; the plain graph stays."""
        self._ids.clear()
        self._cache = SummaryCache()

    def add(self, roots: Iterable[Node]) -> list[tuple[str, Node]]:
        """Capture everything reachable from roots; return it, roots first, as (id, node)."""
        reached: list[tuple[str, Node]] = []
        seen: set[Node] = set()
        new_nodes: list[tuple[str, GraphNode]] = []
        new_edges: list[tuple[str, str, int, dict[str, int]]] = []
        self._cache = SummaryCache()
        ids, done, node_id = self._ids, self._done, self.node_id
        room = self.max_nodes - len(done)
        stack = [r for r in roots if r is not None][::-1]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            found = ids.get(node) or node_id(node)
            reached.append((found, node))
            nexts = node.next_functions
            if found not in done:
                if len(new_nodes) >= room:
                    self._check_size(len(done) + len(new_nodes) + 1)
                new_nodes.append((found, self._describe(node, nexts)))
                for slot, (child, output_nr) in enumerate(nexts):
                    if child is not None:
                        source = ids.get(child) or node_id(child)
                        data = {"slot": slot, "output_nr": output_nr}
                        new_edges.append((source, found, slot, data))
            stack.extend(child for child, _ in reversed(nexts) if child is not None)
        done.update(found for found, _ in new_nodes)
        if self._held:  # summed once a walk: per node it made 30,000 nodes take seconds
            self.graph.graph["saved_bytes"] = sum(self._held.values())
        _add_nodes(self.graph, new_nodes)
        _add_edges(self.graph, new_edges)
        self.edge_count += len(new_edges)
        self._place_parameters({source for source, _, _, _ in new_edges})
        self._cache = SummaryCache()  # its tensors may be freed after this walk
        return reached

    def _place_parameters(self, used: set[str]) -> None:
        """A named leaf with new uses joins the module calls all its uses share, as the
        view groups it, so that the export says where each parameter belongs."""
        graph = self.graph
        for node in used:
            record = graph.nodes[node]
            if record.kind == "leaf" and record.name:
                uses = [graph.nodes[s].calls or () for s in graph.successors(node)]
                record.calls = parameter_calls(record.name, uses) or None

    def _check_size(self, count: int) -> None:
        if count > self.max_nodes:
            self._cache = SummaryCache()
            self._whole = False
            raise ScriptError(
                f"the graph has more than {self.max_nodes:,} nodes; the explorer shows "
                "graphs up to that size",
                hint="use fewer loop iterations, fewer layers, or whole-tensor operations",
            )

    def _describe(self, node: Node, nexts: tuple) -> GraphNode:
        op, label, leaf = _class_facts(type(node))
        record = GraphNode(op=op, kind="op", label=label)
        if leaf:
            self._describe_leaf(record, node.variable)
        else:
            self._describe_op(record, node, nexts)
        return record

    def _describe_leaf(self, record: GraphNode, tensor: torch.Tensor) -> None:
        name = self.naming.leaf_name(tensor)
        record.kind = "leaf"
        record.label = name or "leaf"
        record.shape = list(tensor.shape)
        record.dtype = dtype_name(tensor.dtype)
        record.value = summarize(tensor)
        record.name = name or None

    def _describe_op(self, record: GraphNode, node: Node, nexts: tuple) -> None:
        naming, sequence = self.naming, node._sequence_nr()
        record.name = naming.output_name(sequence) or None
        calls = naming.module_path(sequence)
        if calls:
            record.module = module_of_call(calls[-1])
            record.calls = calls
        value = naming.output_value(sequence)
        metadata = node._input_metadata
        if value is not None:
            record.shape, record.dtype, record.value = list(value.shape), value.dtype, value
        elif metadata:
            first = metadata[0]
            record.shape, record.dtype = list(first.shape), dtype_name(first.dtype)
        if len(metadata) > 1:
            record.output_shapes = [list(m.shape) for m in metadata]
        const_slots = [slot for slot, (child, _) in enumerate(nexts) if child is None]
        if const_slots:
            record.const_slots = const_slots
            record.consts = naming.const_inputs(node, len(const_slots))
        saved, storages = read_saved(node, self._cache)
        record.saved = saved or None
        if storages:
            record.saved_bytes = sum(storages.values())
            self._held.update(storages)


@functools.cache
def _class_facts(kind: type) -> tuple[str, str, bool]:
    """An autograd node class's op name, label and whether it is a leaf's AccumulateGrad."""
    op = kind.__name__
    return op, op_label(op), op == "AccumulateGrad"


def _add_nodes(graph: AutogradGraph, records: list[tuple[str, GraphNode]]) -> None:
    """Add new nodes with their records, as add_records does, written into networkx's dicts
    directly: add_nodes_from makes and fills an empty record for each first."""
    nodes, succ, pred = graph._node, graph._succ, graph._pred
    for node, record in records:
        nodes[node] = record
        succ[node] = {}
        pred[node] = {}
    nx._clear_cache(graph)


def _add_edges(graph: AutogradGraph, edges: list[tuple[str, str, int, dict[str, int]]]) -> None:
    """Add edges keyed by slot between nodes already in graph, each into a node that has no
    edges in yet: what add_edges_from does, written into its adjacency dicts directly, as
    add_edge does, at a third of the time (46,000 edges of a 30,000-node graph)."""
    succ, pred, new_keys = graph._succ, graph._pred, graph.edge_key_dict_factory
    for source, target, key, data in edges:
        out = succ[source]
        keys = out.get(target)
        if keys is None:
            keys = out[target] = pred[target][source] = new_keys()
        keys[key] = data
    nx._clear_cache(graph)


class SummaryCache:
    """Summaries of tensors read during one walk, shared where tensors share their bytes.

    Saved tensors are alive while the walk runs (the graph holds them), so two with the
    same data pointer, shape, strides, dtype and version counter hold the same values.
    """

    def __init__(self) -> None:
        self._known: dict[tuple, TensorSummary] = {}

    def summarize(self, tensor: torch.Tensor) -> TensorSummary:
        key = (tensor.data_ptr(), tensor.shape, tensor.stride(), tensor.dtype, tensor._version)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = summarize(tensor)
        return found


def saved_attributes(node: Node) -> list[tuple[str, str]]:
    """(attribute, name) of what node's class saves for backward: `_saved_self`, `self`."""
    kind = type(node)
    names = _saved_names.get(kind)
    if names is None:
        # Sizes and strides saved for shape bookkeeping say nothing a student needs.
        names = [
            (a, a.removeprefix(_SAVED_PREFIX))
            for a in dir(node)
            if a.startswith(_SAVED_PREFIX) and not _BOOKKEEPING.search(a)
        ]
        _saved_names[kind] = names
    return names


def read_saved(
    node: Node, cache: SummaryCache
) -> tuple[dict[str, Any], dict[tuple[int, int], int]]:
    """The node's saved tensors and scalars, read before backward frees them, and the storages
    its saved tensors hold, (address, bytes) -> bytes: one shared by several counts once."""
    saved: dict[str, Any] = {}
    storages: dict[tuple[int, int], int] = {}
    for attribute, name in saved_attributes(node):
        try:
            value = getattr(node, attribute)
        except RuntimeError:
            continue  # already freed by a backward pass
        if isinstance(value, torch.Tensor):
            saved[name] = cache.summarize(value)
            _hold(value, storages)
            continue
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, torch.Tensor):
                    _hold(item, storages)
        saved[name] = _plain(value, cache)
        if name == "reduction" and saved[name] in _REDUCTIONS:
            saved[name] = _REDUCTIONS[saved[name]]
    return saved, storages


def _hold(tensor: torch.Tensor, storages: dict[tuple[int, int], int]) -> None:
    """Count the storage a saved tensor keeps alive: all of it, though the tensor may view a
    part (as the memory held is)."""
    try:
        storage = tensor.untyped_storage()
    except (RuntimeError, NotImplementedError):  # a sparse or other storage-less layout
        return
    size = storage.nbytes()
    if size:
        storages[storage.data_ptr(), size] = size


# A loss's `reduction` is saved as the enum at::Reduction; the user wrote its name.
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _plain(value: Any, cache: SummaryCache) -> Any:
    if isinstance(value, torch.Tensor):
        return cache.summarize(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2**63:
        # A saved int64 comes out of the node as unsigned 64 bits: 2**64 - 1 was dim=-1.
        return value - 2**64
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, cache) for v in value[:64]]
    return str(value)
