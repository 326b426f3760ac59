"""The time limit inside a statement: an alarm raised into a run, and a hard stop past it.

Budget.tick checks the time between statements only; one statement can hold thousands of
slow calls, and one call into torch can run for minutes. Two guards cover that:
- alarm(): a SIGALRM timer that raises TimeUp into the running Python code at the deadline.
  A signal's handler runs when control is back in Python bytecode, so a single C call that
  does not return is not stopped by it; and only the main thread receives signals, so a run
  on another thread keeps only the check between statements.
- hard_stop(): past the deadline and a grace period, a watchdog thread hands the run's
  timeout problem to the process's overrun handler, which answers for the run and ends the
  process (the worker, the command line). A process without one (tests, a library) lets
  the call run to its end, and the alarm stops the run after it.
"""

from __future__ import annotations

import atexit
import itertools
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from explorer.data.snapshot import Problem

Overrun = Callable[[Problem], None]
_RETRY_SECONDS = 0.01  # how soon an alarm that came at a bad moment tries again


class TimeUp(BaseException):
    """Raised into a run whose time is up.

    A BaseException, so that no `except Exception` in torch or in the interpreter takes it
    for a failed call: the interpreter alone turns it into the script's problem.
    """


def on_overrun(handler: Overrun | None) -> None:
    """Make handler this process's answer to a call that outlasts the limit and its grace.

    It is called on a watchdog thread with the run's timeout problem, while the run's thread
    is still inside the call, and should end the process; None forgets it.
    """
    global _watcher
    if _watcher is not None:
        _watcher.stop()
        atexit.unregister(_watcher.stop)
    _watcher = None if handler is None else _Watcher(handler)
    if _watcher is not None:
        atexit.register(_watcher.stop)


class _Alarm:
    """The SIGALRM handler of one run: it raises once, and never after the run has ended."""

    def __init__(self) -> None:
        self.armed = True

    def fire(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed:
            return
        if not _safe_to_interrupt(frame):
            signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)  # try again a moment later
            return
        self.armed = False
        raise TimeUp


def _safe_to_interrupt(frame: FrameType | None) -> bool:
    """False inside an import, which torch does lazily within calls: a module left half run
    would break torch for every later run in this process. False in a finaliser too, where
    an exception would only be printed."""
    if frame is not None and frame.f_code.co_name == "__del__":
        return False
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return False
        frame = frame.f_back
    return True


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise TimeUp in this thread once seconds have passed inside the block.

    The handler and interval timer that were set before are put back afterwards, the timer
    with what was left of it when the block began less the time the block took.
    """
    if not _can_signal(seconds):
        yield
        return
    own = _Alarm()
    previous = signal.signal(signal.SIGALRM, own.fire)
    before, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        own.armed = False  # first: a signal from here on raises nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
        _discard_pending_alarm()
        if previous is not None:  # None: set outside Python, and not ours to restore
            signal.signal(signal.SIGALRM, previous)
        if before > 0:
            left = before - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


def _can_signal(seconds: float) -> bool:
    return (
        seconds > 0
        and math.isfinite(seconds)
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


def _discard_pending_alarm() -> None:
    """Take a SIGALRM that the timer raised but nobody has handled yet.

    It would otherwise reach the handler put back next, which may be the default one that
    ends the process. One already noted by Python runs our disarmed handler at the next
    Python call, which is this function's return at the latest.
    """
    if hasattr(signal, "sigtimedwait"):  # not on macOS, where the window is wider
        signal.sigtimedwait([signal.SIGALRM], 0)


@contextmanager
def hard_stop(seconds: float, problem: Callable[[], Problem]) -> Iterator[None]:
    """Past seconds inside the block, give problem() to the process's overrun handler."""
    watcher = _watcher
    if watcher is None or not (seconds > 0 and math.isfinite(seconds)):
        yield
        return
    key = watcher.watch(seconds, problem)
    try:
        yield
    finally:
        watcher.forget(key)


class _Watcher:
    """The one thread of a process that looks for runs past their hard deadline.

    It wakes a few times a second rather than once per run: a thread started and joined for
    each run cost 0.4 ms, more than a small script's re-run takes during gradient descent.
    """

    def __init__(self, handler: Overrun) -> None:
        self.handler = handler
        # Held while the handler runs: a run that ends then waits rather than carry on
        # while the process is being ended under it.
        self.lock = threading.Lock()
        self.runs: dict[int, tuple[float, Callable[[], Problem]]] = {}  # key: (deadline, ...)
        self.keys = itertools.count()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="run-hard-stop", daemon=True)
        self.thread.start()

    def watch(self, seconds: float, problem: Callable[[], Problem]) -> int:
        with self.lock:
            key = next(self.keys)
            self.runs[key] = (time.monotonic() + seconds, problem)
            return key

    def forget(self, key: int) -> None:
        with self.lock:
            self.runs.pop(key, None)

    def stop(self) -> None:
        # Joined, not left to die with the process: a thread that woke while Python was
        # exiting made the process abort ("terminate called without an active exception").
        self.stopped.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.stopped.wait(_POLL_SECONDS):
            with self.lock:
                now = time.monotonic()
                due = [key for key, (deadline, _) in self.runs.items() if deadline <= now]
                for key in due:
                    _, problem = self.runs.pop(key)
                    self.handler(problem())


_POLL_SECONDS = 0.25
_watcher: _Watcher | None = None
