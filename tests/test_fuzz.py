"""Fuzzing the script interpreter: whatever the text, a run ends in a Snapshot, never a raise.

Three sources of text: any text at all, text put together from script-like fragments, and
sequences of real statements in random order (also pasted as a REPL transcript). For every
text, run_script returns a Snapshot whose problem is None or has a non-empty message, and
whose JSON form has no NaN or infinity.
"""

from __future__ import annotations

import json
from random import Random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.data.snapshot import Problem, Snapshot
from explorer.runs.session import run_script

# Examples are drawn afresh on every run (no database, no fixed seed), so the texts tried add
# up over the suite's runs rather than within one; a few hundred a run keeps each property
# tried widely on every change, and every failing case found so far is pinned with @example.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # keep the working tree clean; a failure prints its example
)


def check_run(text: str) -> Snapshot:
    """The property every script shares, refused or not."""
    snapshot = run_script(text)
    assert isinstance(snapshot, Snapshot)
    problem = snapshot.problem
    if problem is not None:
        assert isinstance(problem, Problem)
        assert isinstance(problem.message, str) and problem.message.strip(), problem
    json.dumps(snapshot.to_dict(), allow_nan=False)
    return snapshot


# -- (a) any text ------------------------------------------------------------------------------


@settings(FUZZ, max_examples=600)
@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check_run(text)


@settings(FUZZ, max_examples=400)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_any_ascii_text(text: str) -> None:
    check_run(text)


# -- (b) script-like fragments -------------------------------------------------------------------

NAMES = ["x", "y", "z", "torch", "nn", "F", "math", "print", "range", "len", "list", "sum"]
DUNDERS = ["__class__", "__dict__", "__globals__", "__import__", "_C", "__builtins__"]
MEMBERS = [
    "ones", "zeros", "tensor", "randn", "arange", "sum", "mean", "backward", "grad", "grad_fn",
    "requires_grad", "shape", "Linear", "relu", "exp", "no_grad", "next_functions", "item",
    "tolist", "expand", "view", "cat", "stack", "append", "data", "load", "save",
]  # fmt: skip
NUMBERS = ["0", "1", "2", "3", "10", "0.5", "1e3", "-1", "True", "False", "None", "..."]
OPERATORS = [
    "+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "~", "==", "!=",
    "<", ">", "<=", ">=", " and ", " or ", " not ", " is ", " in ", "=", "+=", "-=", ":=",
]  # fmt: skip
PUNCTUATION = [".", ",", "(", ")", "[", "]", "{", "}", ":", ";", "*", "**", "\\", "#", "@"]
LAYOUT = ["\n", "\n    ", "\n        ", " ", "    ", "\t", "\r\n", ">>> ", "... "]
KEYWORDS = [
    "for ", " in ", "range(", "with ", "import ", "from ", "as ", "lambda ", "def ", "class ",
    "if ", "else", "elif ", "while ", "del ", "pass", "break", "continue", "assert ", "return ",
    "yield ", "global ", "try", "except", "async ", "await ", "not ",
]  # fmt: skip
STRINGS = ['"a"', "'{0}'", 'f"{x}"', 'f"{x:>5}"', 'f"{x!r}"', '"%s"', "b'x'", '"""', "'"]
FRAGMENTS = NAMES + DUNDERS + MEMBERS + NUMBERS + OPERATORS + PUNCTUATION + LAYOUT
FRAGMENTS += KEYWORDS + STRINGS

# A member access is much more likely to mean something than a random token after a dot.
ACCESS = st.builds("{}.{}".format, st.sampled_from(NAMES), st.sampled_from(MEMBERS + DUNDERS))
TOKEN = st.one_of(st.sampled_from(FRAGMENTS), ACCESS)


@settings(FUZZ, max_examples=1000)
@given(st.lists(TOKEN, max_size=40).map("".join))
@example("break")  # outside a loop: must be refused, not escape as the interpreter's _Break
@example("continue")
@example("if True:\n    break")
def test_script_like_fragments(text: str) -> None:
    check_run(text)


@settings(FUZZ, max_examples=500)
@given(st.lists(TOKEN, max_size=30).map(" ".join))
def test_script_like_tokens_with_spaces(text: str) -> None:
    check_run(text)


# -- (c) real statements in random order ---------------------------------------------------------

