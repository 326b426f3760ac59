"""Statements in scripts other than assignment: loops, conditions, grad modes, imports, asserts."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from explorer.lang.assignment import store
from explorer.lang.builtins import bounded
from explorer.lang.errors import ScriptError
from explorer.lang.expressions import truth
from explorer.lang.values import GRAD_MODES, NAMESPACES, get_attribute

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


class Break(Exception):
    """A script's break, on its way to the loop it ends."""


class Continue(Exception):
    """A script's continue, on its way to the loop it advances."""


def expr_statement(interpreter: Interpreter, statement: ast.Expr) -> None:
    value = interpreter.evaluate(statement.value)
    # As a notebook shows a value: a statement of the script's own top level, not one inside
    # a function or repeated by a loop (a loop's w.grad.zero_() would show a tensor each time).
    if value is not None and interpreter.scope is None and not interpreter.looping:
        interpreter.budget.check_nested(value, "this value")
        interpreter.printed(repr(value))


def loop_over(interpreter: Interpreter, node: ast.expr) -> Any:
    """What a for loop or a comprehension iterates over, its length checked against the run's
    iterations and items before the first one runs."""
    budget = interpreter.budget
    iterable = interpreter.evaluate(node)
    try:
        if isinstance(iterable, range):
            budget.check_loop_length(len(iterable))
        iterable = bounded(budget, iterable)
        budget.check_loop_length(len(iterable))
    except ScriptError as error:
        raise interpreter.locate(error, node) from None
    return iterable


def for_loop(interpreter: Interpreter, statement: ast.For) -> None:
    budget = interpreter.budget
    interpreter.looping += 1
    try:
        for item in loop_over(interpreter, statement.iter):
            budget.iterate()
            store(interpreter, statement.target, item)
            try:
                interpreter.block(statement.body)
            except Break:
                break
            except Continue:
                continue
        else:
            interpreter.looping -= 1
            interpreter.block(statement.orelse)  # no break: as a while loop's else
            interpreter.looping += 1
    finally:
        interpreter.looping -= 1


def if_statement(interpreter: Interpreter, statement: ast.If) -> None:
    chosen = statement.body if truth(interpreter, statement.test) else statement.orelse
    interpreter.block(chosen)


def with_statement(interpreter: Interpreter, statement: ast.With) -> None:
    managers = [interpreter.evaluate(item.context_expr) for item in statement.items]
    for manager in managers:
        if not isinstance(manager, GRAD_MODES):
            raise ScriptError(
                "with works only with torch.no_grad(), torch.enable_grad() and "
                "torch.set_grad_enabled(...) in explorer scripts"
            )
    entered = []
    try:
        for manager in managers:
            manager.__enter__()
            entered.append(manager)
        interpreter.block(statement.body)
    finally:
        for manager in reversed(entered):
            manager.__exit__(None, None, None)


def import_statement(interpreter: Interpreter, statement: ast.Import) -> None:
    for alias in statement.names:
        if alias.asname:
            interpreter.env[alias.asname] = NAMESPACES[alias.name]
        else:
            top = alias.name.split(".")[0]
            interpreter.env[top] = NAMESPACES[top]


def import_from(interpreter: Interpreter, statement: ast.ImportFrom) -> None:
    space = NAMESPACES[statement.module or ""]
    for alias in statement.names:
        interpreter.env[alias.asname or alias.name] = get_attribute(space, alias.name)


def pass_statement(interpreter: Interpreter, statement: ast.Pass) -> None:
    pass


def break_statement(interpreter: Interpreter, statement: ast.Break) -> None:
    raise Break


def continue_statement(interpreter: Interpreter, statement: ast.Continue) -> None:
    raise Continue


def assert_statement(interpreter: Interpreter, statement: ast.Assert) -> None:
    if not truth(interpreter, statement.test):
        detail = interpreter.evaluate(statement.msg) if statement.msg else ""
        message = f"assertion failed{': ' if detail else ''}{detail}"
        raise ScriptError(message, kind=AssertionError, detail=str(detail))
