"""Call expressions in scripts: what the called value is decides how it may be called."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from explorer.lang import (
    autograd_calls,
    calls,
    classes,
    comprehensions,
    containers,
    custom_functions,
    derivatives,
    functions,
    hooks,
    tables,
    training,
    values,
)
from explorer.lang.builtins import Builtin
from explorer.lang.classes import ScriptClass
from explorer.lang.errors import EXCEPTIONS, Caught, ScriptError
from explorer.lang.expressions import elements
from explorer.lang.functions import BoundMethod, ScriptFunction
from explorer.lang.hints import explain_torch_error, script_error
from explorer.lang.operators import name_of
from explorer.lang.values import Function, Method, Namespace, is_node

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter


def call(interpreter: Interpreter, node: ast.Call) -> Any:
    function = interpreter.evaluate(node.func)
    if _consumes_lazily(function, node):
        args: tuple = (comprehensions.lazy(interpreter, node.args[0]),)
    else:
        args = tuple(elements(interpreter, node.args))
    kwargs = _keywords(interpreter, node.keywords)
    if isinstance(function, Builtin) and function.name == "isinstance":
        return _isinstance(args, kwargs)
    if isinstance(function, Builtin) and function.name == "super":
        return classes.super_of(interpreter, args)
    if isinstance(function, _SCRIPT_CALLABLES):
        # The script's own code: its arguments stay the script's values, checked where used.
        result = _call_script(interpreter, function, args, kwargs)
        interpreter.produced(result)
        return result
    key = _sort_key(function, kwargs)
    if not (isinstance(function, Builtin) and function.name in _SHOWN):
        values.check_arguments(args, kwargs)  # print(torch.exp) only shows what it is given
    if not isinstance(function, Builtin):
        args, kwargs = values.unwrap_arguments(args, kwargs)
    elif function.name not in _SHOWN:
        # min(..., key=node) would call the node
        values.check_values(list(kwargs.values()), devices=False)
    if key is not None:
        kwargs["key"] = key
    result = _dispatch(interpreter, function, args, kwargs, node)
    interpreter.given(result, _inputs(function, args, node))
    interpreter.produced(result)
    return result


# Calls whose numbers are operands (torch.mul(x, 2)); elsewhere a number is a dim or a size.
_ARITHMETIC = frozenset(
    "add sub subtract rsub mul multiply div divide true_divide where maximum minimum fmax fmin "
    "atan2 hypot fmod remainder".split()
)


def _inputs(function: Any, args: tuple, node: ast.Call) -> list[tuple[str | None, Any]]:
    """A torch call's inputs as (name or None, value), the tensor a method is called on first."""
    if isinstance(function, Method) and isinstance(function.owner, torch.Tensor):
        given: list[tuple[str | None, Any]] = [(name_of(_receiver(node)), function.owner)]
        name = function.name
    elif isinstance(function, Function) and not function.qualname.startswith("math."):
        given, name = [], function.qualname.rsplit(".", 1)[-1]
    else:
        return []
    numbers = name.removesuffix("_") in _ARITHMETIC
    written = node.args if len(node.args) == len(args) else [None] * len(args)
    for expression, value in zip(written, args, strict=True):
        if isinstance(value, list | tuple):  # torch.cat([x, xs])
            items = getattr(expression, "elts", None)
            names = [name_of(e) for e in items] if items and len(items) == len(value) else []
            given.extend(
                (names[k] if names else None, v)
                for k, v in enumerate(value)
                if isinstance(v, torch.Tensor)
            )
        elif isinstance(value, torch.Tensor) or (numbers and isinstance(value, int | float)):
            given.append((name_of(expression), value))
    return given


def _receiver(node: ast.Call) -> ast.expr | None:
    return node.func.value if isinstance(node.func, ast.Attribute) else None


_GENERATOR = {name: name for name in tables.GENERATOR_METHODS}  # no script text to getattr
_SCRIPT_CALLABLES = (
    ScriptFunction,
    BoundMethod,
    ScriptClass,
    classes.BaseInit,
    custom_functions.Apply,
)


