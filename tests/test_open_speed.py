"""What crosses the pipe when a graph opens: the graph the window draws, its large saved tensors
left in the worker and fetched by the Inspector, and never another run's values in their place."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.data.nodes import FIELDS, GraphNode
from explorer.data.snapshot import TensorSummary
from explorer.graph.release import consumers_first
from explorer.runs.session import Session
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.inspector import LOADING, NOT_AVAILABLE, SavedFetches
from explorer.ui.window.main_window import MainWindow
from explorer.worker.protocol import (
    DRAWN_SAVED_ELEMENTS,
    FetchSaved,
    Reply,
    Request,
    RunScript,
    SavedValues,
    Withheld,
    encode_frame,
    read_frame,
)
from explorer.worker.serve import Server
from tests.helpers import WAIT_MS, run

# mm saves both 3x3 inputs; pow its input and the exponent 3; the mul the 2; tanh its result
SCRIPT = (
    "import torch\n"
    "x = torch.arange(9.0).reshape(3, 3).requires_grad_()\n"
    "w = torch.full((3, 3), 0.5, requires_grad=True)\n"
    "y = ((x @ w) ** 3 * torch.tensor(2.0)).tanh().sum()\n"
)
OTHER = "import torch\na = torch.ones(2, requires_grad=True)\nb = (a * a).sum()\n"


def _op(graph, op: str) -> str:
    (node,) = [n for n, attrs in graph.nodes(data=True) if attrs.op == op]
    return node


def _decoded(message: object, run: int | None = None) -> object:
    return read_frame(io.BytesIO(encode_frame(message, run=run)))


def _tensors(saved: dict) -> list[TensorSummary]:
    values = [
        v for value in saved.values() for v in (value if isinstance(value, list) else [value])
    ]
    return [v for v in values if isinstance(v, TensorSummary)]


def test_a_graph_node_pickles_as_its_fields_and_comes_back_equal() -> None:
    snapshot = Session(SCRIPT).run()
    for _, record in snapshot.graph.nodes(data=True):
        back = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is GraphNode
        for field in FIELDS:
            if field not in ("value", "saved", "consts"):
                assert getattr(back, field) == getattr(record, field), field
        assert list(back) == list(record)
        assert (back.saved or {}).keys() == (record.saved or {}).keys()


def test_the_message_leaves_large_saved_tensors_in_the_worker_and_keeps_what_cards_draw() -> None:
    snapshot = Session(SCRIPT).run()
    sent = _decoded(snapshot, run=7)
    for node, record in snapshot.graph.nodes(data=True):
        light = sent.graph.nodes[node].saved or {}
        assert light.keys() == (record.saved or {}).keys()
        assert all(t.numel <= DRAWN_SAVED_ELEMENTS for t in _tensors(light))
    mm = sent.graph.nodes[_op(sent.graph, "MmBackward0")].saved
    assert isinstance(mm["self"], Withheld) and mm["self"].run == 7
    assert isinstance(mm["mat2"], Withheld)
    assert sent.graph.nodes[_op(sent.graph, "PowBackward0")].saved["exponent"] == 3
    (scaled,) = [
        a.saved
        for _, a in sent.graph.nodes(data=True)
        if (a.saved or {}).get("other") is not None and isinstance(a.saved["other"], TensorSummary)
    ]
    assert float(scaled["other"].values) == 2.0  # drawn beside the constant's dot
    # The session's own graph, which export writes, keeps every saved tensor.
    full = snapshot.graph.nodes[_op(snapshot.graph, "MmBackward0")].saved
    assert np.array_equal(full["self"].values, np.arange(9.0).reshape(3, 3))
    # The window's own JSON export writes the mark as words rather than failing on it.
    assert "left in the worker" in json.dumps(sent.to_dict())
    # Without a run (export, the library's window) everything is sent.
    whole = _decoded(snapshot).graph.nodes[_op(snapshot.graph, "MmBackward0")].saved
    assert isinstance(whole["self"], TensorSummary)


def test_a_captured_run_is_let_go_consumers_first_without_walking_it_again() -> None:
    session = Session(SCRIPT)
    session.run()
    captured = session.recorder.capture.closed()
    assert len(captured) == session.recorder.capture.graph.number_of_nodes()
    order = consumers_first([], captured)
    place = {node: index for index, node in enumerate(order)}
    assert len(order) == len(captured)
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                assert place[node] < place[child]


def test_the_worker_answers_a_fetch_for_its_last_run_and_not_for_an_earlier_one() -> None:
    server = Server(memory_mb=0)
    reply = _decoded(server_reply(server, 1, RunScript(SCRIPT)), run=None)
    mm = _op(reply.value.graph, "MmBackward0")
    run = server.run_number
    fetched = server.handle(Request(2, FetchSaved(run, mm))).value
    assert isinstance(fetched, SavedValues) and fetched.node == mm
    assert np.array_equal(fetched.saved["self"].values, np.arange(9.0).reshape(3, 3))
    assert np.array_equal(fetched.saved["mat2"].values, np.full((3, 3), 0.5))
    server.handle(Request(3, RunScript(OTHER)))
    assert server.run_number != run
    assert server.handle(Request(4, FetchSaved(run, mm))).value.saved is None


def server_reply(server: Server, number: int, job: object) -> Reply:
    return server.handle(Request(number, job))


def _select_mm(qtbot, window: MainWindow) -> None:
    window.model.select(_op(window.model.snapshot.graph, "MmBackward0"))


def test_the_inspector_shows_saved_tensors_once_the_worker_sends_them(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, SCRIPT)
    _select_mm(qtbot, window)
    assert LOADING in window.inspector.toPlainText()
    qtbot.waitUntil(lambda: LOADING not in window.inspector.toPlainText(), timeout=WAIT_MS)
    text = window.inspector.toPlainText().split("Saved for backward")[1]
    assert "self:" in text and "mat2:" in text
    assert "8" in text and "0.5" in text  # x's last element and w's, from the table
    assert NOT_AVAILABLE not in text


def test_a_fetch_after_another_run_says_not_available(qtbot, window: MainWindow) -> None:
    run(qtbot, window, SCRIPT)
    other = window.worker.run(OTHER)  # the worker's last run is now another one
    with qtbot.waitSignal(other.finished, timeout=WAIT_MS):
        pass
    _select_mm(qtbot, window)
    qtbot.waitUntil(lambda: NOT_AVAILABLE in window.inspector.toPlainText(), timeout=WAIT_MS)
    text = window.inspector.toPlainText().split("Saved for backward")[1]
    assert "self:" not in text


class _Asked(QObject):
    answered = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class _Worker:
    """Records fetches; answers them only when told."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str, _Asked]] = []

    def fetch_saved(self, run: int, node: str) -> _Asked:
        self.asked.append((run, node, _Asked()))
        return self.asked[-1][2]


