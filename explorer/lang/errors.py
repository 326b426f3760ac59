"""The one error type a script can raise, carrying a Problem (line, column, message, hint)."""

from __future__ import annotations

import ast

from explorer.data.snapshot import Problem


class ScriptError(Exception):
    """A mistake in a script, or a limit it reached: shown to the user, never a traceback."""

    def __init__(self, message: str, hint: str = "", node: ast.AST | None = None) -> None:
        super().__init__(message)
        self.problem = Problem(message=message, hint=hint)
        self.node = node

    def locate(self, line: int, column: int, text: str) -> ScriptError:
        """Fill in where the error happened, once: the innermost location wins."""
        if not self.problem.line:
            self.problem.line, self.problem.column, self.problem.text = line, column, text
        return self

    def __str__(self) -> str:
        return self.problem.one_line()