def _call_script(interpreter: Interpreter, function: Any, args: tuple, kwargs: dict) -> Any:
    if isinstance(function, ScriptFunction):
        return functions.call(interpreter, function, args, kwargs)
    if isinstance(function, BoundMethod):
        return functions.call(interpreter, function.function, (function.owner, *args), kwargs)
    if isinstance(function, ScriptClass):
        return classes.instantiate(interpreter, function, args, kwargs)
    return function(*args, **kwargs)


_SHOWN = frozenset({"print", "str", "repr"})  # builtins that only make text of their arguments
_LAZY_CONSUMERS = frozenset({"sum", "any", "all", "min", "max"})


def _consumes_lazily(function: Any, node: ast.Call) -> bool:
    """sum(x * x for x in xs) and its kin: the generator runs as the builtin consumes it."""
    return (
        isinstance(function, Builtin)
        and function.name in _LAZY_CONSUMERS
        and len(node.args) == 1
        and isinstance(node.args[0], ast.GeneratorExp)
    )


def _keywords(interpreter: Interpreter, keywords: list[ast.keyword]) -> dict[str, Any]:
    """f(a=1, **options): the keywords of a call, a dict's keys as Python takes them."""
    kwargs: dict[str, Any] = {}
    for keyword in keywords:
        value = interpreter.evaluate(keyword.value)
        if keyword.arg is not None:
            kwargs[keyword.arg] = value
            continue
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            error = ScriptError("** in a call needs a dictionary with text keys", kind=TypeError)
            raise interpreter.locate(error, keyword.value)
        for key in value:
            if key.startswith("_"):
                error = ScriptError(f"the keyword {key} is not available in explorer scripts")
                raise interpreter.locate(error, keyword.value)
        kwargs.update(value)
    return kwargs


def _dispatch(
    interpreter: Interpreter, function: Any, args: tuple, kwargs: dict, node: ast.Call
) -> Any:
    budget = interpreter.budget
    if isinstance(function, Builtin):
        result = _plain_call(function.target, args, kwargs, function.name)
        calls.account(budget, result)  # abs(x) and sum(x) make tensors too
        return result
    if isinstance(function, Function) and function.target in derivatives.TARGETS:
        return derivatives.call(interpreter, function.target, args, kwargs)
    if isinstance(function, Function) and function.target in autograd_calls.TARGETS:
        return autograd_calls.call_function(interpreter, function.target, args, kwargs, node.lineno)
    if isinstance(function, Function):
        return _call_function(interpreter, function, args, kwargs)
    if isinstance(function, Method):
        return _call_method(interpreter, function, args, kwargs, node)
    if isinstance(function, nn.Module):
        return calls.call_torch(budget, type(function).__name__, function, args, kwargs)
    raise ScriptError(f"{_describe(function)} is not callable")


def _call_function(interpreter: Interpreter, function: Function, args: tuple, kwargs: dict) -> Any:
    target, budget = function.target, interpreter.budget
    if training.makes(target):
        return training.construct(interpreter, function, args, kwargs)
    if calls.is_module_class(target) or target is nn.Parameter:
        if target is nn.Parameter:
            return calls.call_torch(budget, "nn.Parameter", target, args, kwargs)
        return calls.construct_module(budget, target, args, kwargs)
    if target is torch.Tensor:
        raise ScriptError("torch.Tensor cannot be called here", hint="use torch.tensor(data)")
    if function.qualname.startswith("math."):
        _check_math(args)
        return _plain_call(target, args, kwargs, function.qualname)
    return calls.call_torch(budget, function.qualname, target, args, kwargs)


