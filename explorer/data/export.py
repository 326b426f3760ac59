"""Write a Snapshot to a file: JSON (the documented format), DOT or GraphML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from explorer.data import json_text
from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import JsonForm, Snapshot, attribute_to_json, json_form, shape_text
from explorer.layout.clusters import call_label, node_calls

FORMATS = (".json", ".dot", ".gv", ".graphml")


def write(snapshot: Snapshot, path: Path, values: str = "small") -> None:
    """Write snapshot to path in the format its suffix names; values, for JSON and GraphML:
    "small" (every value of tensors up to SMALL_VALUES elements, a summary of larger ones)
    or "all"."""
    suffix = path.suffix.lower()
    form = json_form(values)
    if suffix == ".json":
        # The data of json.dumps(snapshot.to_dict(values)), in a fraction of its time: orjson
        # writes it, and tensors' values in batches (see bench/bench_export.py).
        path.write_bytes(json_text.snapshot_json(snapshot, values))
        return
    if suffix in (".dot", ".gv"):
        text = to_dot(snapshot.graph)
    elif suffix == ".graphml":
        text = to_graphml(snapshot.graph, form)
    else:
        raise ValueError(f"unknown output format {suffix!r}; use one of {', '.join(FORMATS)}")
    path.write_text(text, encoding="utf-8")


_DOT_STYLE = {
    "leaf": 'shape=box, style="rounded,filled", fillcolor="#cfe8ff"',
    "op": 'shape=ellipse, style=filled, fillcolor="#f2f2f2"',
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: AutogradGraph) -> str:
    """Graphviz DOT text, each module call a cluster holding its nodes and inner calls.
    Written here: networkx's DOT writer needs pydot or pygraphviz."""
    lines = ["digraph autograd {", "  rankdir=BT;", "  node [fontname=Helvetica];"]
    calls = node_calls(graph)
    inside: dict[tuple[str, ...], list[str]] = {}  # a call's own nodes; () the graph's
    for node in graph.nodes:
        inside.setdefault(calls[node], []).append(node)
    inner: dict[tuple[str, ...], list[tuple[str, ...]]] = {}  # a call's calls, first seen first
    for chain in inside:
        for depth in range(len(chain)):
            below = inner.setdefault(chain[:depth], [])
            if chain[: depth + 1] not in below:
                below.append(chain[: depth + 1])
    _dot_cluster(graph, (), inside, inner, lines, [0])
    for source, target, attrs in graph.edges(data=True):
        lines.append(
            f"  {_quote(source)} -> {_quote(target)} [label={_quote(str(attrs['slot']))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_cluster(
    graph: AutogradGraph,
    chain: tuple[str, ...],
    inside: dict[tuple[str, ...], list[str]],
    inner: dict[tuple[str, ...], list[tuple[str, ...]]],
    lines: list[str],
    numbered: list[int],
) -> None:
    """chain's own nodes, then each call made inside it as a nested cluster."""
    indent = "  " * (len(chain) + 1)
    for node in inside.get(chain, []):
        lines.append(indent + _dot_node(node, graph.nodes[node]))
    for call in inner.get(chain, []):
        label = call_label(call[-1], call[-2] if len(call) > 1 else None)
        lines.append(f"{indent}subgraph cluster_{numbered[0]} {{")
        lines.append(f"{indent}  label={_quote(label)};")
        numbered[0] += 1
        _dot_cluster(graph, call, inside, inner, lines, numbered)
        lines.append(indent + "}")


def _dot_node(node: str, attrs: GraphNode) -> str:
    label = node if attrs.label is None else attrs.label
    if attrs.name and attrs.kind != "leaf":
        label = f"{attrs.name} = {label}"
    if attrs.shape is not None:
        label += "\n" + shape_text(attrs.shape)
    style = _DOT_STYLE.get(attrs.kind or "op", "")
    if attrs.output:
        style += ", penwidth=2"
    return f"{_quote(node)} [label={_quote(label)}, {style}];"


def to_graphml(graph: AutogradGraph, form: JsonForm | None = None) -> str:
    """GraphML: lists and summaries become JSON strings, which GraphML can hold."""
    form = form or json_form()
    flat = nx.MultiDiGraph()
    for node, attrs in graph.nodes(data=True):
        flat.add_node(node, **{k: _scalar(v, form) for k, v in attrs.items()})
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        flat.add_edge(source, target, key=key, **{k: _scalar(v, form) for k, v in attrs.items()})
    return "\n".join(nx.generate_graphml(flat)) + "\n"


def _scalar(value: Any, form: JsonForm) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(attribute_to_json(value, form), allow_nan=False)
