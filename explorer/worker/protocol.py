"""The messages between the window and the worker process, and how they are framed on a pipe."""

from __future__ import annotations

import copyreg
import io
import math
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, TypeVar

from explorer import collector
from explorer.data import json_tensors
from explorer.data.nodes import FIELDS, GraphNode
from explorer.data.reports import DescentReport, GradCheck
from explorer.data.snapshot import (
    SMALL_VALUES,
    Pass,
    PassesAdded,
    Snapshot,
    Step,
    TensorSummary,
)

# Address space of the worker and of export (worker/memory.py): the 4 GiB a script's tensors
# may take (Limits.max_total_bytes) and about 1 GiB for Python and torch, so that the script's
# own budget, which names what it counted, is reached first; the cap catches the rest.
DEFAULT_MEMORY_MB = 5120
READY = "ready"  # the worker's first frame: torch is imported and requests will be read
_LENGTH = struct.Struct(">Q")  # 8-byte big-endian length before each pickled frame

T = TypeVar("T")


class Job(Generic[T]):
    """What a request asks the worker to do; T is the type of the answer it gets."""


@dataclass
class RunScript(Job[Snapshot]):
    """Run a script in the safe language; it replaces the last run."""

    text: str


@dataclass
class OpenModelFile(Job[Snapshot]):
    """Run a model file's Python; only once the user has said they trust it."""

    path: str  # tracebacks and imports beside the file use it
    text: str


@dataclass
class Backward(Job[PassesAdded]):
    """name.backward(gradient) on the last run's tensors; answered with what the pass added."""

    name: str
    gradient: list | None = None  # nested list of numbers; None means ones


@dataclass
class Descended:
    """What a Descend answers: where descent stands, and the graph after the steps."""

    report: DescentReport
    snapshot: Snapshot | None = None  # set when report.new_graph


@dataclass
class Descend(Job[Descended]):
    """Gradient descent on the last run (explorer/runs/descent.py)."""

    action: str = "prepare"  # "prepare" | "step" | "show" | "reset"
    rate: float = math.nan
    steps: int = 1
    seconds: float = 0.5  # how long the steps may take before the answer goes back
    graph: bool = True  # send the graph after the steps ("step", "show")
    surface: bool = True  # update the loss surface


@dataclass
class CheckGradient(Job[GradCheck]):
    """A numerical check of the gradient of the last run's leaf at graph node `node`."""

    node: str


class Withheld(str):
    """A saved tensor left in the worker: the message carries this mark in its place, and the
    Inspector fetches the node's saved values (FetchSaved) when it shows them.

    A string, so that whatever writes the window's graph as text (its JSON export) says what
    is missing rather than failing on it.
    """

    run: int  # the worker's run the node belongs to

    def __new__(cls, run: int) -> Withheld:
        mark = super().__new__(cls, "a saved tensor left in the worker")
        mark.run = run
        return mark

    def __reduce__(self) -> tuple[type[Withheld], tuple[int]]:
        return Withheld, (self.run,)


@dataclass
class SavedValues:
    """What a FetchSaved answers: the node's saved values as capture read them, or None when
    the run is no longer the worker's last (its values are gone)."""

    run: int
    node: str
    saved: dict[str, Any] | None


@dataclass
class AllSaved:
    """What a FetchAllSaved answers: every node's saved values, by node, or None when the run
    is no longer the worker's last."""

    run: int
    saved: dict[str, dict[str, Any]] | None


@dataclass
class FetchAllSaved(Job[AllSaved]):
    """Every node's saved values in run: the window's data exports write them all."""

    run: int


@dataclass
class FetchSaved(Job[SavedValues]):
    """The saved values of node in run, left out of the run's Snapshot (see Withheld)."""

    run: int
    node: str


@dataclass
class Request:
    """One job, numbered by the client; every request gets exactly one Reply."""

    id: int
    job: Job[Any]


@dataclass
class Reply(Generic[T]):
    """How one request ended: answered with the value its job fixes, or why there is none."""

    id: int
    # "answered" (value is set) | "cancelled" | "crashed" (the worker died or could not
    # start) | "failed" (the worker could not answer: its own bug, or out of memory)
    kind: str
    value: T | None = None
    message: str = ""  # plain words, for "crashed" and "failed"
    seconds: float = 0.0  # time the worker spent on the request
    # The worker ends after this reply (a run stuck in one call past its time limit): the
    # client sends it nothing more and starts a fresh one.
    last: bool = False


