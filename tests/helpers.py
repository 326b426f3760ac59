"""Shared helpers for tests: run a script through the whole pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.data.snapshot import Snapshot, TensorSummary
from explorer.runs.session import Session, run_script


def run_ok(text: str) -> Snapshot:
    """Run text and fail the test with the script's own message if it reported a problem."""
    snapshot = run_script(text)
    assert snapshot.problem is None, snapshot.problem
    return snapshot


def session_ok(text: str) -> tuple[Session, Snapshot]:
    session = Session(text)
    snapshot = session.run()
    assert snapshot.problem is None, snapshot.problem
    return session, snapshot


def values(summary: TensorSummary | None) -> np.ndarray:
    assert summary is not None and summary.values is not None
    return summary.values


def texts(snapshot: Snapshot) -> list[str]:
    return [o.text for o in snapshot.outputs]


def graph_view(qtbot, snapshot: Snapshot) -> tuple[Any, Any]:
    """An ExplorerModel showing snapshot, and a GraphView of it on screen (900 × 700)."""
    from explorer.ui.graph.view import GraphView
    from explorer.ui.model import ExplorerModel

    model = ExplorerModel()
    view = GraphView(model)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    model.set_snapshot(snapshot)
    return model, view
