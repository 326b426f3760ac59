"""The worker's side of the pipe: run each request through the pipeline and answer it."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, BinaryIO, TypeVar

import torch

from explorer.data.reports import GradCheck
from explorer.data.snapshot import PassesAdded, Problem, Snapshot
from explorer.lang import watchdog
from explorer.runs.descent import Trainer
from explorer.runs.gradcheck import check_leaf
from explorer.runs.model_file import ModelFileSession
from explorer.runs.session import Session, Traced
from explorer.worker.memory import is_out_of_memory, over_the_cap
from explorer.worker.protocol import (
    READY,
    AllSaved,
    Backward,
    CheckGradient,
    Descend,
    Descended,
    FetchAllSaved,
    FetchSaved,
    OpenModelFile,
    Reply,
    Request,
    RunScript,
    SavedValues,
    encode_frame,
    read_frame,
)

# The exit status of a worker that ended itself because a run was stuck in one call.
STUCK_EXIT = 3
# Jobs answered with a Snapshot carry a failure in it, shown where a run's problem is.
_SNAPSHOT_JOBS = (RunScript, OpenModelFile)
_Answer = TypeVar("_Answer", Snapshot, PassesAdded)


def serve(frames: BinaryIO, requests: BinaryIO, memory_mb: int) -> int:
    """Announce readiness, then answer requests one at a time until the client goes away."""
    server = Server(memory_mb)
    out = _Frames(frames)
    # A run stuck in one call past its time: answer for it from the watchdog, then end.
    watchdog.on_overrun(lambda problem: out.last_word(server, problem))
    try:
        out.send(encode_frame(READY))
        while True:
            request = read_frame(requests)
            out.owe(request)
            out.answer(server.encode(request, server.handle(request)))
    except (EOFError, BrokenPipeError):  # the client stopped us, or died: nothing to tell
        return 0
    finally:
        watchdog.on_overrun(None)


class _Frames:
    """The frame stream, written a whole frame at a time by one thread at a time: the main
    thread's answers, or the watchdog's answer for a run that is stuck."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.owed: Request | None = None  # read and not yet answered
        self.since = 0.0  # when it was read (time.perf_counter)

    def send(self, frame: bytes) -> None:
        with self.lock:
            _send(self.stream, frame)

    def owe(self, request: Request) -> None:
        with self.lock:
            self.owed, self.since = request, time.perf_counter()

    def answer(self, frame: bytes) -> None:
        with self.lock:
            self.owed = None
            _send(self.stream, frame)

    def last_word(self, server: Server, problem: Problem) -> None:
        """Answer the request in flight with problem and end this process: its run is stuck
        in a call that may never return, and the client starts a fresh worker."""
        with self.lock:
            try:
                if self.owed is not None:
                    reply = server.failure(self.owed, problem)
                    reply.last = True
                    reply.seconds = time.perf_counter() - self.since
                    _send(self.stream, encode_frame(reply))
            finally:
                os._exit(STUCK_EXIT)


def _send(frames: BinaryIO, frame: bytes) -> None:
    frames.write(frame)
    frames.flush()


