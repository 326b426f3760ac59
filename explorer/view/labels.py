"""Short texts for cards, edges and tooltips: a tensor in a few characters. No Qt."""

from __future__ import annotations

import math

import numpy as np

from explorer.data.nodes import GraphNode
from explorer.data.snapshot import TensorSummary, shape_text

# Characters on one line of a card. A card is 2.2 units wide and a line 0.3 tall, and a digit
# is about 0.55 of a line's height wide: 12 or 13 fit at full size. Longer lines shrink the
# card's text to fit; 16 keeps it at four fifths of its size or more.
MAX_CHARS = 16
NORM_NOTE = "‖·‖ is the norm of a larger tensor: the square root of the sum of its squares"


def number(value: float, digits: int = 4) -> str:
    """A number in `digits` significant figures; the exponent written short (4.083e-5), whole."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value)}"
    # below 0.01 the leading zeros say less than an exponent does: 4.083e-3, not 0.004083
    form = "e" if abs(value) < 0.01 else "g"
    text = f"{value:.{digits}g}" if form == "g" else f"{value:.{digits - 1}e}"
    mantissa, _, exponent = text.partition("e")
    if form == "e" and "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def short_number(value: float, room: int) -> str:
    """A number in at most `room` characters where it can be: fewer figures, never the exponent."""
    for digits in (4, 3, 2):
        text = number(value, digits)
        if len(text) <= room:
            return text
    return number(value, 1)


def tensor_text(summary: TensorSummary | None, room: int = MAX_CHARS) -> str:
    """A tensor in about `room` characters: all equal, a short list, or its norm.

    Nothing is cut: a number that cannot be shortened enough is written longer than `room`.
    """
    if summary is None:
        return "None"
    values = summary.values
    if values is None:
        stats = summary.statistics()
        low = stats.get("min", float("nan"))
        if low == stats.get("max") and math.isfinite(low):
            return f"all {short_number(low, room - 4)}"
        return _norm_text(stats.get("norm", float("nan")), room)
    flat = np.asarray(values, dtype=float).reshape(-1)
    if flat.size == 0:
        return "empty"
    if not np.all(np.isfinite(flat)):
        return _not_finite_text(flat, room)
    if flat.size == 1:
        return short_number(flat[0], room)
    if np.all(flat == flat[0]):
        return f"all {short_number(flat[0], room - 4)}"
    if _list_length_at_least(flat.size) > room:  # cannot fit: never format every value
        return _norm_text(float(np.sqrt((flat * flat).sum())), room)
    for digits in (4, 3):
        listed = "[" + ", ".join(number(v, digits) for v in flat) + "]"
        if len(listed) <= room:
            return listed
    return _norm_text(float(np.sqrt((flat * flat).sum())), room)


def _list_length_at_least(count: int) -> int:
    """The shortest `[a, b, …]` of count values: a character each, two between, two brackets."""
    return 3 * count


def _norm_text(norm: float, room: int) -> str:
    return f"‖·‖ {short_number(norm, room - 4)}"


def _not_finite_text(flat: np.ndarray, room: int) -> str:
    """NaN and infinities listed when they fit, else counted: `2 nan, 1 inf`."""
    if _list_length_at_least(flat.size) <= room:
        listed = "[" + ", ".join(number(v) for v in flat) + "]"
        if len(listed) <= room:
            return listed
    kinds = {"nan": np.isnan(flat), "inf": flat == np.inf, "-inf": flat == -np.inf}
    counts = {kind: int(where.sum()) for kind, where in kinds.items()}
    if flat.size > 1 and flat.size in counts.values():
        return f"all {next(k for k, n in counts.items() if n == flat.size)}"
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)


def byte_text(count: int) -> str:
    """A size as people read it: 400 B, 3.1 kB, 12 MB (decimal units: 1 kB is 1,000 bytes,
    so a legend's decades read 1 kB, 10 kB, 100 kB)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{number(size, 3)} {unit}"
        size /= 1000
    return f"{count} B"


def duration_text(seconds: float) -> str:
    """A short time as people read it: 3 µs, 250 µs, 1.2 ms, 2 s."""
    for unit, size in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= size or unit == "µs":
            return f"{number(seconds / size, 3)} {unit}"
    return f"{seconds} s"


def heaviest(graph_nodes: list[tuple[str, GraphNode]], count: int = 5) -> list[tuple[str, int]]:
    """The nodes holding the most memory for backward, most first: (node, bytes)."""
    held = [(n, a.saved_bytes) for n, a in graph_nodes if a.saved_bytes]
    return sorted(held, key=lambda item: -item[1])[:count]


def elide(text: str, room: int) -> str:
    """text in `room` characters, its middle left out: `m…5.norm1.weight`.

    The end is kept longer than the start: in a dotted path or a snake_case name it is the
    most specific part, so it starts after a dot or an underscore where one is near enough.
    """
    if len(text) <= room:
        return text
    keep = max(room - 1, 2)
    tail = keep - max(keep // 3, 1)
    starts = [i + 1 for i, c in enumerate(text) if c in "._" and len(text) - i - 1 < keep]
    if starts and len(text) - starts[0] >= keep // 2:
        tail = len(text) - starts[0]
    return f"{text[: keep - tail]}…{text[len(text) - tail :]}"


def node_title(attrs: GraphNode) -> str:
    """`x` for a leaf, `y = add` for a named op, `mul` otherwise; whole, however long."""
    if attrs.kind == "leaf":
        return attrs.name or "leaf"
    label = "?" if attrs.label is None else attrs.label
    return f"{attrs.name} = {label}" if attrs.name else label


def card_title(attrs: GraphNode, room: int = MAX_CHARS) -> str:
    """node_title in `room` characters: a long name or label loses its middle."""
    if attrs.kind == "leaf" or not attrs.name:
        return elide(node_title(attrs), room)
    label = "?" if attrs.label is None else attrs.label
    if len(attrs.name) + 3 + len(label) <= room:
        return node_title(attrs)
    # The op's label stays whole while the name keeps three characters (the tooltip has it
    # all); a label too long for that leaves the name up to half the line.
    name_room = room - 3 - len(label)
    name = elide(attrs.name, name_room if name_room >= 3 else room // 2)
    return f"{name} = {elide(label, room - 3 - len(name))}"


def node_lines(attrs: GraphNode, grad: TensorSummary | None = None) -> list[str]:
    """The card's text: title, shape and value, and the gradient once it is known."""
    if attrs.kind == "call":
        shape = shape_text(attrs.shape) if attrs.shape is not None else ""
        size = f"{attrs.size or 0:,} nodes"
        label = "module" if attrs.label is None else attrs.label
        return [elide(label, MAX_CHARS), *([shape] if shape else []), size]
    lines = [card_title(attrs)]
    shape = shape_text(attrs.shape)
    value = attrs.value
    with_value = ""
    if isinstance(value, TensorSummary) and value.numel <= 6:
        with_value = f"{shape} · {tensor_text(value, MAX_CHARS - len(shape) - 3)}"
    lines.append(with_value if 0 < len(with_value) <= MAX_CHARS else shape)
    if grad is not None:
        lines.append(f"grad {tensor_text(grad, MAX_CHARS - 5)}")
    return lines


def tooltip(attrs: GraphNode, grad: TensorSummary | None = None) -> str:
    """Everything a card says, whole: its full name, its value and gradient at more length."""
    if attrs.kind == "call":
        repeats = f", {attrs.repeats} calls folded" if attrs.repeats else ""
        label = f"{attrs.label}\n" if attrs.label and attrs.label != attrs.call else ""
        return (
            f"{label}module {attrs.call or ''}: {attrs.size or 0:,} nodes{repeats}\n"
            "double-click to open; double-click inside an open frame to close it"
        )
    parts = [node_title(attrs), attrs.op or ""]
    if attrs.shape is not None:
        parts.append(f"shape {shape_text(attrs.shape)}, {attrs.dtype or ''}")
    if isinstance(attrs.value, TensorSummary):
        parts.append(f"value {tensor_text(attrs.value, 40)}")
    if grad is not None:
        parts.append(f"grad {tensor_text(grad, 40)}")
    if attrs.const_slots:
        parts.append(const_note(attrs))
    if any("‖·‖" in text for text in [*parts, *node_lines(attrs, grad)]):
        parts.append(NORM_NOTE)
    return "\n".join(p for p in parts if p)


_SLOT_NAMES = {0: ("self", "input"), 1: ("other", "mat2")}


def const_text(attrs: GraphNode, slot: int) -> str:
    """A constant input as the script gave it, short enough to draw beside its dot: `3`,
    `1.0001`, `lr = 0.5`, `xs = [1, 2, 3]`; else what the node saved there (`2` in 2*x)."""
    const = _const(attrs, slot)
    if const is not None:
        return _const_words(const, room=14)
    saved = attrs.saved or {}
    for name in _SLOT_NAMES.get(slot, ()):
        value = saved.get(name)
        if isinstance(value, TensorSummary) and value.values is not None and value.numel <= 4:
            return tensor_text(value, 10)
    return "const"


def const_note(attrs: GraphNode) -> str:
    """Which input slots need no gradient and what fed them, in a sentence for the inspector."""
    parts = []
    for slot in attrs.const_slots or ():
        const = _const(attrs, slot)
        if const is None:
            what = "a constant or a detached tensor"
        elif _is_number(const["value"]):
            named = f"{const['name']}, " if "name" in const else ""
            what = f"{named}the number {_python_number(const['value'])}"
        elif "name" in const or _listed(const["value"]):
            what = f"{_const_words(const, room=40)}, a tensor that does not require grad"
        else:
            what = f"a {shape_text(list(const['value'].shape))} tensor that does not require grad"
        parts.append(f"Input slot {slot} needs no gradient: {what}.")
    return " ".join(parts)


def _const(attrs: GraphNode, slot: int) -> dict | None:
    slots, consts = attrs.const_slots or [], attrs.consts or []
    if slot not in slots or len(consts) != len(slots):
        return None
    const = consts[slots.index(slot)]
    return const if "value" in const else None


def _const_words(const: dict, room: int) -> str:
    value, name = const["value"], const.get("name")
    if _is_number(value):
        shown = _python_number(value)
    elif _listed(value):
        shown = tensor_text(value, room)
    elif isinstance(value, TensorSummary):
        shape = shape_text(list(value.shape))
        return f"{elide(name, room)} ({shape})" if name else f"{shape} tensor"
    else:
        shown = str(value)
    return f"{elide(name, room)} = {shown}" if name else shown


def _listed(value: TensorSummary) -> bool:
    """A tensor small enough to write out beside its dot."""
    return value.values is not None and value.numel <= 4


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | complex)


def _python_number(value: float | complex) -> str:
    """A number as Python writes it (`1.0001`, `0.5`, `1e-8`), shortened only when long."""
    if isinstance(value, float) and np.isfinite(value) and len(repr(value)) > 10:
        return number(value, 6)
    return repr(value).replace("e-0", "e-").replace("e+0", "e+")


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
