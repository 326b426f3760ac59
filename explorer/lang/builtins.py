"""The few Python builtins a script may call, each bounded by the run's limits."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from explorer.lang.errors import ScriptError
from explorer.lang.limits import Budget


@dataclass(frozen=True)
class Builtin:
    name: str
    target: Callable[..., Any]

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


def _length(value: Any) -> int:
    if isinstance(
        value, range | list | tuple | torch.Size | torch.nn.Sequential | torch.nn.ModuleList
    ):
        return len(value)
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:
            raise ScriptError("a 0-d tensor cannot be iterated")
        return value.shape[0]
    raise ScriptError(f"{_kind(value)} cannot be iterated in explorer scripts")


def _kind(value: Any) -> str:
    """What a value is, in a script author's words: a module, a function, a float."""
    name = type(value).__name__
    return {"Namespace": "a module", "Function": "a function", "Method": "a method"}.get(
        name, f"a {'built-in function' if name == 'Builtin' else name}"
    )


def bounded(budget: Budget, value: Any) -> Any:
    """An iterable a script may consume: its length checked before anything is built."""
    budget.check_items(_length(value))
    return value


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


def _needs_grad(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


# A row of a tensor as a Python object of its own (the tensor and its metadata), about.
ROW_BYTES = 1024


def collected(budget: Budget, value: Any) -> Any:
    """An iterable a builtin turns into a list kept by the script: its items charged to the
    run before they are made, and each row of a tensor as a new tensor object."""
    length = _length(value)
    budget.charge_items(length)
    if isinstance(value, torch.Tensor):
        budget.charge_bytes(length * ROW_BYTES)
    return value


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
        return _length(value)

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
                raise ScriptError(f"{convert.__name__}() of a string is not available")
            return convert(value)

        return apply

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
    }
    return {name: Builtin(name, fn) for name, fn in table.items()}
