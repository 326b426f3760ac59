"""Methods of the script's own lists, dicts, sets and strings, each bounded before it builds.

Methods are found by name in the tables below, never with getattr on script text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import Subset, TensorDataset

from explorer.lang.batches import Loader
from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.limits import Budget

_KEY_WALK = 10_000  # items of a tuple key checked one by one
_NUMBER_TEXT = 100  # characters int("...") and float("...") read
_FORMAT_SPEC = re.compile(r"^(.?[<>=^])?[+\- ]?#?0?(\d{0,3})[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")
_PERCENT = re.compile(r"%([-+ #0]*)(\d{0,3})(\.\d{1,2})?([diouxXeEfFgGcrsa%])")


def check_key(value: Any) -> Any:
    """value, if it can be a dict key or a set item: numbers, strings, tensors, modules and
    tuples of those, as Python hashes them (by value, or by identity for tensors)."""
    stack, walked = [value], 0
    while stack and walked < _KEY_WALK:  # past that, Python's own hash has the last word
        item = stack.pop()
        walked += 1
        if isinstance(item, tuple):
            stack.extend(item)
        elif not (item is None or isinstance(item, int | float | str | torch.Tensor | nn.Module)):
            raise ScriptError(
                f"{describe(item)} cannot be a dictionary key or a set item in explorer scripts",
                hint="use numbers, strings or tuples as keys",
            )
    return value


def number_from_text(convert: Callable, text: str) -> Any:
    if len(text) > _NUMBER_TEXT:
        raise LimitError(f"{convert.__name__}() reads at most {_NUMBER_TEXT} characters")
    return convert(text)


_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


def length(value: Any) -> int:
    if isinstance(
        value, range | list | tuple | torch.Size | torch.nn.Sequential | torch.nn.ModuleList
    ):
        return len(value)
    if isinstance(value, (dict, set, frozenset, str, *_VIEWS)):
        return len(value)
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:
            raise ScriptError("a 0-d tensor cannot be iterated")
        return value.shape[0]
    if isinstance(value, Loader | TensorDataset | Subset):
        return len(value)
    raise ScriptError(f"{describe(value)} cannot be iterated in explorer scripts")


def describe(value: Any) -> str:
    """What a value is, in a script author's words: a module, a function, a float."""
    name = type(value).__name__
    if hasattr(type(value), "script_class"):  # an object of a class of the script
        return f"an object of class {type(value).__name__}"
    if type(value).__name__ in ("function", "method"):
        return f"the {type(value).__name__} {getattr(value, 'name', '')}".rstrip()
    return {"Namespace": "a module", "Function": "a function", "Method": "a method"}.get(
        name, f"a {'built-in function' if name == 'Builtin' else name}"
    )


