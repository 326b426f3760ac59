"""The export's JSON text, byte for byte as `json.dumps(data, indent=1, allow_nan=False)` writes
it, in a fraction of the time: tensors are written in batches (explorer/data/json_tensors.py),
each shared tensor once."""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.data import json_tensors
from explorer.data.json_tensors import SCALARS, Batch, array_text, number
from explorer.data.snapshot import JsonForm, Snapshot, TensorSummary, json_form, snapshot_to_dict


class _Written(str):
    """JSON text already written, to be put in as it is."""


_PUT = {**SCALARS, _Written: str.__str__}


def snapshot_text(snapshot: Snapshot, values: str = "small") -> str:
    """The export's JSON of snapshot: json.dumps(snapshot.to_dict(values), indent=1)."""
    form = json_form(values, for_encoder=True)
    return dumps(snapshot_to_dict(snapshot, form), form)


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
        put = _PUT.get(type(o))
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
            put = _PUT.get(type(item))
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
            texts = [_PUT[type(item)](item) for item in o]
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
            data = summary.to_dict(form, stats.get(key))
            if "values" in data:
                data["values"] = _Written(batch.text(summary, level + 1))
            text = _dumps_at(data, level)
            for place in places:
                self.out[place] = text


def _dumps_at(data: dict[str, Any], level: int) -> str:
    encoder = _Encoder()
    encoder.mapping(data, level)
    return "".join(encoder.out)
