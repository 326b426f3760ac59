"""The few Python builtins a script may call, each bounded by the run's limits."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from explorer.lang.batches import NO_DEFAULT, next_batch, start
from explorer.lang.containers import (
    Lazy,
    bounded,
    call_method,
    check_key,
    collected,
    length,
    number_from_text,
)
from explorer.lang.errors import EXCEPTIONS, ScriptError, caught
from explorer.lang.limits import Budget


@dataclass(frozen=True)
class Builtin:
    name: str
    target: Callable[..., Any]

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


def _graph_ops_of_sum(values: Any, start: Any) -> int:
    """The graph operations sum(values, start) makes: one per addition once one side needs
    gradients; iterating a tensor adds the node that splits it into rows."""
    if not torch.is_grad_enabled():
        return 0
    if isinstance(values, torch.Tensor):
        tracked = values.requires_grad or _needs_grad(start)
        return len(values) + 1 if tracked and len(values) else 0
    ops, tracked = 0, _needs_grad(start)
    for value in values:
        tracked = tracked or _needs_grad(value)
        ops += tracked
    return ops


def _counted_additions(budget: Budget, values: Lazy) -> Iterator[Any]:
    """The items of values, each addition sum makes with one that needs gradients counted."""
    for value in values:
        if _needs_grad(value) and torch.is_grad_enabled():
            budget.count_graph_op()
        yield value


def _decorator_only(*args: Any, **kwargs: Any) -> None:
    raise ScriptError("staticmethod works only as @staticmethod on a method in a class")


def _needs_grad(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


def make_builtins(budget: Budget, printed: Callable[[str], None]) -> dict[str, Builtin]:
    def print_(*args: Any, sep: str = " ", end: str = "\n") -> None:
        if not isinstance(sep, str) or not isinstance(end, str):
            raise ScriptError("print's sep and end must be strings")
        budget.check_nested(args, "this print")
        text = sep.join(str(a) for a in args) + end
        printed(text[:-1] if text.endswith("\n") else text)

    def range_(*args: Any) -> range:
        if not all(isinstance(a, int) for a in args):
            raise ScriptError(
                "range() takes whole numbers", hint="write range(10), not range(10.0)"
            )
        if any(abs(a) > 2**53 for a in args):
            raise ScriptError("this range is far too long", hint="use a smaller range")
        return range(*args)

    def len_(value: Any) -> int:
        if isinstance(value, torch.nn.Module):
            return len(value)  # Sequential and ModuleList
        return length(value)

    def list_(value: Any = ()) -> list:
        return list(collected(budget, value))

    def tuple_(value: Any = ()) -> tuple:
        return tuple(collected(budget, value))

    def enumerate_(value: Any, start: int = 0) -> list:
        return list(enumerate(collected(budget, value), start))

    def zip_(*values: Any) -> list:
        return list(zip(*(collected(budget, v) for v in values), strict=False))

    def reduce(function: Callable) -> Callable:
        def apply(*args: Any, **kwargs: Any) -> Any:
            if len(args) == 1:
                bounded(budget, args[0])
            return function(*args, **kwargs)

        return apply

    def round_(value: Any, digits: Any = None) -> Any:
        if isinstance(digits, int) and abs(digits) > 400:
            raise ScriptError("round() takes at most 400 digits")
        return builtins.round(value, digits)

    def sum_(values: Any, start: Any = 0) -> Any:
        if not isinstance(start, int | float | torch.Tensor):
            raise ScriptError("sum() adds numbers and tensors", hint="use + to join lists")
        # Each addition past the first tensor that needs gradients is a graph op, made in C
        # where the interpreter does not see it: count them before adding (all but the
        # result, which the interpreter counts when it gets it).
        if isinstance(values, Lazy):  # each item made as sum asks for it: counted then
            return builtins.sum(_counted_additions(budget, values), start)
        budget.charge_graph_ops(_graph_ops_of_sum(bounded(budget, values), start) - 1)
        return builtins.sum(values, start)

    def text(convert: Callable) -> Callable:
        def apply(value: Any = "") -> str:
            budget.check_nested(value, "this value")
            return convert(value)

        return apply

    def number(convert: Callable) -> Callable:
        def apply(value: Any = 0) -> Any:
            if isinstance(value, str):
                return number_from_text(convert, value)
            return convert(value)

        return apply

    def dict_(value: Any = (), /, **more: Any) -> dict:
        result: dict = {}
        call_method(budget, result, "update", (value,), more)
        return result

    def set_(value: Any = ()) -> set:
        return {check_key(v) for v in collected(budget, value)}

    def sorted_(value: Any, key: Callable | None = None, reverse: bool = False) -> list:
        result = list(collected(budget, value))
        budget.check_nested(result, "this list")
        return builtins.sorted(result, key=key, reverse=bool(reverse))

    def reversed_(value: Any) -> list:
        return list(builtins.reversed(list(collected(budget, value))))

    def next_(value: Any, default: Any = NO_DEFAULT) -> Any:
        return next_batch(value, default)

    def test(function: Callable) -> Callable:
        return lambda value: function(bounded(budget, value))

    def error(kind: type[Exception]) -> Callable:
        def make(*args: Any) -> Any:
            budget.check_nested(args, "this error")
            text = str(args[0]) if len(args) == 1 else str(args) if args else ""
            budget.check_string(len(text))
            return caught(kind, text)

        return make

    table: dict[str, Callable[..., Any]] = {
        "print": print_,
        "range": range_,
        "len": len_,
        "list": list_,
        "tuple": tuple_,
        "enumerate": enumerate_,
        "zip": zip_,
        "sum": sum_,
        "min": reduce(builtins.min),
        "max": reduce(builtins.max),
        "abs": builtins.abs,
        "round": round_,
        "float": number(float),
        "int": number(int),
        "bool": builtins.bool,
        "str": text(builtins.str),
        "repr": text(builtins.repr),
        "dict": dict_,
        "set": set_,
        "sorted": sorted_,
        "reversed": reversed_,
        "any": test(builtins.any),
        "all": test(builtins.all),
        "isinstance": builtins.isinstance,  # its classes are resolved by invocation.py
        "super": builtins.super,  # never called: invocation.py makes the script's super()
        "staticmethod": _decorator_only,  # a decorator in a class body (functions.py)
        "iter": start,  # of a DataLoader only
        "next": next_,
        **{name: error(kind) for name, kind in EXCEPTIONS.items()},
    }
    return {name: Builtin(name, fn) for name, fn in table.items()}
