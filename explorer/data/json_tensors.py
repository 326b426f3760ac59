"""Tensors' values as JSON text, many at once: one orjson call for all values and one numpy
reduction for the statistics of all tensors of a size, each the same as one by one."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson

from explorer.data.snapshot import TensorSummary, json_number

_NON_FINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_ORJSON_INTS = frozenset("bool int8 int16 int32 int64 uint8 uint16 uint32 uint64".split())


def number(x: float) -> str:
    """A float as json.dumps writes json_number(x)."""
    text = float.__repr__(x)
    return _NON_FINITE.get(text, text)


SCALARS: dict[type, Callable[[Any], str]] = {
    str: json.encoder.encode_basestring_ascii,  # the C escaper json.dumps uses
    float: number,
    int: int.__repr__,
    bool: lambda b: "true" if b else "false",
    type(None): lambda _: "null",
}


def array_text(values: np.ndarray, level: int) -> str:
    """A numpy array as json.dumps(json_number(values.tolist()), indent=1) writes it at this
    indent level."""
    if values.ndim == 0 or values.size == 0 or not _orjson_writes(values):
        text = json.dumps(json_number(values.tolist()), indent=1, allow_nan=False)
        return text.replace("\n", "\n" + " " * level)  # JSON strings hold no raw newline
    return nested(float_items(values.reshape(-1)), values.shape, 0, level)


def _orjson_writes(values: np.ndarray) -> bool:
    return values.dtype.kind == "f" or values.dtype.name in _ORJSON_INTS


def float_items(flat: np.ndarray) -> list[str]:
    """Each value of a 1-d array as json.dumps writes it: orjson writes them all at once,
    and writes floats as Python does (the shortest text that reads back the same) except the
    notation of those Python writes with an exponent (1e-05 is "0.00001" there, 1e+16 is
    "1e16"), and NaN and infinity (null): those are written by Python."""
    if flat.dtype.kind == "f":
        flat = flat.astype(np.float64, copy=False)  # float32 values as Python floats hold them
    text = orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii")
    items = text.split(",")
    if flat.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            size = np.abs(flat)
            odd = ~np.isfinite(flat) | (size >= 1e16) | ((size < 1e-4) & (size > 0))
        for i in np.flatnonzero(odd).tolist():
            items[i] = number(float(flat[i]))
    return items


def nested(items: list[str], shape: tuple[int, ...], start: int, level: int) -> str:
    """items[start:start + prod(shape)] as nested lists of `shape`, indented from level."""
    inner = "\n" + " " * (level + 1)
    if len(shape) == 1:
        body = ("," + inner).join(items[start : start + shape[0]])
    else:
        step = math.prod(shape[1:])
        body = ("," + inner).join(
            nested(items, shape[1:], start + k * step, level + 1) for k in range(shape[0])
        )
    return "[" + inner + body + "\n" + " " * level + "]"


class Batch:
    """The items of many tensors' values, written by one orjson call: a tensor's are
    items[start:start + size]."""

    def __init__(self, tensors: Iterable[TensorSummary]) -> None:
        self.start: dict[int, int] = {}  # id of summary -> its first item
        flats = []
        size = 0
        for summary in tensors:
            values = summary.values
            if values is None or values.size == 0 or values.dtype.kind != "f":
                continue  # written alone: array_text
            if id(summary) not in self.start:
                self.start[id(summary)] = size
                flats.append(values.reshape(-1).astype(np.float64, copy=False))
                size += values.size
        self.items = float_items(np.concatenate(flats)) if flats else []

    def text(self, summary: TensorSummary, level: int) -> str:
        values = summary.values
        assert values is not None
        start = self.start.get(id(summary))
        if start is None or values.ndim == 0:
            return array_text(values, level)
        return nested(self.items, values.shape, start, level)


def statistics(tensors: Iterable[TensorSummary]) -> dict[int, dict[str, float]]:
    """TensorSummary.statistics() of each tensor (by id) whose values are kept, computed for
    all tensors of a size at once: a row's reduction is the same sum as its tensor's."""
    by_size: dict[int, dict[int, np.ndarray]] = {}
    out: dict[int, dict[str, float]] = {}
    for summary in tensors:
        values = summary.values
        if summary.stats is not None or values is None or id(summary) in out:
            continue
        if values.size and values.flags.c_contiguous:
            by_size.setdefault(values.size, {})[id(summary)] = values.reshape(-1)
        else:
            out[id(summary)] = summary.statistics()
    for rows in by_size.values():
        out.update(_rows_statistics(rows))
    return out


def _rows_statistics(rows: dict[int, np.ndarray]) -> dict[int, dict[str, float]]:
    matrix = np.stack(list(rows.values())).astype(np.float64, copy=False)
    with np.errstate(all="ignore"):  # NaN and infinity are values like any other here
        columns = (
            np.minimum.reduce(matrix, axis=1).tolist(),
            np.maximum.reduce(matrix, axis=1).tolist(),
            (np.add.reduce(matrix, axis=1) / matrix.shape[1]).tolist(),
            np.sqrt(np.add.reduce(matrix * matrix, axis=1)).tolist(),
        )
    return {
        key: {"min": low, "max": high, "mean": mean, "norm": norm}
        for key, low, high, mean, norm in zip(rows, *columns, strict=True)
    }
