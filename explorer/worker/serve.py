"""The worker's side of the pipe: run each request through the pipeline and answer it."""

from __future__ import annotations

import gc
import sys
import time
import traceback
from typing import BinaryIO

import torch

from explorer.data.reports import GradCheck
from explorer.data.snapshot import Problem, Snapshot
from explorer.runs.descent import Trainer
from explorer.runs.gradcheck import check_leaf
from explorer.runs.model_file import ModelSession
from explorer.runs.session import Session, Traced
from explorer.worker.protocol import READY, Reply, Request, encode_frame, read_frame

# How torch and Python word an allocation that hit the cap. The interpreter turns torch's
# RuntimeError into a script problem with its first line, so the words are all that is left.
_OUT_OF_MEMORY = ("can't allocate memory", "cannot allocate memory", "out of memory")


def serve(frames: BinaryIO, requests: BinaryIO, memory_mb: int) -> int:
    """Announce readiness, then answer requests one at a time until the client goes away."""
    server = Server(memory_mb)
    try:
        _send(frames, encode_frame(READY))
        while True:
            request = read_frame(requests)
            _send(frames, server.encode(server.handle(request)))
    except (EOFError, BrokenPipeError):  # the client stopped us, or died: nothing to tell
        return 0


def _send(frames: BinaryIO, frame: bytes) -> None:
    frames.write(frame)
    frames.flush()


class Server:
    """Runs requests; keeps the last run's Session so a backward pass can follow it."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.session: Traced | None = None
        self.trainer = Trainer()  # gradient descent on self.session
        self.extra: object = None  # what a descent or gradcheck request answers besides

    def handle(self, request: Request) -> Reply:
        started = time.perf_counter()
        self.extra = None
        snapshot = self._snapshot(request)
        seconds = time.perf_counter() - started
        return Reply(request.id, "snapshot", snapshot, seconds=seconds, extra=self.extra)

    def encode(self, reply: Reply) -> bytes:
        try:
            return encode_frame(reply)
        except MemoryError:  # a snapshot too large to pickle under the cap
            memory = Snapshot(problem=self.memory_problem())
            return encode_frame(Reply(reply.id, "snapshot", memory, seconds=reply.seconds))

    def memory_problem(self, where: Problem | None = None) -> Problem:
        problem = Problem(
            f"the script needed more memory than the worker's cap ({self.memory_mb:,} MB)",
            hint="use smaller tensors, or fewer of them at once",
        )
        if where is not None:
            problem.line, problem.column, problem.text = where.line, where.column, where.text
        return problem

    def _snapshot(self, request: Request) -> Snapshot:
        try:
            snapshot = self._dispatch(request)
        except MemoryError:
            return self._after_memory_error(None)
        except Exception as error:  # a bug of ours must not take the worker down
            if isinstance(error, RuntimeError) and is_out_of_memory(str(error)):
                return self._after_memory_error(None)
            return _internal_error(error)
        if snapshot.problem is not None and is_out_of_memory(snapshot.problem.message):
            return self._after_memory_error(snapshot)
        return snapshot

    def _dispatch(self, request: Request) -> Snapshot:
        if request.kind == "run":
            return self._run(request.text)
        if request.kind == "model":
            return self._model(request.path, request.text)
        if request.kind == "backward":
            return self._backward(request.name, request.gradient)
        if request.kind == "descent":
            return self._descent(request.options)
        if request.kind == "gradcheck":
            return self._gradcheck(request.name)
        return Snapshot(problem=Problem(f"the worker has no request kind {request.kind!r}"))

    def _run(self, text: str) -> Snapshot:
        self._drop_session()
        session = Session(text)
        snapshot = session.run()
        self.session = session
        return snapshot

    def _model(self, path: str, text: str) -> Snapshot:
        """Run a model file the user chose to trust; it replaces the last run, as a script does."""
        self._drop_session()
        session = ModelSession(path, text)
        snapshot = session.run()
        self.session = session
        return snapshot

    def _descent(self, options: dict) -> Snapshot:
        """Gradient descent on the last run; the graph after the steps replaces it."""
        snapshot, self.extra = self.trainer.handle(self.session, options)
        if snapshot is None:
            return Snapshot()
        self.session = self.trainer.shown
        gc.collect()  # the replaced run's reference cycles
        return snapshot

    def _gradcheck(self, node: str) -> Snapshot:
        """Check a leaf's gradient numerically; the graph on screen stays as it is."""
        if self.session is None:
            self.extra = GradCheck(node, problem="there is no script run: run one first")
        else:
            overrides = self.trainer.overrides_for(self.session)
            self.extra = check_leaf(self.session, node, overrides)
        return Snapshot()

    def _drop_session(self) -> None:
        # Free the last run's tensors first: under a memory cap, holding both could fail.
        self.session = None
        self.trainer.forget()
        gc.collect()  # a Session holds reference cycles; runs pause the cycle collector

    def _backward(self, name: str, gradient: list | None) -> Snapshot:
        if self.session is None:
            return Snapshot(
                problem=Problem(
                    "there is no script to run backward on",
                    hint="run a script first; a cancelled or crashed run leaves none",
                )
            )
        try:
            grad = None if gradient is None else torch.tensor(gradient, dtype=torch.float32)
        except (TypeError, ValueError) as error:
            # Keep the run's graph on screen; only this request was wrong.
            self.session.problem = Problem(
                f"the gradient for {name} is not a list of numbers of one shape ({error})"
            )
            return self.session.snapshot()
        return self.session.backward(name, grad)

    def _after_memory_error(self, snapshot: Snapshot | None) -> Snapshot:
        gc.collect()  # runs pause the cycle collector; give the memory back now
        if snapshot is None:
            return Snapshot(problem=self.memory_problem())
        snapshot.problem = self.memory_problem(snapshot.problem)
        return snapshot


def is_out_of_memory(message: str) -> bool:
    lowered = message.lower()
    return lowered == "memoryerror" or any(words in lowered for words in _OUT_OF_MEMORY)


def _internal_error(error: Exception) -> Snapshot:
    traceback.print_exception(error, file=sys.stderr)
    return Snapshot(
        problem=Problem(
            f"the explorer itself failed on this script ({type(error).__name__}: {error})",
            hint="this is a bug in the explorer, not in the script; please report it",
        )
    )
