"""What every run shares, whichever way it runs: the seed it draws from, the context it runs
inside, and the problem it ends in when the stack or memory runs out."""

from __future__ import annotations

import ast
import gc
import warnings
from pathlib import Path

import pytest
import torch

from explorer.data.snapshot import Problem
from explorer.lang import interpreter
from explorer.runs.model_file import ModelFileSession
from explorer.runs.rerun import RerunMode, Script
from explorer.runs.session import SEED, Session

DRAWS = "noise = torch.randn(5)\nw = torch.rand(2, 3)\nlayer = nn.Linear(3, 2)\n"
MODEL = """\
import torch
from torch import nn

noise = torch.randn(5)
w = torch.rand(2, 3)
model = nn.Linear(3, 2)
example_input = torch.randn(1, 3)
"""
# Line 2 is a `pass` that the tests below watch.
TEXT = "x = torch.ones(2)\npass\ny = x * 2\n"


def plain_draws() -> list[torch.Tensor]:
    torch.manual_seed(SEED)
    return [torch.randn(5), torch.rand(2, 3), torch.nn.Linear(3, 2).weight.detach()]


def test_a_script_its_reruns_and_a_model_file_draw_what_plain_torch_draws(tmp_path) -> None:
    expected = plain_draws()
    session = Session(DRAWS)
    session.execute()
    script = Script(DRAWS)
    fast = script.run(RerunMode()).env
    recorded = script.session(RerunMode()).env
    path = Path(tmp_path, "model.py")
    path.write_text(MODEL)
    model_file = ModelFileSession(path, MODEL)
    model_file.run()
    model_draws = [model_file.names[n] for n in ("noise", "w")] + [model_file.names["model"]]
    for names in (session.names, fast, recorded):
        drawn = [names["noise"], names["w"], names["layer"].weight.detach()]
        for got, want in zip(drawn, expected, strict=True):
            assert torch.equal(got, want)
    assert torch.equal(model_draws[0], expected[0]) and torch.equal(model_draws[1], expected[1])
    assert torch.equal(model_draws[2].weight.detach(), expected[2])


def test_every_run_has_grad_on_warnings_quiet_and_the_collector_paused() -> None:
    seen: dict[str, object] = {}

    def look(self: interpreter.Interpreter, statement: ast.Pass) -> None:
        seen["grad"] = torch.is_grad_enabled()
        seen["collector"] = gc.isenabled()
        warnings.warn("from inside the run", stacklevel=1)

    for run in (lambda: Session(TEXT).execute(), lambda: Script(TEXT).run(RerunMode())):
        seen.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setitem(interpreter._STATEMENTS, ast.Pass, look)
            with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run()
        assert seen == {"grad": True, "collector": False}
        assert caught == []
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RecursionError, "the script is nested too deeply"),
        (MemoryError, "the script ran out of memory"),
    ],
)
def test_running_out_of_stack_or_memory_is_a_problem_at_the_statement_running_then(
    monkeypatch, error: type[BaseException], message: str
) -> None:
    run = interpreter.Interpreter.run

    def run_then_fail(self: interpreter.Interpreter, tree: ast.Module) -> None:
        run(self, tree)
        raise error  # as if it struck in the last statement, line 3

    monkeypatch.setattr(interpreter.Interpreter, "run", run_then_fail)
    session = Session(TEXT)
    session.execute()
    assert session.problem == Problem(message, line=3, column=1, text="y = x * 2")
    # A pasted transcript keeps column 1 and the pasted text.
    transcript = Session(">>> x = torch.ones(2)\n>>> y = x * 2\n")
    transcript.execute()
    assert transcript.problem == Problem(message, line=2, column=1, text=">>> y = x * 2")
    # A re-run's fast way says no place; as a Session it says the line.
    assert Script(TEXT).run(RerunMode()).problem == message
    assert Script(TEXT).session(RerunMode()).problem == f"line 3, column 1: {message}"
