"""The worker process as a Qt object: requests out, replies back in the GUI thread as a signal."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.worker.client import DEFAULT_MEMORY_MB, WorkerClient
from explorer.worker.protocol import Reply


class WorkerBridge(QObject):
    """Owns the WorkerClient; `replied` always arrives in the thread this object lives in."""

    replied = Signal(object)  # a Reply arrived for a request

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The client calls back from its reader thread; emitting a signal queues it to ours.
        self.client = WorkerClient(self.replied.emit, memory_mb=memory_mb)
        self.client.start()

    @property
    def busy(self) -> bool:
        return self.client.busy

    def run(self, text: str) -> int:
        return self.client.run(text)

    def open_model(self, path: str, text: str) -> int:
        """Run a model file's Python in the worker; only after the user said they trust it."""
        return self.client.open_model(path, text)

    def backward(self, name: str, gradient: Any = None) -> int:
        return self.client.backward(name, gradient)

    def descent(self, **options: Any) -> int:
        """Gradient descent on the last run; see WorkerClient.descent."""
        return self.client.descent(**options)

    def gradcheck(self, node: str) -> int:
        """A numerical check of the gradient of the last run's leaf at graph node `node`."""
        return self.client.gradcheck(node)

    def cancel(self) -> None:
        self.client.cancel()

    def set_memory_mb(self, memory_mb: int) -> None:
        self.client.set_memory_mb(memory_mb)

    def stop(self) -> None:
        self.client.stop()


__all__ = ["Reply", "WorkerBridge"]
