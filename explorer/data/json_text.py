"""The export's JSON text, byte for byte as `json.dumps(data, indent=1, allow_nan=False)` writes
it, with numpy arrays written by orjson (tens of times faster than Python's floats)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from explorer.data.snapshot import (
    JsonForm,
    Snapshot,
    TensorSummary,
    json_form,
    json_number,
    snapshot_to_dict,
)

_string = json.encoder.encode_basestring_ascii  # the C escaper json.dumps uses
# orjson writes floats as Python does (the shortest text that reads back the same), except
# the notation of some: 1e-05 is "0.00001" there, 1e+16 is "1e16"; and NaN is null.
_NON_FINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_PYTHON_UP_TO = 16  # elements; below, a call to orjson costs more than it saves
_ORJSON_DTYPES = frozenset("bool int8 int16 int32 int64 uint8 uint16 uint32 uint64".split())


def _float(x: float) -> str:
    """A float as json.dumps writes json_number(x)."""
    text = float.__repr__(x)
    return _NON_FINITE.get(text, text)


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _string,
    float: _float,
    int: int.__repr__,
    bool: lambda b: "true" if b else "false",
    type(None): lambda _: "null",
}


def snapshot_text(snapshot: Snapshot, values: str = "small") -> str:
    """The export's JSON of snapshot: json.dumps(snapshot.to_dict(values), indent=1)."""
    form = json_form(values, for_encoder=True)
    return dumps(snapshot_to_dict(snapshot, form), form)


def dumps(data: Any, form: JsonForm) -> str:
    """data as JSON text; data may hold numpy arrays and TensorSummary objects (written as
    form says), as Snapshot trees for JsonForm(for_encoder=True) do; a float that is NaN or
    infinite is written as json_number writes it."""
    out: list[str] = []
    _Encoder(form, out).value(data, 0)
    return "".join(out)


class _Encoder:
    """json.dumps' pure-Python encoder with indent=1, plus arrays and summaries; a summary
    met again (a saved tensor shared by several nodes) is written from its first text."""

    def __init__(self, form: JsonForm, out: list[str]) -> None:
        self.form = form
        self.out = out
        self.written: dict[tuple[int, int], str] = {}  # (id of summary, indent) -> text

    def value(self, o: Any, level: int) -> None:
        scalar = _SCALARS.get(type(o))
        if scalar is not None:
            self.out.append(scalar(o))
        elif isinstance(o, dict):
            self.mapping(o, level)
        elif isinstance(o, list | tuple):
            self.sequence(o, level)
        elif isinstance(o, np.ndarray):
            self.out.append(array_text(o, level))
        elif isinstance(o, TensorSummary):
            self.summary(o, level)
        elif isinstance(o, float):  # numpy's float64 among others
            self.out.append(_float(float(o)))
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
            scalar = _SCALARS.get(type(item))
            if scalar is not None:
                out.append(opening + inner + _string(key) + ": " + scalar(item))
            else:
                out.append(opening + inner + _string(key) + ": ")
                self.value(item, level + 1)
            opening = ","
        out.append("\n" + " " * level + "}")

    def sequence(self, o: list[Any] | tuple[Any, ...], level: int) -> None:
        if not o:
            self.out.append("[]")
            return
        inner = "\n" + " " * (level + 1)
        try:  # most lists hold only numbers or strings: shapes, places, node ids
            texts = [_SCALARS[type(item)](item) for item in o]
        except KeyError:
            opening = "["
            for item in o:
                self.out.append(opening + inner)
                self.value(item, level + 1)
                opening = ","
        else:
            self.out.append("[" + inner + ("," + inner).join(texts))
        self.out.append("\n" + " " * level + "]")

    def summary(self, summary: TensorSummary, level: int) -> None:
        key = (id(summary), level)  # the tree holds every summary while it is written
        text = self.written.get(key)
        if text is None:
            text = dumps_at(summary.to_dict(self.form), self.form, level)
            self.written[key] = text
        self.out.append(text)


def dumps_at(data: Any, form: JsonForm, level: int) -> str:
    out: list[str] = []
    _Encoder(form, out).value(data, level)
    return "".join(out)


def array_text(values: np.ndarray, level: int) -> str:
    """A numpy array as json.dumps writes json_number(values.tolist()) at this indent."""
    if values.ndim == 0 or values.size == 0 or not _orjson_writes(values):
        return dumps_at(json_number(values.tolist()), JsonForm(), level)
    flat = values.reshape(-1)
    if flat.dtype.kind == "f":
        flat = flat.astype(np.float64, copy=False)  # float32 values as Python floats hold them
    if flat.size <= _PYTHON_UP_TO:
        items = [_SCALARS[type(x)](x) for x in flat.tolist()]
    else:
        text = orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii")
        items = text.split(",")
        # Every item orjson writes otherwise than Python has one of these in it (and few
        # others do, such as 10.00001): check those items one by one.
        if flat.dtype.kind == "f" and ("e" in text or "null" in text or "0.0000" in text):
            for i, item in enumerate(items):
                if "e" in item or item == "null" or "0.0000" in item:
                    items[i] = _float(float(flat[i]))
    return _nested(items, values.shape, 0, level)


def _orjson_writes(values: np.ndarray) -> bool:
    return values.dtype.kind == "f" or values.dtype.name in _ORJSON_DTYPES


def _nested(items: list[str], shape: tuple[int, ...], start: int, level: int) -> str:
    """items[start:start + prod(shape)] as nested lists of `shape`, indented from level."""
    inner = "\n" + " " * (level + 1)
    if len(shape) == 1:
        body = ("," + inner).join(items[start : start + shape[0]])
    else:
        step = math.prod(shape[1:])
        body = ("," + inner).join(
            _nested(items, shape[1:], start + k * step, level + 1) for k in range(shape[0])
        )
    return "[" + inner + body + "\n" + " " * level + "]"
