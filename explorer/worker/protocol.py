"""The messages between the window and the worker process, and how they are framed on a pipe."""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from explorer import collector
from explorer.data.snapshot import Snapshot

DEFAULT_MEMORY_MB = 4096  # address space of the worker; see explorer/worker/__main__.py
READY = "ready"  # the worker's first frame: torch is imported and requests will be read
_LENGTH = struct.Struct(">Q")  # 8-byte big-endian length before each pickled frame


@dataclass
class Request:
    """One job: run a script or a model file, or a backward pass on a tensor of the last run;
    or gradient descent on the last run, or a numerical check of one of its leaves' gradient."""

    id: int
    kind: str  # "run" | "model" | "backward" | "descent" | "gradcheck"
    text: str = ""  # the script, for "run"; the model file's Python, for "model"
    path: str = ""  # the model file, for "model": tracebacks and imports beside it use it
    name: str = ""  # the tensor to backward from, for "backward"; the leaf's node id, "gradcheck"
    gradient: list | None = None  # nested list of numbers, for "backward"; None means ones
    # for "descent": action ("prepare" | "step" | "show" | "reset"), rate, steps, seconds,
    # graph (send the graph after the steps), surface (update the loss surface)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """The answer to one request; every request gets exactly one."""

    id: int
    kind: str  # "snapshot" | "cancelled" | "crashed"
    snapshot: Snapshot | None = None  # for "snapshot"
    message: str = ""  # plain words, for "crashed"
    seconds: float = 0.0  # time the worker spent on the request
    extra: Any = None  # a DescentReport or a GradCheck (explorer/data/reports.py), for those kinds


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
