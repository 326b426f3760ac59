"""The worker process answers runs and backward requests, and survives cancels, kills and caps."""

from __future__ import annotations

import io
import math
import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from explorer.data.snapshot import OPEN_COLLAPSED_ABOVE, Snapshot
from explorer.worker.client import WorkerClient
from explorer.worker.protocol import (
    Backward,
    Job,
    Reply,
    Request,
    RunScript,
    encode_frame,
    read_frame,
    write_frame,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="the worker's memory cap needs Linux"
)

WAIT = 60.0  # seconds; generous, as a slow CI machine imports torch slowly
NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\n"
    "y = 2*x**2+3\n"
    "y.backward(torch.ones_like(x))\n"
    "x.grad"
)
# Measured in the worker: this runs until the 60 s limit (100,000 small matmuls alone took
# 5 s), so a reply that comes sooner was not waited for.
LONG = "a = torch.randn(64, 64)\nfor i in range(100000):\n    b = a @ a @ a\n"
TENSOR_MB = 60  # torch.ones(15_000_000) in float32


class Replies:
    """Collects one asker's replies from the client's delivery thread for the test thread."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Reply] = queue.Queue()

    def put(self, reply: Reply) -> None:
        self.queue.put(reply)

    def ask(self, client: WorkerClient, job: Job) -> int:
        """Submit job with this asker's callback; the id its Reply will carry."""
        return client.submit(job, self.put)

    def run(self, client: WorkerClient, text: str) -> int:
        return self.ask(client, RunScript(text))

    def next(self, request_id: int) -> Reply:
        reply = self.queue.get(timeout=WAIT)
        assert reply.id == request_id, reply
        return reply

    def snapshot(self, request_id: int) -> Reply[Snapshot]:
        reply = self.next(request_id)
        assert reply.kind == "answered", reply
        assert reply.value is not None
        return reply


@pytest.fixture(scope="module")
def worker() -> Iterator[tuple[WorkerClient, Replies]]:
    replies = Replies()
    client = WorkerClient()
    client.start()
    yield client, replies
    client.stop()


def _run_ok(client: WorkerClient, replies: Replies, text: str) -> Reply[Snapshot]:
    reply = replies.snapshot(replies.run(client, text))
    assert reply.value.problem is None, reply.value.problem
    return reply


def _grad(reply: Reply[Snapshot], name: str) -> np.ndarray:
    summary = reply.value.grads[name]
    assert summary is not None and summary.values is not None
    return summary.values


def _wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"worker {pid} is still alive"
        time.sleep(0.05)


def test_frames_round_trip_and_a_cut_frame_is_end_of_file() -> None:
    stream = io.BytesIO()
    write_frame(stream, Request(3, Backward("y", gradient=[[1.0, 2.0]])))
    whole = stream.getvalue()
    assert read_frame(io.BytesIO(whole)) == Request(3, Backward("y", gradient=[[1.0, 2.0]]))
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(whole[:-1]))


