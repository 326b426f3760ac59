"""The saved tensors a run's message left in the worker, fetched whole for the data exports."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEventLoop

from explorer.data.snapshot import Snapshot
from explorer.ui.panels.inspector import withheld_run

GONE = (
    "the worker has run another script since this graph was drawn, and its saved tensors "
    "went with it: run the script again, then export"
)


def complete(snapshot: Snapshot, worker: Any) -> None:
    """Put back every saved tensor the worker kept out of snapshot's message, waiting for
    them (an export is worth the wait); ValueError when that run is gone."""
    nodes = snapshot.graph.nodes
    run = next((r for _, a in nodes(data=True) if (r := withheld_run(a.saved)) is not None), None)
    if run is None:
        return
    request = worker.fetch_all_saved(run)
    answers: list[Any] = []
    loop = QEventLoop()
    request.answered.connect(answers.append)
    request.finished.connect(loop.quit)
    loop.exec()
    if not answers or answers[0].saved is None:
        raise ValueError(GONE)
    for node, saved in answers[0].saved.items():
        if node in nodes:
            nodes[node].saved = saved