def test_the_inspector_asks_one_fetch_at_a_time_and_then_the_latest_node_wanted(qtbot) -> None:
    model = ExplorerModel()
    model.set_snapshot(_decoded(Session(SCRIPT).run(), run=7))
    worker = _Worker()
    fetches = SavedFetches(model, worker)
    withheld = [
        n
        for n, a in model.snapshot.graph.nodes(data=True)
        if any(isinstance(v, Withheld) for v in (a.saved or {}).values())
    ]
    assert len(withheld) >= 3
    first, second, third = withheld[:3]
    assert [fetches.saved(n) for n in (first, second, third)] == [LOADING] * 3
    assert [(run, node) for run, node, _ in worker.asked] == [(7, first)]
    worker.asked[0][2].answered.emit(SavedValues(7, first, {"self": "the values"}))
    assert fetches.saved(first) == {"self": "the values"}
    assert [node for _, node, _ in worker.asked] == [first, third]  # second is no longer shown
    worker.asked[1][2].answered.emit(SavedValues(7, third, None))
    assert fetches.saved(third) == NOT_AVAILABLE


# Step gradients of every kind the window meets: large and varied, large and all zero, large
# with a NaN, small; and a leaf whose .grad is large.
PASS_SCRIPT = (
    "import torch\n"
    "w = torch.linspace(-1, 1, 120).reshape(12, 10).requires_grad_()\n"
    "z = torch.zeros(12, 10, requires_grad=True)\n"
    "x = torch.arange(10.0, requires_grad=True)\n"
    "y = ((w * 3).tanh().sum() + (z * 0).sum() + (x ** 2).sum()) * 2\n"
    "y.backward()\n"
    "n = torch.tensor([0.0, 4.0] * 40, requires_grad=True)\n"
    "m = n.sqrt().sum()\n"
    "m.backward()\n"
)


def _step_tensors(passes) -> list[TensorSummary]:
    return [
        g
        for record in passes
        for step in record.steps
        for g in (*step.grad_in, *step.grad_out, step.grad_before, step.grad_after)
        if g is not None
    ]


def test_a_passs_large_gradients_cross_as_the_window_shows_them_and_show_the_same() -> None:
    from explorer.data.json_text import snapshot_text
    from explorer.page.steps import value_text
    from explorer.ui.panels.inspector import tensor_html
    from explorer.ui.theme import LIGHT
    from explorer.view.labels import tensor_text

    snapshot = Session(PASS_SCRIPT).run()
    sent = _decoded(snapshot, run=3)
    whole, light = _step_tensors(snapshot.passes), _step_tensors(sent.passes)
    assert len(whole) == len(light)
    left = [w for w, s in zip(whole, light, strict=True) if s.values is None]
    assert left and all(w.numel > 64 and np.isfinite(w.values).all() for w in left)
    kept = [w for w, s in zip(whole, light, strict=True) if s.values is not None]
    assert any(w.numel > 64 and not np.isfinite(w.values).all() for w in kept)  # counted
    assert any(w.numel > 64 and not w.values.any() for w in left)  # `all 0` from statistics
    for w, s in zip(whole, light, strict=True):
        assert s.shape == w.shape and s.dtype == w.dtype
        assert s.statistics() == w.statistics()
        for room in (8, 12, 17, 24, 40):
            assert tensor_text(s, room) == tensor_text(w, room)
        assert tensor_html(s, LIGHT) == tensor_html(w, LIGHT)
        assert value_text(s) == value_text(w)
    # The window's JSON export of what it holds, its saved tensors fetched first, is the
    # export of the whole run.
    for node, record in sent.graph.nodes(data=True):
        record.saved = snapshot.graph.nodes[node].saved
    assert snapshot_text(sent) == snapshot_text(_decoded(snapshot))
    assert len(encode_frame(snapshot, run=3)) < len(encode_frame(snapshot))
