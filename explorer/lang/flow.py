"""while loops, try/except/else/finally and raise: control flow a script may use freely."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from explorer.lang.builtins import Builtin
from explorer.lang.errors import EXCEPTIONS, Caught, ScriptError, caught
from explorer.lang.expressions import truth
from explorer.lang.functions import Return
from explorer.lang.statements import Break, Continue

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


_SIGNALS = (Break, Continue, Return)  # leave a try through its finally


def while_loop(interpreter: Interpreter, statement: ast.While) -> None:
    budget = interpreter.budget
    while True:
        budget.tick()
        if not truth(interpreter, statement.test):
            interpreter.block(statement.orelse)
            return
        budget.iterate()
        interpreter.looping += 1
        try:
            interpreter.block(statement.body)
        except Break:
            return
        except Continue:
            continue
        finally:
            interpreter.looping -= 1


def try_statement(interpreter: Interpreter, statement: ast.Try) -> None:
    """As Python runs try, over the errors the script may catch. A limit reached inside is
    not one of them, and ends the run without running finally: it would only reach it again."""
    try:
        interpreter.block(statement.body)
    except ScriptError as error:
        if not error.catchable:
            raise
        try:
            handled = _handle(interpreter, statement.handlers, error)
        except (ScriptError, *_SIGNALS) as raised:
            if isinstance(raised, ScriptError) and not raised.catchable:
                raise
            interpreter.block(statement.finalbody)
            raise
        if not handled:
            interpreter.block(statement.finalbody)
            raise
    except _SIGNALS:
        interpreter.block(statement.finalbody)
        raise
    else:
        _else_then_finally(interpreter, statement)
        return
    interpreter.block(statement.finalbody)


def _else_then_finally(interpreter: Interpreter, statement: ast.Try) -> None:
    try:
        interpreter.block(statement.orelse)
    except (ScriptError, *_SIGNALS) as raised:
        if isinstance(raised, ScriptError) and not raised.catchable:
            raise
        interpreter.block(statement.finalbody)
        raise
    interpreter.block(statement.finalbody)


def _handle(
    interpreter: Interpreter, handlers: list[ast.ExceptHandler], error: ScriptError
) -> bool:
    """Run the first handler that matches error; False when none does."""
    for handler in handlers:
        if handler.type is not None:
            kinds = _kinds(interpreter, handler.type)
            if not issubclass(error.kind, kinds):
                continue
        if handler.name:
            interpreter.env[handler.name] = caught(error.kind, error.detail)
        interpreter.handling.append(error)
        try:
            interpreter.block(handler.body)
        finally:
            interpreter.handling.pop()
            if handler.name:
                interpreter.env.pop(handler.name, None)  # as Python 3 unbinds it
        return True
    return False


def _kinds(interpreter: Interpreter, node: ast.expr) -> tuple[type[Exception], ...]:
    value = interpreter.evaluate(node)
    parts = value if isinstance(value, tuple) else (value,)
    kinds = tuple(exception_class(part) for part in parts)
    if not kinds:
        raise ScriptError("except needs an error class, such as except ValueError:")
    return kinds


def exception_class(value: Any) -> type[Exception]:
    """The Python class a script's ValueError (a builtin of the language) stands for."""
    if isinstance(value, Builtin) and value.name in EXCEPTIONS:
        return EXCEPTIONS[value.name]
    raise ScriptError(
        "except and raise take the name of a kind of error",
        hint="such as except ValueError as e:, or except Exception: for any error",
    )


def raise_statement(interpreter: Interpreter, statement: ast.Raise) -> None:
    if statement.exc is None:
        if not interpreter.handling:
            raise ScriptError("raise with nothing after it works only inside except")
        raise interpreter.handling[-1]
    value = interpreter.evaluate(statement.exc)
    if isinstance(value, Caught):
        kind, text = value.kind, str(value)
    else:
        kind, text = exception_class(value), ""
    message = f"{kind.__name__}: {text}" if text else kind.__name__
    raise ScriptError(message, kind=kind, detail=text)
