"""Operators in scripts: arithmetic, comparison and the bounds on what Python arithmetic builds."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from explorer.lang import calls, containers
from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.limits import Budget

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}  # fmt: skip
INPLACE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod,
    ast.Pow: operator.ipow, ast.MatMult: operator.imatmul, ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift, ast.BitAnd: operator.iand, ast.BitOr: operator.ior,
    ast.BitXor: operator.ixor,
}  # fmt: skip
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
         ast.Invert: operator.invert}  # fmt: skip
COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip


def binop(interpreter: Interpreter, node: ast.BinOp) -> Any:
    left = interpreter.evaluate(node.left)
    right = interpreter.evaluate(node.right)
    names = (name_of(node.left), name_of(node.right))
    return operate(interpreter, BINARY[type(node.op)], left, right, type(node.op), names)


def name_of(expression: ast.expr | None) -> str | None:
    """The name an operand was written as (`xs` in `w * xs`), or None for any other expression."""
    return expression.id if isinstance(expression, ast.Name) else None


def operate(
    interpreter: Interpreter,
    function: Callable,
    left: Any,
    right: Any,
    kind: type,
    names: tuple[str | None, str | None] = (None, None),
) -> Any:
    budget = interpreter.budget
    if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
        for other in (left, right):
            if not isinstance(other, torch.Tensor | int | float | bool):
                raise ScriptError(
                    f"a tensor cannot be combined with a {type(other).__name__} here",
                    hint="use numbers or tensors on both sides",
                )
        check_broadcast(budget, left, right, kind)
        name = "matmul" if kind is ast.MatMult else kind.__name__.lower()
        result = calls.call_torch(budget, name, function, (left, right), {})
        interpreter.given(result, [(names[0], left), (names[1], right)])
        interpreter.produced(result)
        return result
    if kind is ast.Mod and isinstance(left, str):
        return containers.percent(budget, left, right)
    _check_python_operands(budget, left, right, kind)
    result = function(left, right)
    if isinstance(result, int) and not isinstance(result, bool):
        budget.check_int(result)
    return result


def check_broadcast(budget: Budget, left: Any, right: Any, kind: type) -> None:
    shapes = [tuple(v.shape) for v in (left, right) if isinstance(v, torch.Tensor)]
    if kind is ast.MatMult:
        return  # sized on the meta device by call_torch
    try:
        shape = torch.broadcast_shapes(*shapes)
    except RuntimeError:
        return  # the real operation reports the mismatch
    budget.check_elements(tuple(shape))


def _check_python_operands(budget: Budget, left: Any, right: Any, kind: type) -> None:
    """Bound the size of what Python arithmetic can build: big integers, long lists, long text."""
    if kind is ast.Pow and isinstance(left, int) and isinstance(right, int):
        budget.check_int_power(left, right)
    elif kind in (ast.LShift,) and isinstance(right, int) and right > budget.limits.max_int_bits:
        raise LimitError("shift too large", hint="shift by at most 256 bits")
    elif kind is ast.Mult and isinstance(right, int) and isinstance(left, list | tuple | str):
        _check_repeat(budget, left, right)
    elif kind is ast.Mult and isinstance(left, int) and isinstance(right, list | tuple | str):
        _check_repeat(budget, right, left)
    elif kind is ast.Add and isinstance(left, list | tuple) and isinstance(right, list | tuple):
        budget.charge_items(len(left) + len(right))
    elif isinstance(left, str) or isinstance(right, str):
        if kind is ast.Add and isinstance(left, str) and isinstance(right, str):
            budget.check_string(len(left) + len(right))
            return
        raise ScriptError("this string operation is not available in explorer scripts")


def _check_repeat(budget: Budget, sequence: Any, times: int) -> None:
    if isinstance(sequence, str):
        budget.check_string(len(sequence) * max(times, 0))
        return
    budget.charge_items(len(sequence) * max(times, 0))
