"""Runs a checked script tree statement by statement: the only way script text is executed."""

from __future__ import annotations

import ast
import builtins
import inspect
import operator
import re
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from explorer.data.snapshot import Output
from explorer.lang import calls
from explorer.lang.builtins import Builtin, bounded, make_builtins
from explorer.lang.errors import ScriptError
from explorer.lang.hints import did_you_mean, explain_torch_error, first_line
from explorer.lang.limits import Budget, Limits
from explorer.lang.parse import position
from explorer.lang.values import (
    FUNCTIONAL,
    GRAD_MODES,
    MATH,
    NAMESPACES,
    NN,
    TORCH,
    Function,
    Method,
    Namespace,
    get_attribute,
    is_node,
    set_attribute,
)

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}  # fmt: skip
_INPLACE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod,
    ast.Pow: operator.ipow, ast.MatMult: operator.imatmul, ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift, ast.BitAnd: operator.iand, ast.BitOr: operator.ior,
    ast.BitXor: operator.ixor,
}  # fmt: skip
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
          ast.Invert: operator.invert}  # fmt: skip
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip
_FORMAT_SPEC = re.compile(r"^(.?[<>=^])?[+\- ]?#?0?(\d{0,3})[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")
_PLAIN_ERRORS = (ArithmeticError, TypeError, ValueError, LookupError, RuntimeError)
_BACKWARD = inspect.signature(torch.Tensor.backward)
_MAX_STRING = 10_000


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class NullObserver:
    def bound(self, name: str, value: Any) -> None:
        pass

    def produced(self, value: Any) -> None:
        pass

    def backward(self, tensor: torch.Tensor, arguments: dict[str, Any], line: int) -> None:
        tensor.backward(**arguments)