class Lazy:
    """A generator expression given straight to sum, any, all, min or max: its items are made
    one at a time as the builtin asks for them, as in Python (comprehensions.lazy), each
    counted as it is made."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return self.items


def bounded(budget: Budget, value: Any) -> Any:
    """An iterable a script may consume: its length checked before anything is built."""
    if isinstance(value, Lazy):
        return value  # bounded as it runs, by the iterations of its loops
    budget.check_items(length(value))
    return value


# A row of a tensor as a Python object of its own (the tensor and its metadata), about.
ROW_BYTES = 1024


def collected(budget: Budget, value: Any) -> Any:
    """An iterable a builtin turns into a list kept by the script: its items charged to the
    run before they are made, and each row of a tensor as a new tensor object."""
    count = length(value)
    budget.charge_items(count)
    if isinstance(value, torch.Tensor):
        budget.charge_bytes(count * ROW_BYTES)
    return value


# -- methods ------------------------------------------------------------------------------------


def call_method(budget: Budget, owner: Any, name: str, args: tuple, kwargs: dict) -> Any:
    """owner.name(*args, **kwargs) for a list, dict, set or string of the script."""
    for kind, table in _METHODS.items():
        if isinstance(owner, kind) and name in table:
            return table[name](budget, owner, *args, **kwargs)
    raise ScriptError(f"{type(owner).__name__}.{name} cannot be called in explorer scripts")


def _grow(budget: Budget, size: int, more: int) -> None:
    budget.check_items(size + more)
    budget.charge_items(more)


def _append(budget: Budget, owner: list, value: Any) -> None:
    _grow(budget, len(owner), 1)
    owner.append(value)


def _extend(budget: Budget, owner: list, values: Any) -> None:
    values = list(collected(budget, values))
    _grow(budget, len(owner), len(values))
    owner.extend(values)


def _insert(budget: Budget, owner: list, index: int, value: Any) -> None:
    _grow(budget, len(owner), 1)
    owner.insert(index, value)


def _sort(budget: Budget, owner: list, key: Callable | None = None, reverse: bool = False) -> None:
    budget.check_nested(owner, "this list")
    owner.sort(key=key, reverse=bool(reverse))


def _update(budget: Budget, owner: dict, other: Any = (), /, **more: Any) -> None:
    pairs = other if isinstance(other, dict) else dict(_pairs(collected(budget, other)))
    _grow(budget, len(owner), len(pairs) + len(more))
    for key in pairs:
        check_key(key)
    owner.update(pairs, **more)


def _pairs(values: Any) -> list[tuple[Any, Any]]:
    pairs = []
    for value in values:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ScriptError("dict() takes pairs of (key, value)")
        pairs.append((check_key(value[0]), value[1]))
    return pairs


def _setdefault(budget: Budget, owner: dict, key: Any, default: Any = None) -> Any:
    if check_key(key) not in owner:
        _grow(budget, len(owner), 1)
    return owner.setdefault(key, default)


def _add(budget: Budget, owner: set, value: Any) -> None:
    if check_key(value) not in owner:
        _grow(budget, len(owner), 1)
    owner.add(value)


def _plain(method: Callable) -> Callable:
    """A method that builds nothing larger than its owner."""
    return lambda budget, owner, *args, **kwargs: method(owner, *args, **kwargs)


def _split(budget: Budget, owner: str, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    parts = owner.split(sep, maxsplit)
    budget.charge_items(len(parts))
    return parts


def _join(budget: Budget, owner: str, values: Any) -> str:
    values = list(bounded(budget, values))
    if not all(isinstance(v, str) for v in values):
        raise ScriptError("join takes a list of strings", hint="use str(x) for each item")
    budget.check_string(sum(map(len, values)) + len(owner) * max(len(values) - 1, 0))
    return owner.join(values)


def _replace(budget: Budget, owner: str, old: str, new: str, count: int = -1) -> str:
    if not isinstance(old, str) or not isinstance(new, str):
        raise ScriptError("replace takes two strings")
    found = owner.count(old) if count < 0 else min(count, owner.count(old))
    budget.check_string(len(owner) + found * (len(new) - len(old)))
    return owner.replace(old, new, count)


def _justify(method: Callable) -> Callable:
    def apply(budget: Budget, owner: str, width: int, fill: str = " ") -> str:
        if isinstance(width, int):
            budget.check_string(width)
        return method(owner, width, fill)

    return apply


def _case(method: Callable) -> Callable:
    def apply(budget: Budget, owner: str) -> str:
        result = method(owner)  # at most three times as long ("ß".upper() is "SS")
        budget.check_string(len(result))
        return result

    return apply


def _format(budget: Budget, owner: str, *args: Any, **kwargs: Any) -> str:
    """str.format with plain fields only: {}, {0}, {name}, a checked spec, !r or !s."""
    parts: list[str] = []
    automatic = 0
    for literal, field, spec, conversion in string.Formatter().parse(owner):
        parts.append(literal)
        if field is None:
            continue
        if field == "":
            field, automatic = str(automatic), automatic + 1
        value = _field(field, args, kwargs)
        parts.append(format_value(budget, value, spec or "", conversion))
        budget.check_string(sum(map(len, parts)))
    return "".join(parts)


def _field(field: str, args: tuple, kwargs: dict) -> Any:
    if field.isdigit():
        if int(field) >= len(args):
            raise ScriptError(f"format has no argument {field}")
        return args[int(field)]
    if field.isidentifier() and not field.startswith("_"):
        if field not in kwargs:
            raise ScriptError(f"format has no argument {field}")
        return kwargs[field]
    raise ScriptError(f"the format field {{{field}}} is not available in explorer scripts")


def format_value(budget: Budget, value: Any, spec: str, conversion: str | None) -> str:
    """One field of a format string, with only the specs that cannot build huge text."""
    from explorer.lang.builtins import Builtin  # they import this module
    from explorer.lang.values import Function, Method, Namespace

    if conversion not in (None, "r", "s"):
        raise ScriptError(f"the !{conversion} conversion is not available")
    if not _FORMAT_SPEC.match(spec):
        raise ScriptError(f"the format {spec!r} is not available in explorer scripts")
    budget.check_nested(value, "this value")
    if conversion == "r" or isinstance(value, Function | Method | Namespace | Builtin):
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    return format(value, spec)


def percent(budget: Budget, template: str, values: Any) -> str:
    """template % values, with widths and precisions of at most a few digits."""
    fields = list(_PERCENT.finditer(template))
    if template.count("%") != sum(2 if f.group(4) == "%" else 1 for f in fields):
        raise ScriptError("this % format is not available in explorer scripts")
    values = values if isinstance(values, tuple) else (values,)
    for value in values:
        if not (value is None or isinstance(value, int | float | str)):
            raise ScriptError(
                f"% formatting takes numbers and strings, not a {type(value).__name__}",
                hint="use an f-string: f'{x}'",
            )
    # Field by field: each is at most its width and precision (three and two digits) and its
    # value's text, so nothing long is made before its length is counted.
    pieces: list[str] = []
    used = position = length = 0
    for field in fields:
        pieces.append(template[position : field.start()])
        if field.group(4) == "%":
            pieces.append("%")
        elif used < len(values):
            pieces.append(field.group(0) % (values[used],))
            used += 1
        else:
            raise ScriptError("this % format has more fields than values", kind=TypeError)
        position = field.end()
        length += len(pieces[-2]) + len(pieces[-1])
        budget.check_string(length)
    if used != len(values):
        raise ScriptError("this % format has fewer fields than values", kind=TypeError)
    pieces.append(template[position:])
    budget.check_string(length + len(pieces[-1]))
    return "".join(pieces)


def _copy(budget: Budget, owner: Any) -> Any:
    budget.charge_items(len(owner))
    return owner.copy()


_METHODS: dict[type, dict[str, Callable]] = {
    list: {
        "append": _append, "extend": _extend, "insert": _insert, "sort": _sort,
        "pop": _plain(list.pop), "index": _plain(list.index), "count": _plain(list.count),
        "reverse": _plain(list.reverse), "clear": _plain(list.clear), "copy": _copy,
    },
    dict: {
        "keys": _plain(dict.keys), "values": _plain(dict.values), "items": _plain(dict.items),
        "get": _plain(dict.get), "pop": _plain(dict.pop), "update": _update,
        "setdefault": _setdefault, "clear": _plain(dict.clear), "copy": _copy,
    },
    set: {
        "add": _add, "discard": _plain(set.discard), "remove": _plain(set.remove),
        "clear": _plain(set.clear), "copy": _copy,
    },
    str: {
        "upper": _case(str.upper), "lower": _case(str.lower), "strip": _plain(str.strip),
        "lstrip": _plain(str.lstrip), "rstrip": _plain(str.rstrip), "split": _split,
        "join": _join, "replace": _replace, "startswith": _plain(str.startswith),
        "endswith": _plain(str.endswith), "format": _format, "ljust": _justify(str.ljust),
        "rjust": _justify(str.rjust), "center": _justify(str.center),
    },
}  # fmt: skip
METHOD_NAMES = {kind: frozenset(table) for kind, table in _METHODS.items()}
