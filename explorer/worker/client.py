"""The window's handle on the worker process: queue requests, cancel, recover from crashes."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from explorer.worker.protocol import (
    DEFAULT_MEMORY_MB,
    READY,
    Job,
    Reply,
    Request,
    read_frame,
    write_frame,
)

__all__ = ["DEFAULT_MEMORY_MB", "Reply", "ReplyTo", "Request", "WorkerClient"]

T = TypeVar("T")
ReplyTo = Callable[[Reply[T]], None]  # the asker's own callback for its request's Reply

# The folder holding the explorer package, so the worker imports this same code.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_REAP_SECONDS = 5.0  # how long a worker that closed its stdout may take to exit
_JOIN_SECONDS = 5.0


class WorkerClient:
    """Runs jobs in a worker process and hands each Reply to the callback its asker gave.

    A callback is called on the client's own delivery thread, never on the caller's thread
    and never while the client's lock is held, one reply at a time, in the order the answers
    were decided. A Qt caller should only emit a signal from it. Every request gets exactly
    one Reply ("answered", "failed", "cancelled" or "crashed"), except requests still
    outstanding when stop() is called: those get none.

    Requests wait in the client and go to the worker one at a time, so a request that was
    queued behind a crash still runs on the fresh worker, and the caller never blocks on a
    full pipe while a worker is busy or still importing torch (1-3 s).
    """

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self._memory_mb = memory_mb
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queue: deque[_Asked] = deque()  # accepted, not yet sent to the worker
        self._in_flight: _Asked | None = None  # sent to the worker, not yet answered
        self._process: _Process | None = None
        self._outbox: queue.SimpleQueue[tuple[ReplyTo, Reply] | None] = queue.SimpleQueue()
        self._delivery: threading.Thread | None = None
        self._state = "new"  # "new" -> "started" -> "stopped"

    # -- public ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker and the delivery thread; calling it again does nothing."""
        with self._lock:
            if self._state == "stopped":
                raise RuntimeError("this WorkerClient was stopped; make a new one")
            if self._state == "started":
                return
            self._state = "started"
            self._delivery = threading.Thread(
                target=self._deliver, name="worker-replies", daemon=True
            )
            self._delivery.start()
            self._process = self._spawn()
        atexit.register(self.stop)

    def submit(self, job: Job[T], reply_to: ReplyTo[T]) -> int:
        """Queue job; its Reply goes to reply_to alone. Returns the id the Reply will carry.

        A backward, descent or gradient check works on the last run, which lives only in the
        current worker. An OpenModelFile runs the file as ordinary Python in the worker: submit
        one only once the user has said they trust it.
        """
        self.start()
        with self._lock:
            if self._state == "stopped":
                raise RuntimeError("this WorkerClient was stopped; make a new one")
            asked = _Asked(Request(next(self._ids), job), reply_to)
            self._queue.append(asked)
            if self._process is None:  # the last one failed to start: try again now
                self._process = self._spawn()
            sending = self._next_to_send()
        _send(sending)
        return asked.request.id

    def cancel(self) -> None:
        """Answer every outstanding request "cancelled"; a running one is killed at once."""
        with self._lock:
            running = self._in_flight is not None
            for asked in self._take_outstanding():
                self._outbox.put((asked.reply_to, Reply(asked.request.id, "cancelled")))
            if running and self._process is not None:
                # A fresh worker starts importing torch now, so the next run waits less.
                self._process.kill()
                self._process = self._spawn()

    def set_memory_mb(self, memory_mb: int) -> None:
        """Cap later workers at memory_mb MiB (0: no cap); the current one is replaced when idle.

        Idle means nothing queued either: a queued backward needs the run before it, which
        lives only in the current worker.
        """
        with self._lock:
            self._memory_mb = memory_mb
            self._restart_if_memory_changed()

    def stop(self) -> None:
        """Kill the worker and end the threads; outstanding requests get no reply. Idempotent."""
        with self._lock:
            if self._state == "stopped":
                return
            self._state = "stopped"
            process, self._process = self._process, None
            self._take_outstanding()
            self._outbox.put(None)  # replies decided before this are still delivered
        atexit.unregister(self.stop)
        if process is not None:
            process.kill()
            process.reader.join(_JOIN_SECONDS)
        delivery = self._delivery
        if delivery is not None and delivery is not threading.current_thread():
            delivery.join(_JOIN_SECONDS)

    @property
    def busy(self) -> bool:
        """True while any request is running or queued."""
        with self._lock:
            return self._in_flight is not None or bool(self._queue)

    @property
    def pid(self) -> int | None:
        """The current worker's process id, or None when there is none."""
        with self._lock:
            return None if self._process is None else self._process.pid

    @property
    def memory_mb(self) -> int:
        return self._memory_mb

    # -- requests -------------------------------------------------------------------------
    def _next_to_send(self) -> tuple[_Process, Request] | None:
        """Put the next queued request in flight if the worker is ready and idle (lock held)."""
        process = self._process
        if process is None or not process.ready or process.ending or self._in_flight is not None:
            return None
        if not self._queue:
            return None
        self._in_flight = self._queue.popleft()
        return process, self._in_flight.request

    def _take_outstanding(self) -> list[_Asked]:
        """Forget every unanswered request, running one first (lock held)."""
        outstanding = [self._in_flight] if self._in_flight is not None else []
        outstanding.extend(self._queue)
        self._in_flight = None
        self._queue.clear()
        return outstanding

    # -- worker processes -----------------------------------------------------------------
    def _spawn(self) -> _Process:
        return _Process(self._memory_mb, self._on_frame, self._on_exit)

    def _restart_if_memory_changed(self) -> None:
        process = self._process
        if process is None or process.memory_mb == self._memory_mb:
            return
        if self._in_flight is None and not self._queue:
            process.kill()
            self._process = self._spawn()

    def _on_frame(self, process: _Process, frame: Any) -> None:
        """Called on process's reader thread for each frame it reads."""
        with self._lock:
            if process is not self._process:
                return  # a cancelled or replaced worker: its answers are no longer wanted
            if frame == READY:
                process.ready = True
            elif isinstance(frame, Reply) and frame.last:
                # It ends itself after this: what waits goes to the fresh one that replaces it.
                process.ending = True
            if isinstance(frame, Reply) and (asked := self._answered_by(frame)) is not None:
                self._in_flight = None
                self._outbox.put((asked.reply_to, frame))
                self._restart_if_memory_changed()
            sending = self._next_to_send()
        _send(sending)

    def _answered_by(self, reply: Reply) -> _Asked | None:
        """The request in flight, if reply answers it (lock held)."""
        asked = self._in_flight
        return asked if asked is not None and reply.id == asked.request.id else None

    def _on_exit(self, process: _Process) -> None:
        """Called on process's reader thread once the process has exited."""
        how = process.exit_description()
        with self._lock:
            if process is not self._process:
                return  # killed on purpose: cancel, restart or stop
            self._process = None
            if not process.ready:
                # It died while starting; starting another at once could loop forever, so
                # fail what waits, and let the next request try a fresh worker.
                message = (
                    f"the worker could not start ({how}); if its memory cap "
                    f"({process.memory_mb:,} MB) is small, raise it"
                )
                for asked in self._take_outstanding():
                    self._outbox.put(asked.crashed(message))
                return
            if self._in_flight is not None:
                message = f"the worker stopped unexpectedly ({how}); a fresh one has been started"
                self._outbox.put(self._in_flight.crashed(message))
                self._in_flight = None
            self._process = self._spawn()  # queued requests go to it once it is ready

    def _deliver(self) -> None:
        while (addressed := self._outbox.get()) is not None:
            reply_to, reply = addressed
            try:
                reply_to(reply)
            except Exception:  # a failing callback must not stop later replies
                traceback.print_exc()


