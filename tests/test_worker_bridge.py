"""Each request the window makes hears its own outcome, and only its own."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.data.reports import GradCheck
from explorer.data.snapshot import Snapshot
from explorer.ui.worker_bridge import WorkerBridge, WorkerRequest
from explorer.worker.protocol import CheckGradient, Descend, Request, RunScript
from explorer.worker.serve import Server

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="the worker's memory cap needs Linux"
)

WAIT_MS = 90_000  # the worker imports torch on a slow machine
SQUARES = "w = torch.tensor([1.0, 2.0], requires_grad=True)\nl = (w * w).sum()\nl.backward()"
LONG = "a = torch.randn(64, 64)\nfor i in range(100000):\n    b = a @ a @ a\n"


class Heard:
    """Everything one request's signals said."""

    def __init__(self, request: WorkerRequest) -> None:
        self.answers: list[object] = []
        self.cancelled = 0
        self.failed: list[str] = []
        self.finished = 0
        request.answered.connect(self.answers.append)
        request.cancelled.connect(self._on_cancelled)
        request.failed.connect(self.failed.append)
        request.finished.connect(self._on_finished)

    def _on_cancelled(self) -> None:
        self.cancelled += 1

    def _on_finished(self) -> None:
        self.finished += 1

    def outputs(self) -> list[str]:
        (snapshot,) = self.answers
        assert isinstance(snapshot, Snapshot)
        return [o.text for o in snapshot.outputs]


@pytest.fixture(scope="module")
def bridge(qapp) -> Iterator[WorkerBridge]:
    made = WorkerBridge()
    yield made
    made.stop()


def wait_all(qtbot, *heard: Heard) -> None:
    qtbot.waitUntil(lambda: all(h.finished for h in heard), timeout=WAIT_MS)
    qtbot.wait(200)  # time for a stray second signal, were there one
    assert all(h.finished == 1 for h in heard)


def start_long(qtbot, bridge: WorkerBridge) -> None:
    """Wait until the worker is ready and idle, so a long run really starts at once."""
    ready = Heard(bridge.run("z = 1"))
    wait_all(qtbot, ready)


def test_two_askers_each_get_their_own_answer(qtbot, bridge: WorkerBridge) -> None:
    first = Heard(bridge.run("a = torch.ones(2) * 3\na"))
    second = Heard(bridge.run("b = torch.ones(3) * 5\nb"))  # waits while the first runs
    wait_all(qtbot, first, second)
    assert first.outputs() == ["tensor([3., 3.])"]
    assert second.outputs() == ["tensor([5., 5., 5.])"]
    assert not (first.failed or second.failed or first.cancelled or second.cancelled)


def test_an_answer_has_the_type_its_job_fixes(qtbot, bridge: WorkerBridge) -> None:
    ran = Heard(bridge.run(SQUARES))
    wait_all(qtbot, ran)
    (snapshot,) = ran.answers
    (leaf,) = [n for n, kind in snapshot.graph.nodes(data="kind") if kind == "leaf"]
    checked = Heard(bridge.gradcheck(leaf))
    descended = Heard(bridge.descent(action="step", rate=0.1, steps=1))
    wait_all(qtbot, checked, descended)
    (check,) = checked.answers
    assert isinstance(check, GradCheck) and check.agree and check.autograd == [2.0, 4.0]
    (answer,) = descended.answers
    assert answer.report.losses == pytest.approx([5.0, 5.0 * 0.8**2])  # w -= 0.1 * 2w
    assert answer.report.new_graph and isinstance(answer.snapshot, Snapshot)


def test_cancel_reaches_every_asker_and_nothing_else_does(qtbot, bridge: WorkerBridge) -> None:
    start_long(qtbot, bridge)
    running, queued = Heard(bridge.run(LONG)), Heard(bridge.run("z = 2"))
    qtbot.wait(500)
    bridge.cancel()
    wait_all(qtbot, running, queued)
    assert running.cancelled == queued.cancelled == 1
    assert not (running.answers or queued.answers or running.failed or queued.failed)


def test_a_crash_is_one_message_to_the_asker_of_the_running_request(
    qtbot, bridge: WorkerBridge
) -> None:
    start_long(qtbot, bridge)
    running, queued = Heard(bridge.run(LONG)), Heard(bridge.run("z = 3\nz"))
    qtbot.wait(500)
    os.kill(bridge.client.pid, signal.SIGKILL)
    wait_all(qtbot, running, queued)
    (message,) = running.failed
    assert "stopped unexpectedly" in message and "signal 9" in message
    assert not (running.answers or running.cancelled)
    assert queued.outputs() == ["3"] and not queued.failed  # ran on the fresh worker


def test_a_dropped_request_says_nothing(qtbot, bridge: WorkerBridge) -> None:
    dropped_request = bridge.run("z = 4\nz")
    dropped = Heard(dropped_request)
    dropped_request.drop()
    kept = Heard(bridge.run("z = 5\nz"))
    wait_all(qtbot, kept)
    qtbot.wait(200)
    assert dropped.finished == 0 and not dropped.answers
    assert kept.outputs() == ["5"]


def test_a_job_the_worker_cannot_do_fails_in_words_or_in_its_snapshot(monkeypatch) -> None:
    server = Server(memory_mb=0)

    def broken(*args: object) -> None:
        raise KeyError("inside")

    monkeypatch.setattr(server.trainer, "handle", broken)
    monkeypatch.setattr("explorer.worker.serve.Session", broken)
    failed = server.handle(Request(1, Descend("step", rate=0.1)))
    assert failed.kind == "failed" and failed.value is None
    assert "the explorer itself failed" in failed.message and "KeyError" in failed.message
    run = server.handle(Request(2, RunScript("z = 1")))  # a run shows its problem in the editor
    assert run.kind == "answered" and "the explorer itself failed" in run.value.problem.message
    check = server.handle(Request(3, CheckGradient("leaf-0")))
    assert check.kind == "answered" and "run one first" in check.value.problem