def test_worker_output_on_stdout_cannot_corrupt_the_frames() -> None:
    code = (
        "import os\n"
        "from explorer.worker.__main__ import take_stdout_for_frames\n"
        "from explorer.worker.protocol import write_frame\n"
        "frames = take_stdout_for_frames()\n"
        "print('from print', flush=True)\n"
        "os.write(1, b'from a C library\\n')\n"
        "write_frame(frames, 'ready')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert read_frame(io.BytesIO(done.stdout)) == "ready"
    assert len(done.stdout) == len(encode_frame("ready"))
    assert b"from print" in done.stderr and b"from a C library" in done.stderr


def test_notes_example_runs_in_the_worker(worker: tuple[WorkerClient, Replies]) -> None:
    client, replies = worker
    reply = _run_ok(client, replies, NOTES)
    assert np.all(_grad(reply, "x") == 16)
    assert [o.text for o in reply.value.outputs] == [
        "tensor([[16., 16., 16.],\n        [16., 16., 16.]])"
    ]
    assert reply.seconds > 0
    assert not client.busy


def test_backward_on_request_after_a_run(worker: tuple[WorkerClient, Replies]) -> None:
    client, replies = worker
    _run_ok(client, replies, "x = torch.full((2,3), 4., requires_grad=True)\ny = 2*x**2+3")
    first = replies.snapshot(replies.ask(client, Backward("y")))
    assert first.value.problem is None
    assert np.all(_grad(first, "x") == 16)
    second = replies.snapshot(replies.ask(client, Backward("y", gradient=[[1, 1, 1], [2, 2, 2]])))
    assert second.value.problem is None
    assert _grad(second, "x").tolist() == [[32, 32, 32], [48, 48, 48]]
    # Only what the pass added comes back: the graph on screen is not sent again.
    (added,) = second.value.passes
    assert added.gradient is not None and added.gradient.values.tolist()[1] == [2, 2, 2]
    assert second.value.snapshot is None


def test_a_graph_that_opens_collapsed_comes_without_a_layout(
    worker: tuple[WorkerClient, Replies],
) -> None:
    client, replies = worker
    loop = "cell = nn.RNNCell(2, 2)\nh = torch.zeros(1, 2)\nfor i in range(400):\n    h = cell(h)\n"
    many = _run_ok(client, replies, loop + "loss = h.sum()")
    assert many.value.graph.number_of_nodes() > OPEN_COLLAPSED_ABOVE
    assert many.value.layout == {} and not many.value.laid_out()
    few = _run_ok(client, replies, "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()")
    assert few.value.laid_out()


def test_script_error_is_a_problem_not_a_crash(worker: tuple[WorkerClient, Replies]) -> None:
    client, replies = worker
    reply = replies.snapshot(replies.run(client, "x = torch.ones(2)\ny = x @ torch.ones(3)"))
    assert reply.value.problem is not None
    assert reply.value.problem.line == 2
    _run_ok(client, replies, "z = 1")


def test_cancel_kills_the_running_script_and_a_fresh_worker_takes_over(
    worker: tuple[WorkerClient, Replies],
) -> None:
    client, replies = worker
    _run_ok(client, replies, "z = 1")  # the worker is ready, so LONG really starts
    long_id, queued_id = replies.run(client, LONG), replies.run(client, "z = 2")
    time.sleep(0.5)
    old_pid = client.pid
    assert old_pid is not None and client.busy
    started = time.monotonic()
    client.cancel()
    assert replies.next(long_id) == Reply(long_id, "cancelled")
    assert replies.next(queued_id) == Reply(queued_id, "cancelled")
    _wait_until_gone(old_pid)
    print(f"cancel: replies and old worker gone in {time.monotonic() - started:.3f} s")
    assert not client.busy and client.pid not in (None, old_pid)
    nothing = replies.snapshot(replies.ask(client, Backward("y"))).value.problem  # a fresh worker
    assert nothing is not None and "no script" in nothing.message
    reply = _run_ok(client, replies, NOTES)
    assert np.all(_grad(reply, "x") == 16)


def test_worker_killed_from_outside_is_reported_and_replaced(
    worker: tuple[WorkerClient, Replies],
) -> None:
    client, replies = worker
    _run_ok(client, replies, "z = 1")
    long_id, queued_id = replies.run(client, LONG), replies.run(client, "z = 2\nz")
    time.sleep(0.5)
    old_pid = client.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    crashed = replies.next(long_id)
    assert crashed.kind == "crashed"
    assert "stopped unexpectedly" in crashed.message and "signal 9" in crashed.message
    queued = replies.snapshot(queued_id)  # it waited, and ran on the fresh worker
    assert [o.text for o in queued.value.outputs] == ["2"]
    assert client.pid not in (None, old_pid)


def _nothing_more(*askers: Replies) -> None:
    """No asker got a reply meant for another: each queue is empty once its own are taken."""
    time.sleep(0.2)  # the delivery thread has had its chance
    assert all(asker.queue.empty() for asker in askers)


def test_each_reply_reaches_only_the_one_who_asked(worker: tuple[WorkerClient, Replies]) -> None:
    client, _ = worker
    first, second = Replies(), Replies()
    one = first.run(client, "a = torch.ones(2) * 3\na")
    two = second.run(client, "b = torch.ones(3) * 5\nb")  # outstanding while the first runs
    assert [o.text for o in second.snapshot(two).value.outputs] == ["tensor([5., 5., 5.])"]
    assert [o.text for o in first.snapshot(one).value.outputs] == ["tensor([3., 3.])"]
    _nothing_more(first, second)


def test_cancel_reaches_every_asker(worker: tuple[WorkerClient, Replies]) -> None:
    client, replies = worker
    _run_ok(client, replies, "z = 1")  # the worker is ready, so LONG really starts
    running, queued = Replies(), Replies()
    long_id, queued_id = running.run(client, LONG), queued.run(client, "z = 2")
    time.sleep(0.5)
    client.cancel()
    assert running.next(long_id) == Reply(long_id, "cancelled")
    assert queued.next(queued_id) == Reply(queued_id, "cancelled")
    _nothing_more(running, queued, replies)


def test_a_crash_reaches_the_asker_of_the_running_request(
    worker: tuple[WorkerClient, Replies],
) -> None:
    client, replies = worker
    _run_ok(client, replies, "z = 1")
    running, queued = Replies(), Replies()
    long_id, queued_id = running.run(client, LONG), queued.run(client, "z = 3\nz")
    time.sleep(0.5)
    old_pid = client.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    crashed = running.next(long_id)
    assert crashed.kind == "crashed" and "stopped unexpectedly" in crashed.message
    answered = queued.snapshot(queued_id)  # its asker hears only of its own run, done afresh
    assert [o.text for o in answered.value.outputs] == ["3"]
    _nothing_more(running, queued, replies)


def test_script_over_the_memory_cap_gets_a_plain_problem() -> None:
    replies = Replies()
    client = WorkerClient()
    try:
        # Measure what this worker needs with torch's threads started and add room for about
        # five of the script's tensors, so the cap suits any machine's thread count.
        _run_ok(client, replies, "a = torch.ones(15_000_000) * 2")
        _run_ok(client, replies, "z = 1")
        cap = _virtual_mb(client.pid) + 5 * TENSOR_MB
        old_pid = client.pid
        client.set_memory_mb(cap)
        assert client.pid != old_pid  # idle, so replaced at once
        _run_ok(client, replies, "a = torch.ones(15_000_000) * 2")  # it starts and works
        too_much = "xs = []\nfor i in range(12):\n    xs.append(torch.ones(15_000_000))"
        problem = replies.snapshot(replies.run(client, too_much)).value.problem
        assert problem is not None
        assert f"more memory than the worker's cap ({cap:,} MB)" in problem.message
        assert "smaller tensors" in problem.hint and problem.line == 3
        reply = _run_ok(client, replies, NOTES)  # and it still works
        assert np.all(_grad(reply, "x") == 16)
    finally:
        client.stop()


def _virtual_mb(pid: int | None) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmSize"))
    return math.ceil(kb / 1024)


def test_worker_that_cannot_start_fails_requests_instead_of_looping() -> None:
    replies = Replies()
    client = WorkerClient(memory_mb=100)  # too small even to import torch
    try:
        first, second = replies.run(client, "z = 1"), replies.run(client, "z = 2")
        for request_id in (first, second):
            reply = replies.next(request_id)
            assert reply.kind == "crashed" and "could not start" in reply.message
        assert client.pid is None and not client.busy
    finally:
        client.stop()
    client.stop()  # stopping twice is fine


def test_client_imports_neither_torch_nor_qt() -> None:
    code = (
        "import sys\n"
        "import explorer.worker.client, explorer.worker.protocol\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
