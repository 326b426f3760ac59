"""Expressions in scripts other than calls and arithmetic: names, items, containers, tests, text."""

from __future__ import annotations

import ast
import builtins
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from explorer.lang import batches, calls, classes, functions
from explorer.lang.builtins import bounded
from explorer.lang.containers import check_key, format_value
from explorer.lang.errors import ScriptError
from explorer.lang.hints import did_you_mean, explain_torch_error, script_error
from explorer.lang.operators import COMPARE, UNARY, check_broadcast
from explorer.lang.values import MATH, Namespace

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


def constant(interpreter: Interpreter, node: ast.Constant) -> Any:
    return node.value


def name(interpreter: Interpreter, node: ast.Name) -> Any:
    value = functions.lookup(interpreter, node.id)
    if value is not functions.MISSING:
        return value
    if node.id in interpreter.builtins:
        return interpreter.builtins[node.id]
    if node.id == "math":
        return MATH
    if hasattr(builtins, node.id):
        raise ScriptError(f"{node.id} is not available in explorer scripts")
    known = [*interpreter.env, *interpreter.globals, *interpreter.builtins]
    hint = did_you_mean(node.id, known) or f"give it a value on a line above: {node.id} = ..."
    raise ScriptError(f"name {node.id} is not defined", hint=hint, kind=NameError)


def attribute(interpreter: Interpreter, node: ast.Attribute) -> Any:
    return classes.get_attribute(interpreter.evaluate(node.value), node.attr)


def subscript(interpreter: Interpreter, node: ast.Subscript) -> Any:
    return item(interpreter, interpreter.evaluate(node.value), interpreter.evaluate(node.slice))


def item(interpreter: Interpreter, container: Any, index: Any) -> Any:
    if isinstance(container, torch.Tensor):
        getter = container.__getitem__
        result = calls.call_torch(interpreter.budget, "__getitem__", getter, (index,), {})
        interpreter.produced(result)
        return result
    if isinstance(container, list | tuple | nn.Sequential | nn.ModuleList | nn.ParameterList):
        if isinstance(index, int | slice):
            return container[index]
        raise ScriptError("list indices must be whole numbers or slices", kind=TypeError)
    if isinstance(container, dict | nn.ModuleDict | nn.ParameterDict):
        return container[check_key(index)]
    if isinstance(container, batches.DATASETS):
        return batches.item(container, index)
    what = container.path if isinstance(container, Namespace) else type(container).__name__
    raise ScriptError(f"{what} cannot be indexed in explorer scripts")


def slice_of(interpreter: Interpreter, node: ast.Slice) -> slice:
    parts = [
        None if p is None else interpreter.evaluate(p) for p in (node.lower, node.upper, node.step)
    ]
    return slice(*parts)


def tuple_of(interpreter: Interpreter, node: ast.Tuple) -> tuple:
    return tuple(elements(interpreter, node.elts))


def list_of(interpreter: Interpreter, node: ast.List) -> list:
    return elements(interpreter, node.elts)


def elements(interpreter: Interpreter, nodes: list[ast.expr]) -> list:
    items: list = []
    for element in nodes:
        if isinstance(element, ast.Starred):
            items.extend(bounded(interpreter.budget, interpreter.evaluate(element.value)))
        else:
            items.append(interpreter.evaluate(element))
    interpreter.budget.charge_items(len(items))
    return items


def unaryop(interpreter: Interpreter, node: ast.UnaryOp) -> Any:
    value = interpreter.evaluate(node.operand)
    if isinstance(node.op, ast.Not):
        return not truth_of(interpreter, value, node.operand)
    if isinstance(value, str | list | tuple):
        raise ScriptError(
            f"unary {type(node.op).__name__} does not apply to {type(value).__name__}"
        )
    result = UNARY[type(node.op)](value)
    if isinstance(value, torch.Tensor):
        calls.account(interpreter.budget, result)
        interpreter.produced(result)
    return result


def boolop(interpreter: Interpreter, node: ast.BoolOp) -> Any:
    value: Any = None
    for operand in node.values:
        value = interpreter.evaluate(operand)
        truth = truth_of(interpreter, value, operand)
        if isinstance(node.op, ast.And) and not truth:
            return value
        if isinstance(node.op, ast.Or) and truth:
            return value
    return value


def truth(interpreter: Interpreter, node: ast.expr) -> bool:
    return truth_of(interpreter, interpreter.evaluate(node), node)


def truth_of(interpreter: Interpreter, value: Any, node: ast.expr) -> bool:
    try:
        return bool(value)
    except Exception as error:
        message, hint = explain_torch_error(error, "bool", (), {})
        raise interpreter.locate(script_error(error, message, hint), node) from None


def compare(interpreter: Interpreter, node: ast.Compare) -> Any:
    left = interpreter.evaluate(node.left)
    result: Any = True
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = interpreter.evaluate(right_node)
        tensors = isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor)
        if tensors and not isinstance(op, ast.Is | ast.IsNot):
            check_broadcast(interpreter.budget, left, right, type(op))
        for side in (left, right):
            interpreter.budget.check_nested(side, "this comparison")
        result = COMPARE[type(op)](left, right)
        if len(node.ops) > 1 and not truth_of(interpreter, result, node):
            return result
        left = right
    return result


def ifexp(interpreter: Interpreter, node: ast.IfExp) -> Any:
    return interpreter.evaluate(node.body if truth(interpreter, node.test) else node.orelse)


def joined_str(interpreter: Interpreter, node: ast.JoinedStr) -> str:
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
            continue
        assert isinstance(value, ast.FormattedValue)
        parts.append(_formatted(interpreter, value))
    text = "".join(parts)
    interpreter.budget.check_string(len(text))
    return text


def _formatted(interpreter: Interpreter, value: ast.FormattedValue) -> str:
    """One {...} of an f-string, checked as str.format checks its fields."""
    shown = interpreter.evaluate(value.value)
    conversion = None if value.conversion == -1 else chr(value.conversion)
    spec = joined_str(interpreter, value.format_spec) if value.format_spec else ""
    return format_value(interpreter.budget, shown, spec, conversion)