def _call_method(
    interpreter: Interpreter, method: Method, args: tuple, kwargs: dict, node: ast.Call
) -> Any:
    owner, name, budget = method.owner, method.name, interpreter.budget
    if name in hooks.TENSOR_HOOKS | hooks.MODULE_HOOKS:
        return hooks.register(owner, name, args, kwargs)
    if hooks.is_handle(owner) and name == "remove":
        return owner.remove()
    if isinstance(owner, torch.Generator):
        return _plain_call(getattr(owner, _GENERATOR[name]), args, kwargs, name)
    if isinstance(owner, torch.Tensor):
        if name == "backward":
            return autograd_calls.tensor_backward(interpreter, owner, args, kwargs, node.lineno)
        return calls.call_torch(budget, name, getattr(owner, name), args, kwargs)
    if isinstance(owner, nn.Module):
        if name == "forward":
            return calls.call_torch(budget, type(owner).__name__, owner, args, kwargs)
        result = _plain_call(getattr(owner, name), args, kwargs, name)
        if name in tables.MODULE_LISTINGS:
            return list(result)
        return result
    if isinstance(owner, list | dict | set | str):

        def run() -> Any:
            return containers.call_method(budget, owner, name, args, kwargs)

        return _plain_call(run, (), {}, name)
    if custom_functions.is_context(owner) and name in custom_functions.CTX_METHODS:
        return _plain_call(
            lambda: custom_functions.call_context_method(owner, name, args, kwargs), (), {}, name
        )
    if is_node(owner) and name == "name":
        return owner.name()
    if training.owns(owner):
        return training.call_method(interpreter, method, args, kwargs)
    raise ScriptError(f"{method.label} cannot be called")


def _plain_call(target: Callable, args: tuple, kwargs: dict, name: str) -> Any:
    try:
        return target(*args, **kwargs)
    except ScriptError:
        raise
    except Exception as error:
        message, hint = explain_torch_error(error, name, args, kwargs)
        raise script_error(error, message, hint) from None


def _sort_key(function: Any, kwargs: dict) -> Callable | None:
    """sorted, min, max and list.sort may order by a builtin of the language (key=len, abs,
    str...): taken out of kwargs, to be given back after the checks that refuse functions."""
    sorts = isinstance(function, Builtin) and function.name in ("sorted", "min", "max")
    sorts = sorts or (isinstance(function, Method) and function.name == "sort")
    key = kwargs.get("key")
    if sorts and isinstance(key, ScriptFunction | BoundMethod):
        del kwargs["key"]
        return key  # the script's own function, run by the interpreter for each item
    if not sorts or not isinstance(key, Builtin) or key.name not in tables.SORT_KEYS:
        return None
    del kwargs["key"]
    return key.target


_PLAIN_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list,
                "tuple": tuple, "dict": dict, "set": set}  # fmt: skip


def _isinstance(args: tuple, kwargs: dict) -> bool:
    if len(args) != 2 or kwargs:
        raise ScriptError("isinstance takes a value and a class")
    value, spec = args
    parts = spec if isinstance(spec, tuple) else (spec,)
    own = classes.script_class_of(value)
    if any(own is not None and own.derives_from(p) for p in parts if isinstance(p, ScriptClass)):
        return True
    kinds = tuple(_class_of(part) for part in parts if not isinstance(part, ScriptClass))
    if isinstance(value, Caught):
        return any(issubclass(value.kind, c) for c in kinds if issubclass(c, Exception))
    return isinstance(value, kinds)


def _class_of(value: Any) -> type:
    """The class isinstance may test against: torch.Tensor, a layer of nn, a plain type."""
    target = value.target if isinstance(value, Function) else None
    if isinstance(target, type) and issubclass(target, torch.Tensor | nn.Module):
        return target
    if isinstance(value, Builtin) and value.name in _PLAIN_TYPES:
        return _PLAIN_TYPES[value.name]
    if isinstance(value, Builtin) and value.name in EXCEPTIONS:
        return EXCEPTIONS[value.name]
    raise ScriptError(
        "isinstance tests against torch.Tensor, nn layers and plain types such as int",
        hint="isinstance(x, torch.Tensor)",
    )


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
