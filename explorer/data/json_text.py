"""The export's JSON text: objects and lists of objects indented, every other array and each
tensor on one line. orjson writes the tree; tensors are written in batches
(explorer/data/json_tensors.py), each shared tensor once."""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from explorer.data.json_tensors import (
    line_text,
    number,
    numbers_text,
    row_texts,
    statistics_texts,
    value_texts,
)
from explorer.data.snapshot import (
    HEAD_LENGTH,
    JsonForm,
    Snapshot,
    TensorSummary,
    json_form,
    snapshot_to_dict,
)

# A TensorSummary goes to `default` (written by _Tensors) rather than orjson's own dataclasses.
_WRITE = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_INDENT_2


def snapshot_text(snapshot: Snapshot, values: str = "small") -> str:
    """The export's JSON of snapshot, as snapshot_json writes it."""
    return snapshot_json(snapshot, values).decode("utf-8")


def snapshot_json(snapshot: Snapshot, values: str = "small") -> bytes:
    """The export's JSON of snapshot, UTF-8: the data of json.dumps(snapshot.to_dict(values)),
    laid out for reading where it is structure and compactly where it is numbers."""
    form = _Form(json_form(values).limit)
    with _no_collection():
        tree = snapshot_to_dict(snapshot, form)
        _ready_places(tree)
        tensors = _Tensors(form)
        try:
            return orjson.dumps(tree, default=tensors.written, option=_WRITE)
        except orjson.JSONEncodeError:
            # What orjson refuses and json writes: a string holding a lone surrogate, an
            # integer past 64 bits. Rare enough to be written the slow way, all indented.
            text = json.dumps(snapshot.to_dict(values), indent=1, allow_nan=False)
            return text.encode("utf-8")


@contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cycle collector off: the hundreds of thousands of dicts and strings made here
    hold no cycle, and with a large graph in memory, its passes took a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, eq=False)
class _Form(JsonForm):
    """Tensors left in the tree as they are, each noted to be written with all the others;
    an attribute's arrays of scalars as one line of text, its NaN and infinity as
    json_number's strings (orjson writes them as null)."""

    met: dict[int, TensorSummary | np.ndarray] = field(default_factory=dict)  # by id
    # a node's calls, as a run of a loop's calls shares them
    names: dict[tuple[str, ...], orjson.Fragment] = field(default_factory=dict)

    def array(self, values: np.ndarray) -> Any:
        self.met[id(values)] = values
        return values

    def tensor(self, summary: TensorSummary | None) -> Any:
        if summary is not None:
            self.met[id(summary)] = summary
        return summary

    def attribute(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool:
            return value
        if kind is TensorSummary:
            return self.tensor(value)
        if kind is float:
            return value if math.isfinite(value) else orjson.Fragment(number(value))
        if kind is dict:
            return {key: self.attribute(item) for key, item in value.items()}
        if kind is tuple:  # a tuple equal to one of strings holds the same strings
            try:
                return self.names[value]
            except (KeyError, TypeError):  # not met yet, or holds a list
                pass
        if kind is list or kind is tuple:
            text = line_text(value)
            if text is None:  # it holds an object or a tensor
                return [self.attribute(item) for item in value]
            line = orjson.Fragment(text)
            if kind is tuple and all(type(item) is str for item in value):
                self.names[value] = line
            return line
        return value


def _ready_places(tree: dict[str, Any]) -> None:
    """The layout's places, the routes' points and the passes' node lists, each on one line."""
    places = tree["layout"]
    texts = iter(_place_texts(list(places.values())))
    tree["layout"] = {node: orjson.Fragment(next(texts)) for node in places}
    routes = tree["routes"]
    texts = iter(_place_texts([point for route in routes for point in route["points"]]))
    for route in routes:
        points = ", ".join([next(texts) for _ in route["points"]])
        route["points"] = orjson.Fragment("[" + points + "]")
    for one in tree["backward"]:
        for key in ("roots", "inputs"):
            text = line_text(one[key]) if key in one else None
            if text is not None:
                one[key] = orjson.Fragment(text)


def _place_texts(places: list[list[float]]) -> list[str]:
    """Each [x, y] as numbers_text writes it, all at once."""
    return row_texts(np.array(places, dtype=np.float64)) if places else []


class _Tensors:
    """The text of every tensor the form met, written all at once, for orjson's `default`
    to put in its places."""

    def __init__(self, form: _Form) -> None:
        self.form = form
        met = list(form.met.values())
        self.texts = dict(zip(form.met, _written(met, form), strict=True))

    def written(self, o: Any) -> Any:
        text = self.texts.get(id(o))
        if text is not None:
            return text
        if isinstance(o, TensorSummary | np.ndarray):  # put in the tree past the form
            return _written([o], self.form)[0]
        if isinstance(o, np.generic):
            return orjson.Fragment(numbers_text(o.item()))
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _written(tensors: list[TensorSummary | np.ndarray], form: JsonForm) -> list[orjson.Fragment]:
    """Each tensor's text: an array's values, or a summary as TensorSummary.to_dict has it
    (tests hold the two alike), on one line."""
    summaries = [o for o in tensors if isinstance(o, TensorSummary)]
    arrays = [o if isinstance(o, np.ndarray) else _shown(o, form) for o in tensors]
    texts = iter(value_texts(arrays))
    stats = iter(statistics_texts(summaries))
    starts: dict[tuple[tuple[int, ...], str], str] = {}
    out = []
    for o in tensors:
        if isinstance(o, np.ndarray):
            out.append(orjson.Fragment(next(texts)))
            continue
        start = starts.get((o.shape, o.dtype))
        if start is None:
            start = starts[o.shape, o.dtype] = _start(o)
        key = '"values": ' if o.whole_in(form) else '"head": '
        numbers = next(stats)
        tail = (", " + numbers if numbers else "") + _end(o)
        out.append(orjson.Fragment(start + key + next(texts) + tail))
    return out


def _shown(summary: TensorSummary, form: JsonForm) -> np.ndarray:
    """The values a summary's JSON lists: all of them, or its head (as floats)."""
    values = summary.values
    if values is None:
        return np.array(summary.head, dtype=np.float64)
    if summary.whole_in(form):
        return values
    head = values.reshape(-1)[:HEAD_LENGTH]
    return head if head.dtype.kind == "f" else head.astype(np.float64)


def _start(summary: TensorSummary) -> str:
    shape = numbers_text(list(summary.shape))
    return f'{{"shape": {shape}, "dtype": {json.encoder.encode_basestring_ascii(summary.dtype)}, '


def _end(summary: TensorSummary) -> str:
    if not summary.requires_grad and not summary.sparse:
        return "}"
    flags = ', "requires_grad": true' if summary.requires_grad else ""
    return flags + (', "sparse": true' if summary.sparse else "") + "}"
