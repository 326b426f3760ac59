"""The one error type a script can raise, carrying a Problem (line, column, message, hint)."""

from __future__ import annotations

import ast

from explorer.data.snapshot import Problem


class ScriptError(Exception):
    """A mistake in a script, or a limit it reached: shown to the user, never a traceback.

    kind is the Python exception it stands for, which a script's `except` matches against;
    detail is what `str(e)` gives a script that caught it.
    """

    catchable = True

    def __init__(
        self,
        message: str,
        hint: str = "",
        node: ast.AST | None = None,
        kind: type[Exception] = Exception,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = Problem(message=message, hint=hint)
        self.node = node
        self.kind = kind
        self.detail = message if detail is None else detail

    def locate(self, line: int, column: int, text: str) -> ScriptError:
        """Fill in where the error happened, once: the innermost location wins."""
        if not self.problem.line:
            self.problem.line, self.problem.column, self.problem.text = line, column, text
        return self

    def __str__(self) -> str:
        return self.problem.one_line()


class LimitError(ScriptError):
    """A run reached one of its limits (time, memory, iterations, items): it stops, even
    inside a script's `try`, or a loop around the `try` could run on past the limit."""

    catchable = False


class Caught(str):
    """An error a script holds, from `except ... as e` or ValueError("..."): its text and
    nothing else, so no traceback, frame or class of the interpreter is within reach."""

    kind: type[Exception] = Exception

    def __repr__(self) -> str:
        return f"{self.kind.__name__}({str(self)!r})"


def caught(kind: type[Exception], text: str) -> Caught:
    value = Caught(text)
    value.kind = kind
    return value


# The exception classes a script may name in `except` and `raise`: what its errors stand for.
EXCEPTIONS: dict[str, type[Exception]] = {
    kind.__name__: kind
    for kind in (
        Exception, ArithmeticError, AssertionError, AttributeError, IndexError, KeyError,
        LookupError, NameError, NotImplementedError, OverflowError, RuntimeError, TypeError,
        ValueError, ZeroDivisionError,
    )
}  # fmt: skip


def kind_of(error: BaseException) -> type[Exception]:
    """The nearest class of error that a script can name: RuntimeError for torch's own."""
    for cls in type(error).__mro__:
        if EXCEPTIONS.get(cls.__name__) is cls:
            return cls
    return Exception