class Server:
    """Runs requests; keeps the last run's Session so a backward pass can follow it."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self._session: Traced | None = None
        # Counts the runs kept: a message's graph names its run, so a fetch of saved values
        # made for an earlier run is told they are gone rather than given this run's. From a
        # random start, so that a fresh worker's runs are not numbered as a killed one's were.
        self.run_number = int.from_bytes(os.urandom(6), "big")
        self.trainer = Trainer()  # gradient descent on self.session
        self._handlers: dict[type, Callable[[Any], Any]] = {
            RunScript: self._run,
            OpenModelFile: self._model_file,
            Backward: self._backward,
            Descend: self._descend,
            CheckGradient: self._gradcheck,
            FetchSaved: self._saved,
            FetchAllSaved: self._all_saved,
        }

    @property
    def session(self) -> Traced | None:
        """The last run, whose tensors stay for a backward pass and for fetches."""
        return self._session

    @session.setter
    def session(self, session: Traced | None) -> None:
        if session is not self._session:
            self.run_number += 1
        self._session = session

    def handle(self, request: Request) -> Reply:
        """The request's Reply: its job's answer, or why there is none."""
        started = time.perf_counter()
        reply = self._answer(request)
        reply.seconds = time.perf_counter() - started
        return reply

    def encode(self, request: Request, reply: Reply) -> bytes:
        try:
            # A graph in the reply is the last run's; its large saved tensors stay here.
            return encode_frame(reply, run=self.run_number)
        except MemoryError:  # an answer too large to pickle under the cap
            memory = self.failure(request, self.memory_problem())
            memory.seconds = reply.seconds
            return encode_frame(memory)
        except Exception as error:  # a value of ours that is not plain data: our bug
            traceback.print_exception(error, file=sys.stderr)  # the details, for a report
            broken = self.failure(
                request,
                Problem(
                    "the explorer itself failed to send this answer to the window",
                    hint="this is a bug in the explorer, not in the script; please report it",
                ),
            )
            broken.seconds = reply.seconds
            return encode_frame(broken)

    def failure(self, request: Request, problem: Problem) -> Reply:
        """The Reply when the job could not be done: in its Snapshot, or in plain words."""
        if isinstance(request.job, _SNAPSHOT_JOBS):
            return Reply(request.id, "answered", Snapshot(problem=problem))
        if isinstance(request.job, Backward):  # the graph on screen stays
            return Reply(request.id, "answered", PassesAdded(problem=problem))
        return Reply(request.id, "failed", message=problem.one_line())

    def memory_problem(self, where: Problem | None = None) -> Problem:
        return over_the_cap(f"the worker's cap ({self.memory_mb:,} MB)", where)

    def _answer(self, request: Request) -> Reply:
        handler = self._handlers.get(type(request.job))
        if handler is None:
            return self.failure(request, Problem(f"the worker has no job {request.job!r}"))
        try:
            return Reply(request.id, "answered", handler(request.job))
        except MemoryError:
            gc.collect()  # runs pause the cycle collector; give the memory back now
            return self.failure(request, self.memory_problem())
        except Exception as error:  # a bug of ours must not take the worker down
            if isinstance(error, RuntimeError) and is_out_of_memory(str(error)):
                gc.collect()
                return self.failure(request, self.memory_problem())
            return self.failure(request, _internal_error(error))

    def _run(self, job: RunScript) -> Snapshot:
        self._drop_session()
        session = Session(job.text)
        snapshot = session.run(layout=False)  # the window lays out what it opens collapsed
        self.session = session
        return self._checked(snapshot)

    def _model_file(self, job: OpenModelFile) -> Snapshot:
        """Run a model file the user chose to trust; it replaces the last run, as a script does."""
        self._drop_session()
        session = ModelFileSession(job.path, job.text)
        snapshot = session.run(layout=False)  # the window lays out what it opens collapsed
        self.session = session
        return self._checked(snapshot)

    def _descend(self, job: Descend) -> Descended:
        """Gradient descent on the last run; the graph after the steps replaces it."""
        snapshot, report = self.trainer.handle(self.session, asdict(job))
        if snapshot is None:
            return Descended(report)
        self.session = self.trainer.shown
        gc.collect()  # the replaced run's reference cycles
        return Descended(report, self._checked(snapshot))

    def _gradcheck(self, job: CheckGradient) -> GradCheck:
        """Check a leaf's gradient numerically; the graph on screen stays as it is."""
        if self.session is None:
            return GradCheck(job.node, problem="there is no script run: run one first")
        overrides = self.trainer.overrides_for(self.session)
        return check_leaf(self.session, job.node, overrides)

    def _saved(self, job: FetchSaved) -> SavedValues:
        """A node's saved values, as capture read them, if job.run is still the last run."""
        if self.session is None or job.run != self.run_number:
            return SavedValues(job.run, job.node, None)
        graph = self.session.recorder.capture.graph
        record = graph.nodes[job.node] if job.node in graph else None
        saved = record.saved if record is not None else None
        return SavedValues(job.run, job.node, dict(saved or {}))

    def _all_saved(self, job: FetchAllSaved) -> AllSaved:
        """Every node's saved values, if job.run is still the last run."""
        if self.session is None or job.run != self.run_number:
            return AllSaved(job.run, None)
        graph = self.session.recorder.capture.graph
        return AllSaved(job.run, {n: dict(a.saved) for n, a in graph.nodes(data=True) if a.saved})

    def _drop_session(self) -> None:
        # Free the last run's tensors first: under a memory cap, holding both could fail.
        self.session = None
        self.trainer.forget()
        gc.collect()  # a Session holds reference cycles; runs pause the cycle collector

    def _backward(self, job: Backward) -> PassesAdded:
        """A pass from a tensor of the last run; the graph on screen stays, so only the pass,
        the leaves' .grad and the problem go back."""
        if self.session is None:
            return PassesAdded(
                problem=Problem(
                    "there is no script to run backward on",
                    hint="run a script first; a cancelled or crashed run leaves none",
                )
            )
        name, gradient = job.name, job.gradient
        try:
            grad = None if gradient is None else torch.tensor(gradient, dtype=torch.float32)
        except (TypeError, ValueError) as error:
            # Keep the run's graph on screen; only this request was wrong.
            self.session.problem = Problem(
                f"the gradient for {name} is not a list of numbers of one shape ({error})"
            )
            return PassesAdded(grads=self.session.leaf_grads(), problem=self.session.problem)
        added = self.session.backward_on_request(name, grad)
        if added.snapshot is not None:
            added.snapshot = self._checked(added.snapshot)
            return added
        return self._checked(added)

    def _checked(self, answer: _Answer) -> _Answer:
        """The answer, its problem reworded when it is the memory cap's."""
        if answer.problem is None or not is_out_of_memory(answer.problem.message):
            return answer
        gc.collect()  # runs pause the cycle collector; give the memory back now
        answer.problem = self.memory_problem(answer.problem)
        return answer


def _internal_error(error: Exception) -> Problem:
    traceback.print_exception(error, file=sys.stderr)
    return Problem(
        f"the explorer itself failed on this script ({type(error).__name__}: {error})",
        hint="this is a bug in the explorer, not in the script; please report it",
    )
