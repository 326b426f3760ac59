"""Binding values in scripts: assignment targets (names, unpacking, attributes, items) and del."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

import torch

from explorer.lang import calls, functions
from explorer.lang.builtins import bounded
from explorer.lang.classes import get_attribute, set_attribute
from explorer.lang.containers import check_key
from explorer.lang.errors import ScriptError
from explorer.lang.expressions import item, name
from explorer.lang.operators import INPLACE, name_of, operate

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


def assign(interpreter: Interpreter, statement: ast.Assign) -> None:
    value = interpreter.evaluate(statement.value)
    for target in statement.targets:
        store(interpreter, target, value)


def annotated_assign(interpreter: Interpreter, statement: ast.AnnAssign) -> None:
    """x: int = 3 binds x as x = 3 does; the annotation is never evaluated, and
    x: int alone binds nothing, as in Python."""
    if statement.value is not None:
        store(interpreter, statement.target, interpreter.evaluate(statement.value))


def bind_name(interpreter: Interpreter, name: str, value: Any) -> None:
    """name = value where the script runs now: its locals, or a name it declared global."""
    functions.names_for_store(interpreter, name)[name] = value
    if interpreter.scope is None:  # the graph is named after the script's own top-level names
        interpreter.observer.bound(name, value)


def store(interpreter: Interpreter, target: ast.expr, value: Any) -> None:
    try:
        _store_into(interpreter, target, value)
    except ScriptError as error:
        raise interpreter.locate(error, target) from None


def _store_into(interpreter: Interpreter, target: ast.expr, value: Any) -> None:
    if isinstance(target, ast.Name):
        bind_name(interpreter, target.id, value)
    elif isinstance(target, ast.Tuple | ast.List):
        items = (
            list(bounded(interpreter.budget, value))
            if not isinstance(value, list | tuple)
            else value
        )
        if len(items) != len(target.elts):
            raise ScriptError(
                f"cannot unpack {len(items)} values into {len(target.elts)} names", kind=ValueError
            )
        for element, one in zip(target.elts, items, strict=True):
            store(interpreter, element, one)
    elif isinstance(target, ast.Attribute):
        set_attribute(interpreter.evaluate(target.value), target.attr, value)
    elif isinstance(target, ast.Subscript):
        container = interpreter.evaluate(target.value)
        _set_item(interpreter, container, interpreter.evaluate(target.slice), value)
    else:
        raise ScriptError("this cannot be assigned to")


def _set_item(interpreter: Interpreter, container: Any, index: Any, value: Any) -> None:
    if isinstance(container, torch.Tensor):
        setter = container.__setitem__
        calls.call_torch(interpreter.budget, "__setitem__", setter, (index, value), {})
    elif isinstance(container, list) and isinstance(index, int):
        container[index] = value
    elif isinstance(container, dict):
        if check_key(index) not in container:
            interpreter.budget.check_items(len(container) + 1)
            interpreter.budget.charge_items(1)
        container[index] = value
    else:
        raise ScriptError(f"{type(container).__name__} items cannot be assigned")


def aug_assign(interpreter: Interpreter, statement: ast.AugAssign) -> None:
    """x op= v: the target's parts are evaluated once, as Python does."""
    target = statement.target
    if isinstance(target, ast.Name):
        current = name(interpreter, target)
        result = _combine(interpreter, current, statement)
        store(interpreter, target, result)
    elif isinstance(target, ast.Subscript):
        container = interpreter.evaluate(target.value)
        index = interpreter.evaluate(target.slice)
        current = item(interpreter, container, index)
        result = _combine(interpreter, current, statement)
        try:
            _set_item(interpreter, container, index, result)
        except ScriptError as error:
            raise interpreter.locate(error, target) from None
    elif isinstance(target, ast.Attribute):
        owner = interpreter.evaluate(target.value)
        current = get_attribute(owner, target.attr)
        result = _combine(interpreter, current, statement)
        try:
            set_attribute(owner, target.attr, result)
        except ScriptError as error:
            raise interpreter.locate(error, target) from None
    else:
        raise ScriptError("this cannot be assigned to")


def _combine(interpreter: Interpreter, current: Any, statement: ast.AugAssign) -> Any:
    """The target's current value op the statement's value, evaluated after the target."""
    kind = type(statement.op)
    value = interpreter.evaluate(statement.value)
    names = (name_of(statement.target), name_of(statement.value))
    return operate(interpreter, INPLACE[kind], current, value, kind, names)


def delete(interpreter: Interpreter, statement: ast.Delete) -> None:
    for target in statement.targets:
        if isinstance(target, ast.Subscript):
            _delete_item(interpreter, target)
            continue
        if not isinstance(target, ast.Name):
            raise ScriptError("del works on names, and on items of lists and dicts")
        names = functions.names_for_store(interpreter, target.id)
        if target.id in ("torch", "nn", "F", "math") or target.id not in names:
            name(interpreter, target)  # an unknown name gets its own message first
            raise ScriptError(f"del works only on names the script made, not {target.id}")
        del names[target.id]


def _delete_item(interpreter: Interpreter, target: ast.Subscript) -> None:
    """del xs[i], del xs[a:b] and del d[key], of the script's own lists and dicts."""
    container = interpreter.evaluate(target.value)
    index = interpreter.evaluate(target.slice)
    if isinstance(container, list) and isinstance(index, int | slice):
        del container[index]
    elif isinstance(container, dict):
        del container[check_key(index)]
    else:
        error = ScriptError(f"items of {type(container).__name__} cannot be deleted")
        raise interpreter.locate(error, target)
