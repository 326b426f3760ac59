"""Every message a script can get reads as PyTorch's or ours, never the interpreter's internals.

Each case below once showed an exception class, a dunder method, an internal type of the
explorer or a C++ type; each must now be one plain line that still names the place.
"""

from __future__ import annotations

import re

import pytest

from explorer.lang.hints import explain_python_error
from explorer.runs.session import run_script

# Words that belong to Python's or the explorer's insides, not to a script's author.
INTERNAL = re.compile(
    r"__\w+__|\w+Error\b|Namespace|std::|aten::|backend|Traceback|\bFunction\b|Builtin"
)

CASES = {
    "integer division by zero": "a = torch.tensor(1) // 0",
    "integer remainder by zero": "a = torch.tensor([1, 2]) % 0",
    "in over a module": "a = 1 in torch",
    "format spec on a tensor": "x = torch.ones(3)\nprint(f'{x:.2f}')",
    "round of a tensor": "a = round(torch.ones(2))",
    "round of a module": "a = round(nn.Linear(2, 2))",
    "view of a sparse gradient": (
        "e = nn.Embedding(10, 3, sparse=True)\n"
        "e(torch.tensor([1])).sum().backward()\n"
        "g = e.weight.grad\n"
        "h = g.view(30)"
    ),
}


@pytest.mark.parametrize("script", CASES.values(), ids=CASES.keys())
def test_message_is_in_plain_words(script: str) -> None:
    problem = run_script(script).problem
    assert problem is not None
    assert problem.line == script.count("\n") + 1
    assert problem.message and "\n" not in problem.message
    assert not INTERNAL.search(problem.one_line()), problem.one_line()


def test_python_keeps_its_own_plain_words() -> None:
    """Where Python's message is already plain it stays: it says more than ours would."""
    problem = run_script("a = 0.0 ** -1").problem
    assert problem is not None and problem.message == "0.0 cannot be raised to a negative power"


def test_torch_integer_division_is_named() -> None:
    problem = run_script("a = torch.tensor(1) // 0").problem
    assert problem is not None and problem.message == "integer division by zero"


def test_format_on_one_number_still_works() -> None:
    snapshot = run_script("x = torch.tensor(2.0)\nprint(f'{x:.2f}')")
    assert snapshot.problem is None
    assert [o.text for o in snapshot.outputs] == ["2.00"]


@pytest.mark.parametrize(
    "error",
    [RuntimeError("std::bad_alloc"), RuntimeError("DefaultCPUAllocator: can't allocate memory")],
)
def test_allocation_failures_read_as_memory(error: Exception) -> None:
    message, hint = explain_python_error(error)
    assert message == "the script ran out of memory" and hint


def test_iterating_a_module_names_it_as_a_module() -> None:
    problem = run_script("for a in torch:\n    pass").problem
    assert problem is not None and problem.message.startswith("a module cannot be iterated")


def test_an_answer_that_cannot_be_sent_is_one_plain_line(capsys) -> None:
    import io

    from explorer.data.snapshot import Snapshot
    from explorer.worker.protocol import Reply, Request, RunScript, read_frame
    from explorer.worker.serve import Server

    request = Request(1, RunScript("x = 1"))
    unsendable = Snapshot()
    unsendable.outputs = [lambda: None]  # not plain data: pickling it fails
    frame = Server(0).encode(request, Reply(1, "answered", unsendable))
    reply = read_frame(io.BytesIO(frame))
    assert reply.kind == "answered"
    assert (
        reply.value.problem.message
        == "the explorer itself failed to send this answer to the window"
    )
    assert "Traceback" in capsys.readouterr().err  # the details stay in the terminal