STATEMENTS = [
    "x = torch.ones(2, requires_grad=True)",
    "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)",
    "w = torch.randn(3, 2, requires_grad=True)",
    "y = x * 3",
    "y = x.exp().sum()",
    "y = (x ** 2).mean()",
    "z = y + 1",
    "z = torch.matmul(x, w)",
    "y.sum().backward()",
    "y.backward()",
    "y.backward(retain_graph=True)",
    "z.sum().backward()",
    "x.grad",
    "x.grad = None",
    "x.grad.zero_()",
    "x.requires_grad_(False)",
    "x = x.detach()",
    "print(x, y, sep=', ')",
    "print(x.grad)",
    "y.grad_fn",
    "y.grad_fn.next_functions",
    "m = nn.Linear(2, 3)",
    "m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))",
    "y = m(x)",
    "loss = F.mse_loss(y, torch.zeros_like(y))",
    "loss.backward()",
    "m.zero_grad()",
    "x[0] = 5.0",
    "x += 1",
    "l = []",
    "l.append(x)",
    "t = torch.stack(l)",
    "s = f'{x.sum().item():.3f}'",
    "x.shape",
    "len(x)",
    "del y",
    "import math",
    "import torch.nn.functional as F",
    "from torch import nn",
    "assert x.shape[0] == 2",
    "pass",
    "x = torch.full((2,), math.inf * 0)",
    "x = torch.tensor([math.inf, -math.inf, 1.0], requires_grad=True)",
    "y = x / 0",
    "x = x * (math.inf - math.inf)",
    "v = x[0]",
    "y = x.t()",
    "y = x.view(-1)",
    "y = x.expand(3, 2)",
    "y = torch.cat([x, x])",
    "y = torch.where(x > 0, x, -x)",
    "y = x.max(0).values",
    "i = torch.tensor([0, 1])",
    "y = x[i]",
    "x.data = torch.zeros(2)",
    "x.requires_grad = True",
    "x = x.double()",
    "y.retain_grad()",
    "z = y.detach().requires_grad_()",
    "x = nn.Parameter(torch.randn(2))",
    "g = y.grad_fn.next_functions[0][0]",
    "g.name()",
    "g.variable",
    "y.backward(gradient=torch.ones(2))",
    "y.backward(create_graph=True)",
    "x.grad.sum().backward()",
    "m.eval()",
    "m.weight.grad",
    "e = nn.Embedding(4, 2)",
    "y = e(torch.tensor([0, 3]))",
    "y = F.cross_entropy(torch.randn(2, 3, requires_grad=True), torch.tensor([0, 2]))",
    "torch.set_grad_enabled(False)",
    "break",
    "continue",
]
HEADERS = [
    "with torch.no_grad():",
    "with torch.enable_grad():",
    "with torch.set_grad_enabled(False):",
    "for i in range(3):",
    "for v in x:",
    "if x.sum() > 0:",
    "if True:",
    "else:",
]


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """Statements, some under a block header, each line indented for its depth."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 8 if depth == 0 else 3))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(HEADERS)))
            lines.extend("    " + line for line in draw(statements(depth + 1)) or ["pass"])
        else:
            lines.append(draw(st.sampled_from(STATEMENTS)))
    return lines


@settings(FUZZ, max_examples=500)
@given(statements())
# A view of a leaf that requires grad, made under no_grad: torch's AssertionError ("Expected
# gradient function to be set") must not escape run_script while the snapshot takes the graph.
@example(["x = torch.ones(2, requires_grad=True)", "with torch.no_grad():", "    v = x[0]"])
@example(["x = torch.ones(2, requires_grad=True)", "with torch.no_grad():", "    v = x.t()"])
@example(["with torch.no_grad():", "    continue"])
def test_statements_in_random_order(lines: list[str]) -> None:
    check_run("\n".join(lines))


@settings(FUZZ, max_examples=200)
@given(statements(), st.randoms(use_true_random=False))
def test_statements_pasted_as_transcript(lines: list[str], rng: Random) -> None:
    """The same statements as a REPL transcript: prompts, continuations, printed lines."""
    text = []
    for line in lines:
        prompt = "... " if line.startswith(" ") else ">>> "
        text.append(prompt + (line.lstrip() if rng.random() < 0.3 else line))
        if rng.random() < 0.2:
            text.append("tensor([1., 2.])")
    check_run("\n".join(text))


# -- a fixed case: values JSON has no words for -----------------------


def test_nan_and_infinity_values_have_a_json_form() -> None:
    snapshot = check_run(
        "x = torch.tensor([math.inf, -math.inf, 1.0], requires_grad=True)\n"
        "y = (x * (math.inf - math.inf)).sum()\ny.backward()"
    )
    assert snapshot.problem is None
    text = json.dumps(snapshot.to_dict(), allow_nan=False)
    assert "NaN" in text and "Infinity" in text
