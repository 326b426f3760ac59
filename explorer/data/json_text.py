"""The export's JSON text, byte for byte as `json.dumps(data, indent=1, allow_nan=False)` writes
it, in a fraction of the time: tensors are written in batches (explorer/data/json_tensors.py),
each shared tensor once."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from explorer.data import json_tensors
from explorer.data.json_tensors import SCALARS, Batch, array_text, number
from explorer.data.snapshot import JsonForm, Snapshot, TensorSummary, json_form, snapshot_to_dict

_string = SCALARS[str]


def snapshot_text(snapshot: Snapshot, values: str = "small") -> str:
    """The export's JSON of snapshot: json.dumps(snapshot.to_dict(values), indent=1)."""
    form = json_form(values, for_encoder=True)
    with _no_collection():
        return dumps(snapshot_to_dict(snapshot, form), form)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cycle collector off: the millions of strings, lists and dicts made here hold
    no cycle, and with a large graph in memory, its passes took a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dumps(data: Any, form: JsonForm) -> str:
    """data as JSON text; data may hold numpy arrays and TensorSummary objects (written as
    form says), as Snapshot trees for JsonForm(for_encoder=True) do; a float that is NaN or
    infinite is written as json_number writes it."""
    encoder = _Encoder()
    encoder.value(data, 0)
    encoder.put_summaries(form)
    return "".join(encoder.out)


class _Encoder:
    """json.dumps' pure-Python encoder with indent=1, plus numpy arrays and summaries. A
    summary leaves its place empty, to be filled when all are written together."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.places: dict[tuple[int, int], list[int]] = {}  # (id of summary, indent) -> places
        self.summaries: dict[int, TensorSummary] = {}  # by id

    def value(self, o: Any, level: int) -> None:
        put = SCALARS.get(type(o))
        if put is not None:
            self.out.append(put(o))
        elif isinstance(o, dict):
            self.mapping(o, level)
        elif isinstance(o, list | tuple):
            self.sequence(o, level)
        elif isinstance(o, np.ndarray):
            self.out.append(array_text(o, level))
        elif isinstance(o, TensorSummary):
            self.summaries[id(o)] = o
            self.places.setdefault((id(o), level), []).append(len(self.out))
            self.out.append("")
        elif isinstance(o, float):  # numpy's float64 among others
            self.out.append(number(float(o)))
        elif isinstance(o, int):
            self.out.append(int.__repr__(o))
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    def mapping(self, o: dict[str, Any], level: int) -> None:
        if not o:
            self.out.append("{}")
            return
        out = self.out
        inner = "\n" + " " * (level + 1)
        opening = "{"
        for key, item in o.items():
            put = SCALARS.get(type(item))
            if put is not None:
                out.append(opening + inner + SCALARS[str](key) + ": " + put(item))
            else:
                out.append(opening + inner + SCALARS[str](key) + ": ")
                self.value(item, level + 1)
            opening = ","
        out.append("\n" + " " * level + "}")

    def sequence(self, o: list[Any] | tuple[Any, ...], level: int) -> None:
        if not o:
            self.out.append("[]")
            return
        inner = "\n" + " " * (level + 1)
        try:  # most lists hold only numbers or strings: shapes, places, node ids
            texts = [SCALARS[type(item)](item) for item in o]
        except KeyError:
            opening = "["
            for item in o:
                self.out.append(opening + inner)
                self.value(item, level + 1)
                opening = ","
        else:
            self.out.append("[" + inner + ("," + inner).join(texts))
        self.out.append("\n" + " " * level + "]")

    def put_summaries(self, form: JsonForm) -> None:
        """Write every summary met, each once for each indent it was met at, into its places."""
        tensors = self.summaries.values()
        stats = json_tensors.statistics(tensors)
        batch = Batch(s for s in tensors if s.whole_in(form))
        for (key, level), places in self.places.items():
            summary = self.summaries[key]
            if summary.whole_in(form):
                values = '"values": ' + batch.text(summary, level + 1)
            else:
                values = '"head": ' + _numbers(summary.first_values(), level + 1)
            known = stats.get(key)
            text = _summary_text(
                summary, values, summary.statistics() if known is None else known, level
            )
            for place in places:
                self.out[place] = text


def _summary_text(summary: TensorSummary, values: str, stats: dict[str, float], level: int) -> str:
    """What TensorSummary.to_dict holds, written as json.dumps writes it (tests hold the two
    alike), without making the dict: the export writes tens of thousands."""
    parts = [
        '"shape": ' + _numbers(summary.shape, level + 1),
        '"dtype": ' + _string(summary.dtype),
        values,
    ]
    parts += [f'"{name}": {number(value)}' for name, value in stats.items()]
    if summary.requires_grad:
        parts.append('"requires_grad": true')
    if summary.sparse:
        parts.append('"sparse": true')
    inner = "\n" + " " * (level + 1)
    return "{" + inner + ("," + inner).join(parts) + "\n" + " " * level + "}"


def _numbers(items: Sequence[float], level: int) -> str:
    if not items:
        return "[]"
    inner = "\n" + " " * (level + 1)
    texts = [SCALARS[type(item)](item) for item in items]
    return "[" + inner + ("," + inner).join(texts) + "\n" + " " * level + "]"
