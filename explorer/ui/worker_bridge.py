"""The worker process as Qt objects: each request a WorkerRequest whose signals reach its asker."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.worker.client import DEFAULT_MEMORY_MB, WorkerClient
from explorer.worker.protocol import (
    Backward,
    CheckGradient,
    Descend,
    FetchAllSaved,
    FetchSaved,
    Job,
    OpenModelFile,
    Reply,
    RunScript,
)


class WorkerRequest(QObject):
    """One request, as its asker sees it: exactly one of answered, cancelled or failed, then
    finished, always in the thread the request was made in.

    The answer's type is the one its job fixes (protocol.py): a Snapshot for a run or a model
    file, PassesAdded for a backward pass, Descended for a Descend, a GradCheck for a
    CheckGradient, SavedValues for a FetchSaved.
    """

    answered = Signal(object)  # the job's answer
    cancelled = Signal()  # cancelled before it was answered
    failed = Signal(str)  # plain words: the worker died, could not start, or could not answer
    finished = Signal()  # after any of the three
    _replied = Signal(object)  # the Reply, from the client's delivery thread

    def __init__(self, job: Job[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.id = 0  # set once submitted
        self.seconds = 0.0  # the worker's time on it, once answered
        self._dropped = False
        # Emitted on the client's thread, so Qt queues it to the thread this object lives in.
        self._replied.connect(self._on_reply)

    def drop(self) -> None:
        """The asker no longer wants the outcome: no signal will come."""
        self._dropped = True

    def _on_reply(self, reply: Reply) -> None:
        self.seconds = reply.seconds
        if not self._dropped:
            if reply.kind == "answered":
                self.answered.emit(reply.value)
            elif reply.kind == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(reply.message or "the worker stopped unexpectedly")
            self.finished.emit()
        self.deleteLater()  # the bridge, its parent, held it until now


class WorkerBridge(QObject):
    """Owns the WorkerClient and makes a WorkerRequest for each job."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = WorkerClient(memory_mb=memory_mb)
        self.client.start()

    @property
    def busy(self) -> bool:
        return self.client.busy

    def submit(self, job: Job[Any]) -> WorkerRequest:
        """Queue job; connect to the request returned before control goes back to Qt."""
        request = WorkerRequest(job, self)  # parented, so it lives until its reply comes
        request.id = self.client.submit(job, request._replied.emit)
        return request

    def run(self, text: str) -> WorkerRequest:
        """Run a script; answered with a Snapshot."""
        return self.submit(RunScript(text))

    def open_model_file(self, path: str, text: str) -> WorkerRequest:
        """Run a model file's Python in the worker; only after the user said they trust it.
        Answered with a Snapshot."""
        return self.submit(OpenModelFile(path, text))

    def backward(self, name: str, gradient: list | None = None) -> WorkerRequest:
        """name.backward(gradient) on the last run; answered with PassesAdded."""
        return self.submit(Backward(name, gradient))

    def descent(self, **options: Any) -> WorkerRequest:
        """Gradient descent on the last run (options: the fields of Descend); answered with
        Descended."""
        return self.submit(Descend(**options))

    def gradcheck(self, node: str) -> WorkerRequest:
        """A numerical check of the last run's leaf at graph node `node`; answered with a
        GradCheck."""
        return self.submit(CheckGradient(node))

    def fetch_saved(self, run: int, node: str) -> WorkerRequest:
        """The saved values of node in the worker's run `run`, left out of its Snapshot;
        answered with SavedValues (their saved is None once that run is gone)."""
        return self.submit(FetchSaved(run, node))

    def fetch_all_saved(self, run: int) -> WorkerRequest:
        """Every node's saved values in the worker's run `run`; answered with AllSaved."""
        return self.submit(FetchAllSaved(run))

    def cancel(self) -> None:
        """Every outstanding request is cancelled; a running one is killed at once."""
        self.client.cancel()

    def set_memory_mb(self, memory_mb: int) -> None:
        self.client.set_memory_mb(memory_mb)

    def stop(self) -> None:
        self.client.stop()


__all__ = ["WorkerBridge", "WorkerRequest"]
