"""Every mistake a student makes most gets a hint: shapes that disagree, syntax, unknown names."""

from __future__ import annotations

import pytest

from explorer.data.snapshot import Problem
from explorer.runs.session import run_script

CASES = [
    # (script, words the message has, words the hint has)
    ("a = torch.ones(2, 3)\nb = torch.ones(2, 3)\nc = a @ b\n", "cannot be multiplied",
     "2×3 and 2×3 disagree (3 ≠ 2); transpose one of them"),
    ("a = torch.ones(2, 3)\nb = torch.ones(3, 4)\nc = b @ a\n", "cannot be multiplied",
     "swap them: b @ a"),
    ("layer = nn.Linear(4, 2)\ny = layer(torch.ones(3, 5))\n", "cannot be multiplied",
     "the layer takes 4 input features, and the input's last dimension is 5: make the layer "
     "nn.Linear(5, 2)"),
    ("a = torch.ones(2, 3)\nb = torch.ones(4, 3)\nc = a + b\n", "must match",
     "the shapes (2×3 and 4×3) disagree at dimension 0: 2 and 4"),
    ("x = torch.ones(6)\ny = x.view(2, 5)\n", "invalid for input of size 6",
     "2×5 does not hold 6 elements"),
    ("x = torch.ones(2, 3)\ny = x.sum(dim=2)\n", "Dimension out of range",
     "this tensor has 2 dimensions"),
    ("x = torch.ones(3)\ny = xx * 2\n", "name xx is not defined", "did you mean x?"),
    ("y = total * 2\n", "name total is not defined",
     "give it a value on a line above: total = ..."),
    ("x = 1\nif x = 3:\n    pass\n", "invalid syntax", "to compare, write =="),
    ("y = x.view(2 5)\n", "invalid syntax", "perhaps you forgot a comma?"),
    ("y = 3 +\n", "invalid syntax", "the line ends with '+'"),
    ("x = [1, 2,, 3]\n", "invalid syntax", "',' and ',' in a row"),
    ("for i in range(3)\n    print(i)\n", "expected ':'", "ends with ':'"),
    ("y = (1 + 2\n", "was never closed", "close it"),
    ("print 'hi'\n", "print needs parentheses", "write print(...)"),
    ("y = 2x\n", "invalid decimal literal", "2 * x, not 2x"),
]  # fmt: skip


def problem_of(script: str) -> Problem | None:
    return run_script(script).problem


@pytest.mark.parametrize(("script", "message", "hint"), CASES)
def test_a_mistake_gets_its_message_and_a_hint_that_says_how_to_fix_it(
    script: str, message: str, hint: str
) -> None:
    problem = problem_of(script)
    assert problem is not None
    assert message in problem.message
    assert hint in problem.hint, problem.hint


@pytest.mark.parametrize(("script", "message", "hint"), CASES)
def test_no_mistake_is_left_without_a_hint(script: str, message: str, hint: str) -> None:
    problem = problem_of(script)
    assert problem is not None and problem.hint and problem.line > 0
