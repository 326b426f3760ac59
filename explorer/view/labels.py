"""Short texts for cards, edges and tooltips: a tensor in a few characters. No Qt."""

from __future__ import annotations

import numpy as np

from explorer.data.nodes import GraphNode
from explorer.data.snapshot import TensorSummary, shape_text

MAX_CHARS = 17


def number(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.4g}"


def tensor_text(summary: TensorSummary | None, room: int = MAX_CHARS) -> str:
    """A tensor in at most `room` characters: all equal, a short list, or its norm."""
    if summary is None:
        return "None"
    values = summary.values
    if values is None:
        return f"‖·‖ {number(summary.statistics().get('norm', float('nan')))}"
    flat = np.asarray(values, dtype=float).reshape(-1)
    if flat.size == 0:
        return "empty"
    if not np.all(np.isfinite(flat)):
        return _fit(
            "[" + ", ".join(number(v) if np.isfinite(v) else str(v) for v in flat[:4]) + "]", room
        )
    if flat.size == 1:
        return number(flat[0])
    if np.all(flat == flat[0]):
        return f"all {number(flat[0])}"
    listed = "[" + ", ".join(number(v) for v in flat) + "]"
    if len(listed) <= room:
        return listed
    return f"‖·‖ {number(float(np.sqrt((flat * flat).sum())))}"


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def node_title(attrs: GraphNode) -> str:
    """`x` for a leaf, `y = add` for a named op, `mul` otherwise."""
    if attrs.kind == "leaf":
        return _fit(attrs.name or "leaf", MAX_CHARS)
    label = "?" if attrs.label is None else attrs.label
    return _fit(f"{attrs.name} = {label}" if attrs.name else label, MAX_CHARS)


def node_lines(attrs: GraphNode, grad: TensorSummary | None = None) -> list[str]:
    """The card's text: title, shape and value, and the gradient once it is known."""
    if attrs.kind == "call":
        shape = shape_text(attrs.shape) if attrs.shape is not None else ""
        size = f"{attrs.size or 0:,} nodes"
        label = "module" if attrs.label is None else attrs.label
        return [_fit(label, MAX_CHARS), *([shape] if shape else []), size]
    lines = [node_title(attrs)]
    shape = shape_text(attrs.shape)
    value = attrs.value
    if isinstance(value, TensorSummary) and value.numel <= 6:
        lines.append(_fit(f"{shape} · {tensor_text(value, MAX_CHARS - len(shape) - 3)}", MAX_CHARS))
    else:
        lines.append(shape)
    if grad is not None:
        lines.append(_fit(f"grad {tensor_text(grad, MAX_CHARS - 5)}", MAX_CHARS))
    return lines


def tooltip(attrs: GraphNode) -> str:
    if attrs.kind == "call":
        repeats = f", {attrs.repeats} calls folded" if attrs.repeats else ""
        return (
            f"module {attrs.call or ''}: {attrs.size or 0:,} nodes{repeats}\n"
            "double-click to open; double-click inside an open frame to close it"
        )
    parts = [node_title(attrs), attrs.op or ""]
    if attrs.shape is not None:
        parts.append(f"shape {shape_text(attrs.shape)}, {attrs.dtype or ''}")
    if isinstance(attrs.value, TensorSummary):
        parts.append(f"value {tensor_text(attrs.value, 40)}")
    if attrs.const_slots:
        slots = ", ".join(map(str, attrs.const_slots))
        parts.append(f"no gradient to input slot {slots} (a constant or detached tensor)")
    return "\n".join(p for p in parts if p)


_SLOT_NAMES = {0: ("self", "input"), 1: ("other", "mat2")}


def const_text(attrs: GraphNode, slot: int) -> str:
    """What a constant input was, when the node saved it (`2` in 2*x), else `const`."""
    saved = attrs.saved or {}
    for name in _SLOT_NAMES.get(slot, ()):
        value = saved.get(name)
        if isinstance(value, TensorSummary) and value.values is not None and value.numel <= 4:
            return tensor_text(value, 10)
    return "const"


def inside_text(graph_nodes: list[GraphNode]) -> str:
    """What a module card holds: its ops by kind, most first, then how many leaf tensors
    (each parameter has a name of its own, and listing them all says nothing)."""
    ops: dict[str, int] = {}
    leaves = 0
    for attrs in graph_nodes:
        if attrs.kind == "leaf":
            leaves += 1
        else:
            label = attrs.label or "?"
            ops[label] = ops.get(label, 0) + 1
    parts = [f"{k} × {v}" for k, v in sorted(ops.items(), key=lambda kv: -kv[1])]
    if leaves:
        parts.append(f"{leaves:,} leaf tensor{'' if leaves == 1 else 's'}")
    return f"{len(graph_nodes):,} nodes inside: {', '.join(parts)}"
