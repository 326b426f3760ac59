"""The gradient-descent notes' cells, with the outputs the notes print."""

from __future__ import annotations

import numpy as np

from explorer.runs.session import run_script
from tests.helpers import run_ok, texts, values

FULL_INT = "x = torch.full((2,3), 4, requires_grad=True)\nx\n"
FULL = "x = torch.full((2,3), 4., requires_grad=True)\n"


def test_integer_fill_is_refused_with_a_float_hint() -> None:
    problem = run_script(FULL_INT).problem
    assert problem is not None
    assert problem.line == 1 and problem.column == 5
    assert "integer" in problem.message
    assert "4.0" in problem.hint
    assert problem.text == "x = torch.full((2,3), 4, requires_grad=True)"


def test_full_shows_fours_requiring_grad() -> None:
    snapshot = run_ok(FULL + "x\n")
    assert texts(snapshot) == ["tensor([[4., 4., 4.],\n        [4., 4., 4.]], requires_grad=True)"]


def test_y_is_eleven_with_add_backward() -> None:
    snapshot = run_ok(FULL + "y = 2*x+3\ny\n")
    assert texts(snapshot) == [
        "tensor([[11., 11., 11.],\n        [11., 11., 11.]], grad_fn=<AddBackward0>)"
    ]


def test_square_formula_is_thirty_five() -> None:
    snapshot = run_ok(FULL + "y = (2*x**2+3)\ny\n")
    assert texts(snapshot) == [
        "tensor([[35., 35., 35.],\n        [35., 35., 35.]], grad_fn=<AddBackward0>)"
    ]


def test_backward_with_ones_gives_sixteen() -> None:
    script = (
        FULL + "y = (2*x**2+3)\nx.requires_grad_(True)\ny.backward(torch.ones_like(x))\nx.grad\n"
    )
    snapshot = run_ok(script)
    assert texts(snapshot)[-1] == "tensor([[16., 16., 16.],\n        [16., 16., 16.]])"
    np.testing.assert_array_equal(values(snapshot.grads["x"]), np.full((2, 3), 16.0))
    (only_pass,) = snapshot.passes
    ops = [snapshot.graph.nodes[s.node]["op"] for s in only_pass.steps]
    assert ops == ["AddBackward0", "MulBackward0", "PowBackward0", "AccumulateGrad"]
    leaf_step = only_pass.steps[-1]
    assert leaf_step.grad_before is None
    np.testing.assert_array_equal(values(leaf_step.grad_after), np.full((2, 3), 16.0))


def test_requires_grad_off_transcript() -> None:
    transcript = (
        FULL
        + ">> x.requires_grad\nTrue\n"
        + ">> x.requires_grad_(False) # turning of gradient\n"
        + ">> x.requires_grad\nFalse\n"
    )
    snapshot = run_ok(transcript)
    shown = texts(snapshot)
    assert shown[0] == "True"
    assert shown[-1] == "False"


def test_no_grad_transcript_with_unindented_body() -> None:
    transcript = (
        ">> x = torch.full((2,3), 4.,requires_grad=True)\n"
        ">> x\n"
        "tensor([[4., 4., 4.],\n"
        "[4., 4., 4.]], requires_grad=True)\n"
        ">> x.requires_grad\n"
        "True\n"
        ">> with torch.no_grad():\n"
        ".. print((x**5+3).requires_grad)\n"
        "False\n"
    )
    snapshot = run_ok(transcript)
    assert texts(snapshot) == [
        "tensor([[4., 4., 4.],\n        [4., 4., 4.]], requires_grad=True)",
        "True",
        "False",
    ]
    assert [o.line for o in snapshot.outputs] == [2, 5, 8]


def test_transcript_error_points_at_the_pasted_column() -> None:
    problem = run_script(">> x = torch.full((2,3), 4,requires_grad=True)\n").problem
    assert problem is not None
    assert problem.line == 1 and problem.column == 8
    assert problem.text.startswith(">> x = torch.full")
