"""Running a script's text through the app and as plain Python, for tests that compare them."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.runs.session import run_script


def python_prints(code: str) -> list[str]:
    """What code prints as plain Python, one entry per print, over the names scripts start with."""
    printed: list[str] = []

    def print_(*args: Any, sep: str = " ", end: str = "\n") -> None:
        text = sep.join(str(a) for a in args) + end
        printed.append(text[:-1] if text.endswith("\n") else text)

    namespace = {"torch": torch, "nn": nn, "F": F, "math": math, "print": print_}
    exec(compile(code, "<script>", "exec"), namespace)  # trusted: the test's own code
    return printed


def script_prints(code: str, limits: Limits | None = None) -> list[str]:
    """What the app shows for code, one entry per output; the run must succeed."""
    snapshot = run_script(code, limits)
    assert snapshot.problem is None, snapshot.problem
    return [output.text for output in snapshot.outputs]


def python_lines(code: str) -> list[str]:
    """python_prints, as lines (a print with end=" " joins the next)."""
    return "\n".join(python_prints(code)).splitlines()


def script_lines(code: str) -> list[str]:
    return "\n".join(script_prints(code)).splitlines()


def interpreter_of(code: str, limits: Limits | None = None) -> Interpreter:
    """The interpreter after running code, for tests that read its names and budget."""
    limits = limits or Limits()
    interpreter = Interpreter(code, limits)
    interpreter.run(parse(code, limits))
    return interpreter


def problem_of(code: str, limits: Limits | None = None) -> str:
    """The message code is refused with; the run must be refused."""
    snapshot = run_script(code, limits)
    assert snapshot.problem is not None, "the script was not refused"
    return snapshot.problem.message
