"""Tensors' values as one-line JSON text, many at once: one orjson call for the values of all
tensors of a shape and one numpy reduction for the statistics of all tensors of a size, each
the same as one by one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson

from explorer.data.snapshot import TensorSummary

_ORJSON_INTS = frozenset("bool int8 int16 int32 int64 uint8 uint16 uint32 uint64".split())


def line_text(data: Any) -> str | None:
    """A number, string, true, false or null, or an array of them at any nesting, as one
    line of JSON (NaN and infinity as json_number's strings); None when data holds anything
    else (an object, a tensor)."""
    put = _SCALARS.get(type(data))
    if put is not None:
        return put(data)
    if isinstance(data, list | tuple):
        try:  # most arrays are flat: shapes, places, a tensor's head
            return "[" + ", ".join([_SCALARS[type(item)](item) for item in data]) + "]"
        except KeyError:
            texts = [line_text(item) for item in data]
            return None if None in texts else "[" + ", ".join(texts) + "]"  # type: ignore[arg-type]
    if isinstance(data, float):  # numpy's float64 among others
        return number(float(data))
    if isinstance(data, np.generic):  # numpy's other scalars
        return line_text(data.item())
    return None


def number(x: float) -> str:
    """A float as JSON: NaN and infinity as the strings json_number makes of them."""
    text = float.__repr__(x)
    return _NON_FINITE.get(text, text)


_NON_FINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_SCALARS: dict[type, Callable[[Any], str]] = {
    float: number,
    int: int.__repr__,
    str: json.encoder.encode_basestring_ascii,  # the C escaper json.dumps uses
    bool: lambda b: "true" if b else "false",
    type(None): lambda _: "null",
}


def numbers_text(data: Any) -> str:
    """A number, or nested lists of numbers, as one line of JSON."""
    text = line_text(data)
    if text is None:
        raise TypeError(f"{type(data).__name__} is not a number or an array of numbers")
    return text


def value_texts(arrays: list[np.ndarray]) -> list[str]:
    """Each array's values as numbers_text(values.tolist()) writes them: the arrays of a
    shape and kind are written by one orjson call and cut apart."""
    out = [""] * len(arrays)
    groups: dict[tuple[str, tuple[int, ...]], list[int]] = {}
    for index, values in enumerate(arrays):
        kind = _kind(values)
        if kind is None or values.size == 0:
            out[index] = numbers_text(values.tolist())
        else:
            groups.setdefault((kind, values.shape), []).append(index)
    for (kind, _), indices in groups.items():
        stacked = np.stack([arrays[index] for index in indices]).astype(kind, copy=False)
        for index, text in zip(indices, row_texts(stacked), strict=True):
            out[index] = text
    return out


def _kind(values: np.ndarray) -> str | None:
    """How orjson writes the values as Python writes them: floats once widened to float64
    (float32's own shortest text would read back as another float64), integers and booleans
    as they are; None for what it does not write (complex, objects)."""
    if values.dtype.kind == "f":
        return "float64"
    return values.dtype.name if values.dtype.name in _ORJSON_INTS else None


def row_texts(stacked: np.ndarray) -> list[str]:
    """The text of each of stacked[0], stacked[1], ..., as numbers_text writes their values;
    stacked's dtype one orjson writes as Python does (see _kind)."""
    text = orjson.dumps(stacked, option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")
    # Between two arrays of ndim d the text holds d closing brackets, a comma and d opening
    # ones; within one it never holds as many (it holds no strings).
    depth = stacked.ndim - 1
    opening, closing = "[" * depth, "]" * depth
    inside = text[depth + 1 : -(depth + 1)].replace(",", ", ")
    texts = [opening + piece + closing for piece in inside.split(closing + ", " + opening)]
    if stacked.dtype.kind == "f":  # orjson writes NaN and infinity as null
        rows = stacked.reshape(len(stacked), -1)
        for row in np.flatnonzero(~np.isfinite(rows).all(axis=1)).tolist():
            texts[row] = numbers_text(stacked[row].tolist())
    return texts


_STATISTICS = ("min", "max", "mean", "norm")
_CHUNK = 1 << 20  # values reduced at once: the temporaries stay small and are reused


def statistics_texts(tensors: list[TensorSummary]) -> list[str]:
    """The members TensorSummary.statistics() gives each tensor, as JSON text (`"min": -1.5,
    "max": 2.0, "mean": 0.25, "norm": 3.1`, or "" for none), computed for all tensors of a
    size at once: a row's reduction is the same sum as its tensor's."""
    out = [""] * len(tensors)
    by_size: dict[int, list[int]] = {}
    for index, summary in enumerate(tensors):
        values = summary.values
        # A view not in C order is reduced alone, in its own order: a row of a stack is
        # read in C order, and the sign of a zero minimum can depend on the order.
        if summary.stats is None and values is not None and values.size and _in_c_order(values):
            by_size.setdefault(values.size, []).append(index)
        else:
            out[index] = _statistics_text(summary.statistics())
    for size, indices in by_size.items():
        step = max(1, _CHUNK // size)
        for start in range(0, len(indices), step):
            chunk = indices[start : start + step]
            rows = [tensors[index].values.reshape(-1) for index in chunk]  # type: ignore[union-attr]
            for index, text in zip(chunk, _rows_statistics(np.stack(rows)), strict=True):
                out[index] = text
    return out


def statistics(tensors: Iterable[TensorSummary]) -> dict[int, dict[str, float]]:
    """TensorSummary.statistics() of each tensor (by id) whose values are kept, computed for
    all tensors of a size at once, as statistics_texts does."""
    by_size: dict[int, dict[int, np.ndarray]] = {}
    out: dict[int, dict[str, float]] = {}
    for summary in tensors:
        values = summary.values
        if summary.stats is not None or values is None or id(summary) in out:
            continue
        if values.size and _in_c_order(values):
            by_size.setdefault(values.size, {})[id(summary)] = values.reshape(-1)
        else:
            out[id(summary)] = summary.statistics()
    for size, rows in by_size.items():
        keys, step = list(rows), max(1, _CHUNK // size)
        for start in range(0, len(keys), step):
            chunk = keys[start : start + step]
            columns = _columns(np.stack([rows[key] for key in chunk])).tolist()
            out.update(
                (key, dict(zip(_STATISTICS, row, strict=True)))
                for key, row in zip(chunk, columns, strict=True)
            )
    return out


def _in_c_order(values: np.ndarray) -> bool:
    return values.flags.c_contiguous


def _columns(matrix: np.ndarray) -> np.ndarray:
    """min, max, mean and norm of each row, as a row of four."""
    matrix = matrix.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):  # NaN and infinity are values like any other here
        return np.stack(
            (
                np.minimum.reduce(matrix, axis=1),
                np.maximum.reduce(matrix, axis=1),
                np.add.reduce(matrix, axis=1) / matrix.shape[1],
                np.sqrt(np.add.reduce(matrix * matrix, axis=1)),
            ),
            axis=1,
        )


def _rows_statistics(matrix: np.ndarray) -> list[str]:
    columns = _columns(matrix)
    text = orjson.dumps(columns, option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")
    texts = [
        f'"min": {low}, "max": {high}, "mean": {mean}, "norm": {norm}'
        for low, high, mean, norm in (row.split(",") for row in text[2:-2].split("],["))
    ]
    for row in np.flatnonzero(~np.isfinite(columns).all(axis=1)).tolist():
        texts[row] = _statistics_text(dict(zip(_STATISTICS, columns[row].tolist(), strict=True)))
    return texts


def _statistics_text(stats: dict[str, float]) -> str:
    return ", ".join(f'"{name}": {number(float(x))}' for name, x in stats.items())