def encode_frame(message: Any, run: int | None = None) -> bytes:
    """Length prefix and pickle in one buffer, so a frame is written whole or not at all.

    With run, the worker's run the message's graph belongs to, saved tensors larger than a
    card draws are left out (marked Withheld(run)): the window fetches them when shown; and
    a step's gradients cross as the window shows them (_steps_as_shown).
    """
    # Pickle is safe here: both ends are our own code and carry only our own plain data.
    buffer = io.BytesIO()
    buffer.write(bytes(_LENGTH.size))  # the length, written once the body is known
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    if run is not None:
        pickler.dispatch_table = {
            **copyreg.dispatch_table,
            GraphNode: _without_tensors(run),
            Step: _steps_as_shown(_passes_in(message)),
        }
    with collector.paused():
        pickler.dump(message)
    frame = buffer.getbuffer()
    frame[: _LENGTH.size] = _LENGTH.pack(len(frame) - _LENGTH.size)
    return bytes(frame)


# A saved tensor this small is drawn on its card (`2` beside the dot of 2 * x): it travels.
DRAWN_SAVED_ELEMENTS = 4


def _without_tensors(run: int) -> Any:
    """How a GraphNode is pickled for the window: its saved tensors over
    DRAWN_SAVED_ELEMENTS replaced by one shared mark (pickled once per message)."""
    mark = Withheld(run)

    def reduce(record: GraphNode) -> tuple:
        rebuild, fields = record.__reduce__()
        saved = record.saved
        if saved and any(type(value) is not _PLAIN for value in saved.values()):
            light = {key: _light(value, mark) for key, value in saved.items()}
            fields = (*fields[:_SAVED], light, *fields[_SAVED + 1 :])
        return rebuild, fields

    return reduce


_SAVED = FIELDS.index("saved")


_PLAIN = int  # most saved scalars (dim, alpha): nothing in them to leave out


def _light(value: Any, mark: Withheld) -> Any:
    if isinstance(value, TensorSummary):
        values = value.values  # every value of a small tensor; None for a large one
        return value if values is not None and values.size <= DRAWN_SAVED_ELEMENTS else mark
    if isinstance(value, list) and any(isinstance(v, TensorSummary) for v in value):
        return [_light(v, mark) for v in value]
    return value


def _passes_in(message: Any) -> list[Pass]:
    """The backward passes a message carries, wherever it holds them."""
    value = message.value if isinstance(message, Reply) else message
    if isinstance(value, Descended):
        value = value.snapshot
    passes: list[Pass] = []
    if isinstance(value, PassesAdded):
        passes += value.passes
        value = value.snapshot
    if isinstance(value, Snapshot):
        passes += value.passes
    return passes


def _steps_as_shown(passes: list[Pass]) -> Any:
    """How a Step is pickled for the window: each gradient of more than SMALL_VALUES values
    as its statistics and first values, which is all the window shows or exports of it (a
    card writes its norm, or `all 0`; the Inspector and the HTML page its statistics and first
    values; the JSON export those too). A pass of an LSTM unrolled 2,000 steps is 7 MB so,
    47 MB whole. A gradient holding NaN or infinity crosses whole: a card counts them."""
    shown = _shown(passes)
    get = shown.get

    def reduce(step: Step) -> tuple:
        grad_in = [get(id(g), g) for g in step.grad_in]
        grad_out = [get(id(g), g) for g in step.grad_out]
        before, after = step.grad_before, step.grad_after
        fields = (step.node, grad_in, grad_out, get(id(before), before), get(id(after), after))
        return Step, (*fields, step.seconds)

    return reduce


def _shown(passes: list[Pass]) -> dict[int, TensorSummary]:
    """The passes' large finite gradients as they cross, by the id of the whole one; their
    statistics computed all at once, as the JSON export computes them (a tenth of the time)."""
    large = {
        id(g): g
        for record in passes
        for step in record.steps
        for g in (*step.grad_in, *step.grad_out, step.grad_before, step.grad_after)
        if g is not None
        and g.values is not None
        and g.values.size > SMALL_VALUES
        and g.values.dtype.kind in "biuf"
    }
    shown: dict[int, TensorSummary] = {}
    for key, stats in json_tensors.statistics(large.values()).items():
        if all(math.isfinite(v) for v in stats.values()):
            whole = large[key]
            head = tuple(whole.first_values())
            fields = (whole.shape, whole.dtype, None, head, stats, whole.requires_grad)
            shown[key] = TensorSummary(*fields, sparse=whole.sparse)
    return shown


def write_frame(stream: BinaryIO, message: Any) -> None:
    stream.write(encode_frame(message))
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """The next message on stream; EOFError when the other end closed it (even mid-frame)."""
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    body = _read_exactly(stream, length)
    with collector.paused():
        return pickle.loads(body)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError(f"pipe closed with {remaining} of {size} bytes unread")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
