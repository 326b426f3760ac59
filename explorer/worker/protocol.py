"""The messages between the window and the worker process, and how they are framed on a pipe."""

from __future__ import annotations

import math
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, TypeVar

from explorer import collector
from explorer.data.reports import DescentReport, GradCheck
from explorer.data.snapshot import PassesAdded, Snapshot

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


def encode_frame(message: Any) -> bytes:
    """Length prefix and pickle in one buffer, so a frame is written whole or not at all."""
    # Pickle is safe here: both ends are our own code and carry only our own plain data.
    with collector.paused():
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


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