@dataclass
class _Asked:
    """A request and the callback of the one who asked it."""

    request: Request
    reply_to: ReplyTo

    def crashed(self, message: str) -> tuple[ReplyTo, Reply]:
        return self.reply_to, Reply(self.request.id, "crashed", message=message)


def _send(sending: tuple[_Process, Request] | None) -> None:
    """Write outside the lock: the worker reads at once, as it is idle when a request goes."""
    if sending is not None:
        process, request = sending
        process.send(request)


class _Process:
    """One worker process and the thread that reads its frames."""

    def __init__(
        self,
        memory_mb: int,
        on_frame: Callable[[_Process, Any], None],
        on_exit: Callable[[_Process], None],
    ) -> None:
        self.memory_mb = memory_mb
        self.ready = False  # set by the client, under its lock, on the READY frame
        self.ending = False  # set likewise when its reply says it is about to exit
        self._on_frame = on_frame
        self._on_exit = on_exit
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "explorer.worker", "--memory-mb", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_environment(),
            # Its own process group: a terminal's Ctrl-C reaches the window only, and a kill
            # reaches everything the worker might have started.
            start_new_session=True,
        )
        self.pid = self.popen.pid
        self.reader = threading.Thread(
            target=self._read, name=f"worker-{self.pid}-reader", daemon=True
        )
        self.reader.start()

    def send(self, request: Request) -> None:
        # A dead worker fails the write; its reader thread reports the death.
        with contextlib.suppress(OSError, ValueError):
            write_frame(self.popen.stdin, request)  # type: ignore[arg-type]

    def kill(self) -> None:
        if self.popen.returncode is not None:
            return  # already reaped: its id may belong to another process by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def exit_description(self) -> str:
        code = self.popen.returncode
        if code is None:
            return "still running"
        if code >= 0:
            return f"exit code {code}"
        try:
            name = signal.Signals(-code).name
        except ValueError:
            return f"killed by signal {-code}"
        if -code == signal.SIGKILL:
            name += ", often sent by the system when memory runs out"
        return f"killed by signal {-code}, {name}"

    def _read(self) -> None:
        try:
            while True:
                self._on_frame(self, read_frame(self.popen.stdout))  # type: ignore[arg-type]
        except EOFError:
            pass
        except Exception:  # a garbled stream cannot be resynchronised: end this worker
            traceback.print_exc()
            self.kill()
        self._reap()
        self._on_exit(self)

    def _reap(self) -> None:
        try:
            self.popen.wait(_REAP_SECONDS)
        except subprocess.TimeoutExpired:  # closed its stdout but lingers
            self.kill()
            self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                # Closing flushes; a request still buffered for a dead worker cannot go.
                with contextlib.suppress(OSError):
                    stream.close()


def _worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [_PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