class Interpreter:
    """Executes statements over an environment of names; every value it touches is checked."""

    def __init__(self, source: str, limits: Limits | None = None, observer: Any = None) -> None:
        self.lines = source.splitlines()
        self.limits = limits or Limits()
        self.budget = Budget(self.limits)
        self.observer = observer or NullObserver()
        self.outputs: list[Output] = []
        self._output_chars = 0
        self._line = 0
        # A weak reference keeps the builtins from holding the interpreter in a cycle.
        printed = weakref.WeakMethod(self._printed)
        self.builtins = make_builtins(self.budget, lambda text: printed()(text))
        self.env: dict[str, Any] = {"torch": TORCH, "nn": NN, "F": FUNCTIONAL}

    # -- running -------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        self.budget.start()
        self.block(tree.body)

    def block(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.budget.tick()
            self._line = statement.lineno
            try:
                _STATEMENTS[type(statement)](self, statement)
            except ScriptError as error:
                raise self._locate(error, statement) from None
            except _PLAIN_ERRORS as error:
                raise self._locate(_plain(error), statement) from None

    def evaluate(self, node: ast.expr) -> Any:
        try:
            return _EXPRESSIONS[type(node)](self, node)
        except ScriptError as error:
            raise self._locate(error, node) from None
        except (_Break, _Continue):
            raise
        except _PLAIN_ERRORS as error:
            raise self._locate(_plain(error), node) from None

    @property
    def current_line(self) -> int:
        """The line of the statement running now (0 before the first)."""
        return self._line

    def _locate(self, error: ScriptError, node: ast.AST) -> ScriptError:
        line, column = position(node, self._line)
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        return error.locate(line, column, text)

    def _printed(self, text: str) -> None:
        if len(self.outputs) >= self.limits.max_outputs:
            raise ScriptError(f"the script displayed more than {self.limits.max_outputs:,} outputs")
        self._output_chars += len(text)
        if self._output_chars > self.limits.max_output_chars:
            raise ScriptError("the script displayed more than a million characters")
        self.outputs.append(Output(self._line, text))

    # -- statements ----------------------------------------------------------------------
    def _expr_statement(self, statement: ast.Expr) -> None:
        value = self.evaluate(statement.value)
        if value is not None:
            self.budget.check_nested(value, "this value")
            self._printed(repr(value))  # as a notebook or the REPL shows it

    def _assign(self, statement: ast.Assign) -> None:
        value = self.evaluate(statement.value)
        for target in statement.targets:
            self._store(target, value)

    def _store(self, target: ast.expr, value: Any) -> None:
        try:
            self._store_into(target, value)
        except ScriptError as error:
            raise self._locate(error, target) from None

    def _store_into(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
            self.observer.bound(target.id, value)
        elif isinstance(target, ast.Tuple | ast.List):
            items = (
                list(bounded(self.budget, value)) if not isinstance(value, list | tuple) else value
            )
            if len(items) != len(target.elts):
                raise ScriptError(
                    f"cannot unpack {len(items)} values into {len(target.elts)} names"
                )
            for element, item in zip(target.elts, items, strict=True):
                self._store(element, item)
        elif isinstance(target, ast.Attribute):
            set_attribute(self.evaluate(target.value), target.attr, value)
        elif isinstance(target, ast.Subscript):
            self._set_item(self.evaluate(target.value), self.evaluate(target.slice), value)
        else:
            raise ScriptError("this cannot be assigned to")

    def _set_item(self, container: Any, index: Any, value: Any) -> None:
        if isinstance(container, torch.Tensor):
            self._checked_torch("__setitem__", container.__setitem__, (index, value), {})
        elif isinstance(container, list) and isinstance(index, int):
            container[index] = value
        else:
            raise ScriptError(f"{type(container).__name__} items cannot be assigned")

    def _aug_assign(self, statement: ast.AugAssign) -> None:
        """x op= v: the target's parts are evaluated once, as Python does."""
        target, kind = statement.target, type(statement.op)
        if isinstance(target, ast.Name):
            current = self._name(target)
            result = self._operate(_INPLACE[kind], current, self.evaluate(statement.value), kind)
            self._store(target, result)
        elif isinstance(target, ast.Subscript):
            container, index = self.evaluate(target.value), self.evaluate(target.slice)
            current = self._item(container, index)
            result = self._operate(_INPLACE[kind], current, self.evaluate(statement.value), kind)
            try:
                self._set_item(container, index, result)
            except ScriptError as error:
                raise self._locate(error, target) from None
        elif isinstance(target, ast.Attribute):
            owner = self.evaluate(target.value)
            current = get_attribute(owner, target.attr)
            result = self._operate(_INPLACE[kind], current, self.evaluate(statement.value), kind)
            try:
                set_attribute(owner, target.attr, result)
            except ScriptError as error:
                raise self._locate(error, target) from None
        else:
            raise ScriptError("this cannot be assigned to")

    def _for(self, statement: ast.For) -> None:
        if statement.orelse:
            raise ScriptError("for ... else is not available in explorer scripts")
        iterable = self.evaluate(statement.iter)
        try:
            if isinstance(iterable, range):
                self.budget.check_loop_length(len(iterable))
            iterable = bounded(self.budget, iterable)
            self.budget.check_loop_length(len(iterable))
        except ScriptError as error:
            raise self._locate(error, statement.iter) from None
        for item in iterable:
            self.budget.iterate()
            self._store(statement.target, item)
            try:
                self.block(statement.body)
            except _Break:
                break
            except _Continue:
                continue

    def _if(self, statement: ast.If) -> None:
        self.block(statement.body if self._truth(statement.test) else statement.orelse)

    def _truth(self, node: ast.expr) -> bool:
        return self._truth_of(self.evaluate(node), node)

    def _with(self, statement: ast.With) -> None:
        managers = [self.evaluate(item.context_expr) for item in statement.items]
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
            self.block(statement.body)
        finally:
            for manager in reversed(entered):
                manager.__exit__(None, None, None)

    def _import(self, statement: ast.Import) -> None:
        for alias in statement.names:
            if alias.asname:
                self.env[alias.asname] = NAMESPACES[alias.name]
            else:
                top = alias.name.split(".")[0]
                self.env[top] = NAMESPACES[top]

    def _import_from(self, statement: ast.ImportFrom) -> None:
        space = NAMESPACES[statement.module or ""]
        for alias in statement.names:
            self.env[alias.asname or alias.name] = get_attribute(space, alias.name)

    def _break(self, statement: ast.Break) -> None:
        raise _Break

    def _continue(self, statement: ast.Continue) -> None:
        raise _Continue

    def _assert(self, statement: ast.Assert) -> None:
        if not self._truth(statement.test):
            detail = self.evaluate(statement.msg) if statement.msg else ""
            raise ScriptError(f"assertion failed{': ' if detail else ''}{detail}")

    def _delete(self, statement: ast.Delete) -> None:
        for target in statement.targets:
            if not isinstance(target, ast.Name):
                raise ScriptError("del works only on names in explorer scripts")
            if target.id in ("torch", "nn", "F", "math") or target.id not in self.env:
                self._name(target)  # an unknown name gets its own message first
                raise ScriptError(f"del works only on names the script made, not {target.id}")
            del self.env[target.id]

    # -- expressions ---------------------------------------------------------------------
    def _name(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in self.builtins:
            return self.builtins[node.id]
        if node.id == "math":
            return MATH
        if hasattr(builtins, node.id):
            raise ScriptError(f"{node.id} is not available in explorer scripts")
        known = [*self.env, *self.builtins]
        raise ScriptError(f"name {node.id} is not defined", hint=did_you_mean(node.id, known))

    def _attribute(self, node: ast.Attribute) -> Any:
        return get_attribute(self.evaluate(node.value), node.attr)

    def _subscript(self, node: ast.Subscript) -> Any:
        return self._item(self.evaluate(node.value), self.evaluate(node.slice))

    def _item(self, container: Any, index: Any) -> Any:
        if isinstance(container, torch.Tensor):
            result = self._checked_torch("__getitem__", container.__getitem__, (index,), {})
            self._produced(result)
            return result
        if isinstance(container, list | tuple | nn.Sequential | nn.ModuleList):
            if isinstance(index, int | slice):
                return container[index]
            raise ScriptError("list indices must be whole numbers or slices")
        what = container.path if isinstance(container, Namespace) else type(container).__name__
        raise ScriptError(f"{what} cannot be indexed in explorer scripts")

    def _checked_torch(self, name: str, target: Callable, args: tuple, kwargs: dict) -> Any:
        return calls.call_torch(self.budget, name, target, args, kwargs)

    def _slice(self, node: ast.Slice) -> slice:
        parts = [
            None if p is None else self.evaluate(p) for p in (node.lower, node.upper, node.step)
        ]
        return slice(*parts)

    def _tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self._elements(node.elts))

    def _list(self, node: ast.List) -> list:
        return self._elements(node.elts)

    def _elements(self, nodes: list[ast.expr]) -> list:
        items: list = []
        for element in nodes:
            if isinstance(element, ast.Starred):
                items.extend(bounded(self.budget, self.evaluate(element.value)))
            else:
                items.append(self.evaluate(element))
        self.budget.charge_items(len(items))
        return items

    def _binop(self, node: ast.BinOp) -> Any:
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        return self._operate(_BINARY[type(node.op)], left, right, type(node.op))

    def _operate(self, function: Callable, left: Any, right: Any, kind: type) -> Any:
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            for other in (left, right):
                if not isinstance(other, torch.Tensor | int | float | bool):
                    raise ScriptError(
                        f"a tensor cannot be combined with a {type(other).__name__} here",
                        hint="use numbers or tensors on both sides",
                    )
            self._check_broadcast(left, right, kind)
            name = "matmul" if kind is ast.MatMult else kind.__name__.lower()
            result = self._checked_torch(name, function, (left, right), {})
            self._produced(result)
            return result
        _check_python_operands(self.budget, left, right, kind)
        result = function(left, right)
        if isinstance(result, int) and not isinstance(result, bool):
            self.budget.check_int(result)
        return result

    def _check_broadcast(self, left: Any, right: Any, kind: type) -> None:
        shapes = [tuple(v.shape) for v in (left, right) if isinstance(v, torch.Tensor)]
        if kind is ast.MatMult:
            return  # sized on the meta device by call_torch
        try:
            shape = torch.broadcast_shapes(*shapes)
        except RuntimeError:
            return  # the real operation reports the mismatch
        self.budget.check_elements(tuple(shape))

    def _unaryop(self, node: ast.UnaryOp) -> Any:
        value = self.evaluate(node.operand)
        if isinstance(node.op, ast.Not):
            return not self._truth_of(value, node.operand)
        if isinstance(value, str | list | tuple):
            raise ScriptError(
                f"unary {type(node.op).__name__} does not apply to {type(value).__name__}"
            )
        result = _UNARY[type(node.op)](value)
        if isinstance(value, torch.Tensor):
            calls.account(self.budget, result)
            self._produced(result)
        return result

    def _boolop(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.evaluate(operand)
            truth = self._truth_of(value, operand)
            if isinstance(node.op, ast.And) and not truth:
                return value
            if isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def _truth_of(self, value: Any, node: ast.expr) -> bool:
        try:
            return bool(value)
        except Exception as error:
            message, hint = explain_torch_error(error, "bool", (), {})
            raise self._locate(ScriptError(message, hint), node) from None

    def _compare(self, node: ast.Compare) -> Any:
        left = self.evaluate(node.left)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(right_node)
            tensors = isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor)
            if tensors and not isinstance(op, ast.Is | ast.IsNot):
                self._check_broadcast(left, right, type(op))
            for side in (left, right):
                self.budget.check_nested(side, "this comparison")
            result = _COMPARE[type(op)](left, right)
            if len(node.ops) > 1 and not self._truth_of(result, node):
                return result
            left = right
        return result

    def _ifexp(self, node: ast.IfExp) -> Any:
        return self.evaluate(node.body if self._truth(node.test) else node.orelse)

    def _joined_str(self, node: ast.JoinedStr) -> str:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            item = self.evaluate(value.value)
            if value.conversion == ord("r"):
                item = repr(item)
            elif value.conversion == ord("s"):
                item = str(item)
            spec = self._joined_str(value.format_spec) if value.format_spec else ""
            if not _FORMAT_SPEC.match(spec):
                raise ScriptError(f"the format {spec!r} is not available in explorer scripts")
            if isinstance(item, Function | Method | Namespace | Builtin):
                item = repr(item)
            self.budget.check_nested(item, "this value")
            parts.append(format(item, spec))
        text = "".join(parts)
        if len(text) > _MAX_STRING:
            raise ScriptError("this string is too long")
        return text

    # -- calls ---------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> Any:
        function = self.evaluate(node.func)
        args = tuple(self._elements(node.args))
        kwargs = {kw.arg: self.evaluate(kw.value) for kw in node.keywords if kw.arg}
        calls.check_arguments(args, kwargs)
        result = self._dispatch(function, args, kwargs, node)
        self._produced(result)
        return result

    def _produced(self, result: Any) -> None:
        """Tell the observer of a result, counting the graph operations the script makes."""
        if isinstance(result, torch.Tensor) and result.grad_fn is not None:
            self.budget.count_graph_op()
        self.observer.produced(result)

    def _dispatch(self, function: Any, args: tuple, kwargs: dict, node: ast.Call) -> Any:
        if isinstance(function, Builtin):
            return _plain_call(function.target, args, kwargs, function.name)
        if isinstance(function, Function):
            return self._call_function(function, args, kwargs)
        if isinstance(function, Method):
            return self._call_method(function, args, kwargs, node)
        if isinstance(function, nn.Module):
            return self._checked_torch(type(function).__name__, function, args, kwargs)
        raise ScriptError(f"{_describe(function)} is not callable")

    def _call_function(self, function: Function, args: tuple, kwargs: dict) -> Any:
        target = function.target
        if calls.is_module_class(target) or target is nn.Parameter:
            if target is nn.Parameter:
                return self._checked_torch("nn.Parameter", target, args, kwargs)
            return calls.construct_module(self.budget, target, args, kwargs)
        if function.qualname.startswith("math."):
            _check_math(args)
            return _plain_call(target, args, kwargs, function.qualname)
        return self._checked_torch(function.qualname, target, args, kwargs)

    def _call_method(self, method: Method, args: tuple, kwargs: dict, node: ast.Call) -> Any:
        owner, name = method.owner, method.name
        if isinstance(owner, torch.Tensor):
            if name == "backward":
                return self._backward(owner, args, kwargs, node)
            return self._checked_torch(name, getattr(owner, name), args, kwargs)
        if isinstance(owner, nn.Module):
            if name == "forward":
                return self._checked_torch(type(owner).__name__, owner, args, kwargs)
            result = _plain_call(getattr(owner, name), args, kwargs, name)
            if name in ("parameters", "named_parameters"):
                return list(result)
            return result
        if isinstance(owner, list) and name == "append":
            self.budget.check_items(len(owner) + 1)
            self.budget.charge_items(1)
            return _plain_call(owner.append, args, kwargs, name)
        if is_node(owner) and name == "name":
            return owner.name()
        raise ScriptError(f"{method!r} cannot be called")

    def _backward(self, tensor: torch.Tensor, args: tuple, kwargs: dict, node: ast.Call) -> None:
        try:
            bound = _BACKWARD.bind(tensor, *args, **kwargs)
        except TypeError as error:
            raise ScriptError(
                f"backward(): {error}",
                hint="backward(gradient=None, retain_graph=None, create_graph=False)",
            ) from None
        arguments = dict(bound.arguments)
        arguments.pop("self")
        if arguments.get("inputs") is not None:
            raise ScriptError("backward(inputs=...) is not available in explorer scripts")
        self.observer.backward(tensor, arguments, node.lineno)


# Dispatch tables on the class, not the instance: bound methods in an instance dict would
# make every interpreter a reference cycle that only the cycle collector can free.
_STATEMENTS: dict[type, Callable[[Interpreter, Any], Any]] = {
    ast.Expr: Interpreter._expr_statement, ast.Assign: Interpreter._assign,
    ast.AugAssign: Interpreter._aug_assign, ast.For: Interpreter._for, ast.If: Interpreter._if,
    ast.With: Interpreter._with, ast.Import: Interpreter._import,
    ast.ImportFrom: Interpreter._import_from, ast.Pass: lambda self, s: None,
    ast.Break: Interpreter._break, ast.Continue: Interpreter._continue,
    ast.Assert: Interpreter._assert, ast.Delete: Interpreter._delete,
}  # fmt: skip
_EXPRESSIONS: dict[type, Callable[[Interpreter, Any], Any]] = {
    ast.Constant: lambda self, n: n.value, ast.Name: Interpreter._name,
    ast.Attribute: Interpreter._attribute, ast.Subscript: Interpreter._subscript,
    ast.Slice: Interpreter._slice, ast.Call: Interpreter._call, ast.BinOp: Interpreter._binop,
    ast.UnaryOp: Interpreter._unaryop, ast.BoolOp: Interpreter._boolop,
    ast.Compare: Interpreter._compare, ast.IfExp: Interpreter._ifexp,
    ast.Tuple: Interpreter._tuple, ast.List: Interpreter._list,
    ast.JoinedStr: Interpreter._joined_str,
}  # fmt: skip


def _plain_call(target: Callable, args: tuple, kwargs: dict, name: str) -> Any:
    try:
        return target(*args, **kwargs)
    except ScriptError:
        raise
    except Exception as error:
        message, hint = explain_torch_error(error, name, args, kwargs)
        raise ScriptError(message, hint) from None


def _plain(error: Exception) -> ScriptError:
    if isinstance(error, OverflowError):
        return ScriptError("this number is too large", hint="use smaller numbers")
    return ScriptError(first_line(str(error)) or type(error).__name__)


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "a tensor"
    if isinstance(value, Namespace):
        return repr(value)
    return f"a {type(value).__name__}"


def _check_math(args: tuple) -> None:
    for a in args:
        if not isinstance(a, int | float) or isinstance(a, bool):
            raise ScriptError("math functions take plain numbers", hint="use torch.exp for tensors")


def _check_python_operands(budget: Budget, left: Any, right: Any, kind: type) -> None:
    """Bound the size of what Python arithmetic can build: big integers, long lists, long text."""
    if kind is ast.Pow and isinstance(left, int) and isinstance(right, int):
        budget.check_int_power(left, right)
    elif kind in (ast.LShift,) and isinstance(right, int) and right > budget.limits.max_int_bits:
        raise ScriptError("shift too large", hint="shift by at most 256 bits")
    elif kind is ast.Mult and isinstance(right, int) and isinstance(left, list | tuple | str):
        _check_repeat(budget, left, right)
    elif kind is ast.Mult and isinstance(left, int) and isinstance(right, list | tuple | str):
        _check_repeat(budget, right, left)
    elif kind is ast.Add and isinstance(left, list | tuple) and isinstance(right, list | tuple):
        budget.charge_items(len(left) + len(right))
    elif isinstance(left, str) or isinstance(right, str):
        if kind is ast.Add and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > _MAX_STRING:
                raise ScriptError("this string is too long")
            return
        raise ScriptError("this string operation is not available in explorer scripts")


def _check_repeat(budget: Budget, sequence: Any, times: int) -> None:
    if isinstance(sequence, str):
        if len(sequence) * max(times, 0) > _MAX_STRING:
            raise ScriptError("this string is too long")
        return
    budget.charge_items(len(sequence) * max(times, 0))
