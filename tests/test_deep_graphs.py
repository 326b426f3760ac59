"""Deep autograd graphs are built, shown and freed without crashing, and their size is bounded."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from explorer.graph.release import consumers_first
from explorer.lang.limits import Limits
from explorer.runs.model_file import run_model_file
from explorer.runs.session import Session, run_script
from explorer.worker.client import WorkerClient
from explorer.worker.protocol import OpenModelFile, Reply, RunScript

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120.0  # seconds: the worker imports torch, and a deep graph takes a while to run

NORMALIZE = """\
x = torch.randn(4, requires_grad=True)
y = x
for i in range(10000):
    y = F.normalize(y, dim=0)
"""
NORMALIZE_LOSS = NORMALIZE + "loss = y.sum()\n"
RNN = """\
cell = nn.RNNCell(3, 3)
h = torch.zeros(1, 3)
x = torch.randn(1, 3)
for i in range(20000):
    h = cell(x, h)
"""
SUM = "x = torch.randn(3, requires_grad=True)\ny = sum([x] * 60000)\n"
SMALL = "x = torch.ones(2, requires_grad=True)\ny = (x * 3).sum()\n"
TOO_MANY_NODES = "the graph has more than 50,000 nodes"
TOO_MANY_OPS = "more than 25,000 operations"


def _python(code: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """code run in a child Python: a crash there fails a test instead of killing pytest."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _export(tmp_path: Path, script: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    source, out = tmp_path / "deep.py", tmp_path / "out.json"
    source.write_text(script)
    done = subprocess.run(
        [sys.executable, "main.py", "export", str(source), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, out


# -- the command line, at the default limits ----------------------------------------------------


def test_a_10000_step_normalize_loop_exports_and_exits_cleanly(tmp_path: Path) -> None:
    done, out = _export(tmp_path, NORMALIZE)
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text())
    assert len(exported["graph"]["nodes"]) == 4 * 10000 + 1


@pytest.mark.parametrize(
    ("script", "message"),
    [(RNN, TOO_MANY_NODES), (SUM, TOO_MANY_OPS)],
    ids=["rnn-cell-20000-steps", "sum-of-60000"],
)
def test_graphs_past_the_limits_are_refused_with_a_message(
    tmp_path: Path, script: str, message: str
) -> None:
    done, out = _export(tmp_path, script)
    assert done.returncode == 1, (done.returncode, done.stderr)  # not -11: no segfault
    assert message in done.stderr
    # a problem of a line names it; one of the whole graph names the file alone
    place = str(tmp_path / "deep.py") + (
        ": error:" if message == TOO_MANY_NODES else ":2:5: error:"
    )
    assert done.stderr.startswith(place), done.stderr
    assert not out.exists()


# -- past the default limits: deep graphs are still freed without recursion ----------------------

_FREE_DEEP = """\
from explorer.lang.limits import Limits
from explorer.runs.session import Session
limits = Limits(max_graph_ops=100_000, max_graph_nodes=300_000, seconds=600)
for script in {scripts!r}:
    session = Session(script, limits)
    snapshot = session.run(layout=False)
    assert snapshot.problem is None, snapshot.problem
    print(snapshot.graph.number_of_nodes(), flush=True)
    del session
    print("freed", flush=True)
"""


def test_graphs_of_a_hundred_thousand_nodes_deep_are_freed_without_a_crash() -> None:
    # The 999-layer Sequential called 70 times is refused by the node limit as the RNN cell is
    # (and takes half a minute to run): freeing it past the limits is the same walk as these.
    done = _python(_FREE_DEEP.format(scripts=[SUM]))
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    counts = [int(line) for line in done.stdout.split() if line.isdigit()]
    assert done.stdout.count("freed") == 1
    assert min(counts) > 60_000  # each deep enough to have crashed when freed by reference


def test_a_deep_graph_is_freed_after_a_backward_pass_and_a_rerun() -> None:
    code = textwrap.dedent(f"""\
        from explorer.runs.rerun import Script
        from explorer.runs.rerun import RerunMode
        from explorer.runs.session import Session
        session = Session({NORMALIZE_LOSS!r})
        session.run(layout=False)
        assert session.backward("loss").problem is None
        del session
        again = Script({NORMALIZE!r}).session(RerunMode({{}}))
        assert again.problem == "", again.problem
        del again
        fast = Script({NORMALIZE!r}).run(RerunMode())
        assert fast.problem == "", fast.problem
        del fast
        print("freed", flush=True)
    """)
    done = _python(code)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "freed" in done.stdout


# -- the worker: a deep run, then the next run is answered as usual ------------------------------


def _answer(replies: queue.Queue[Reply], request_id: int) -> Reply:
    reply = replies.get(timeout=WAIT)
    assert reply.id == request_id, reply
    assert reply.kind == "answered", reply
    return reply


def test_the_worker_answers_the_run_after_a_deep_one(tmp_path: Path) -> None:
    too_big = tmp_path / "deep_model.py"
    too_big.write_text(_DEEP_MODEL)
    replies: queue.Queue[Reply] = queue.Queue()
    client = WorkerClient()
    client.start()
    try:
        deep = _answer(replies, client.submit(RunScript(NORMALIZE), replies.put))
        assert deep.value.problem is None
        assert deep.value.graph.number_of_nodes() == 40_001
        job = OpenModelFile(str(too_big), _DEEP_MODEL)
        model = _answer(replies, client.submit(job, replies.put))
        assert TOO_MANY_NODES in model.value.problem.message
        assert model.value.graph.number_of_nodes() == 0  # nothing of it is sent
        small = _answer(replies, client.submit(RunScript(SMALL), replies.put))
        assert small.value.problem is None
        assert small.value.graph.number_of_nodes() == 3
    finally:
        client.stop()


# -- the node limit where the graph is walked ---------------------------------------------------

_DEEP_MODEL = """\
import torch
from torch import nn


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(3, 3)

    def forward(self, x):
        h = torch.zeros(1, 3)
        for _ in range(20000):
            h = self.cell(x, h)
        return h


model = Deep()
example_input = torch.randn(1, 3)
"""


def test_a_model_file_past_the_node_limit_is_refused_before_it_is_described(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep_model.py"
    path.write_text(_DEEP_MODEL)
    session = run_model_file(path)
    snapshot = session.snapshot(layout=False)
    assert snapshot.problem is not None
    assert snapshot.problem.message.startswith(TOO_MANY_NODES)
    assert snapshot.graph.number_of_nodes() == 0
    # The walk stops at the limit: no more nodes were described than it allows.
    assert session.recorder.capture.graph.number_of_nodes() == 0


def test_the_node_limit_counts_ops_and_leaves() -> None:
    script = "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(9):\n    y = y * 2\n"
    assert run_script(script, Limits(max_graph_nodes=10)).problem is None  # 9 ops, 1 leaf
    refused = run_script(script, Limits(max_graph_nodes=9))
    assert refused.problem is not None
    assert refused.problem.message.startswith("the graph has more than 9 nodes;")
    assert refused.graph.number_of_nodes() == 0


def test_a_backward_past_the_node_limit_is_an_error_at_its_line() -> None:
    script = (
        "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(20):\n    y = y * 2\n"
        "y.backward()\n"
    )
    snapshot = run_script(script, Limits(max_graph_nodes=10))
    assert snapshot.problem is not None
    assert snapshot.problem.line == 5
    assert "the graph has more than 10 nodes" in snapshot.problem.message


def test_a_backward_on_request_past_the_node_limit_is_a_problem() -> None:
    session = Session(
        "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(20):\n    y = y * 2\n",
        Limits(max_graph_nodes=10),
    )
    session.execute()
    added = session.backward_on_request("y")
    assert added.snapshot is not None  # the graph on screen is replaced: nothing of it is sent
    assert added.snapshot.problem is not None
    assert "the graph has more than 10 nodes" in added.snapshot.problem.message
    assert added.snapshot.graph.number_of_nodes() == 0


# -- builtins that add tensors count the graph ops they make ------------------------------------


def test_sum_of_a_long_list_is_refused_before_it_adds() -> None:
    started = time.perf_counter()
    snapshot = run_script("x = torch.randn(3, requires_grad=True)\ny = sum([x] * 600000)\n")
    assert snapshot.problem is not None
    assert TOO_MANY_OPS in snapshot.problem.message
    assert snapshot.problem.line == 2
    assert "y" not in {name for _, name in snapshot.graph.nodes(data="name")}
    assert time.perf_counter() - started < 30  # 600,000 additions were never made


def test_sum_counts_each_addition_once_a_side_needs_gradients() -> None:
    at_limit = "x = torch.randn(3, requires_grad=True)\ny = sum([x] * 25000)\n"
    assert run_script(at_limit).problem is None
    over = run_script("x = torch.randn(3, requires_grad=True)\ny = sum([x] * 25001)\n")
    assert over.problem is not None and TOO_MANY_OPS in over.problem.message
    start = "x = torch.randn(3, requires_grad=True)\ny = sum([1.0] * 25001, x)\n"
    assert TOO_MANY_OPS in run_script(start).problem.message
    rows = "x = torch.randn(25000, requires_grad=True)\ny = sum(x)\n"
    assert TOO_MANY_OPS in run_script(rows).problem.message
    plain = "x = torch.randn(3)\ny = sum([x] * 60000)\n"  # no gradients: no graph at all
    assert run_script(plain).problem is None


# -- the order a graph is let go in --------------------------------------------------------------


def test_consumers_come_before_every_node_they_reach() -> None:
    x = torch.ones(2, requires_grad=True)
    a = x * 2
    b = a.exp() + a  # a diamond: a reached twice
    order = consumers_first([b.grad_fn])
    place = {node: index for index, node in enumerate(order)}
    assert len(order) == 4  # add, exp, mul and accumulate_grad: the diamond's mul once
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                assert place[node] < place[child]
