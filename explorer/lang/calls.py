"""Calling what a script may call, with its size checked before any memory is used."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn

from explorer.lang import tables
from explorer.lang.builtins import Builtin
from explorer.lang.errors import ScriptError
from explorer.lang.hints import explain_torch_error
from explorer.lang.limits import Budget
from explorer.lang.values import Function, Method, Namespace

# Calls whose result may be much larger than their inputs: their output shape is
# worked out on the meta device (shapes only, no memory) before the real call.
_GROWING = frozenset(
    "full ones zeros randn rand randint arange linspace eye expand expand_as broadcast_to "
    "outer matmul mm bmm cat stack where one_hot pad __getitem__".split()
)
_META_DEVICE = frozenset(
    "full ones zeros randn rand randint arange linspace eye".split()
)  # constructors: given device="meta"


class Observer(Protocol):
    """What the graph side wants to know while a script runs."""

    def bound(self, name: str, value: Any) -> None: ...
    def produced(self, value: Any) -> None: ...
    def backward(self, tensor: torch.Tensor, arguments: dict[str, Any], line: int) -> None: ...


def check_arguments(args: tuple, kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        inner = value[:64] if isinstance(value, list | tuple) else ()
        for item in (value, *inner):
            if isinstance(item, Function | Method | Namespace | Builtin):
                raise ScriptError(f"{item!r} cannot be passed as an argument in explorer scripts")
    for key in kwargs:
        if key in tables.FORBIDDEN_KEYWORDS:
            raise ScriptError(f"the {key}= argument is not available in explorer scripts")


def call_torch(
    budget: Budget, name: str, target: Callable, args: tuple, kwargs: dict[str, Any]
) -> Any:
    """Call a torch function or tensor method `name` with its result size checked first."""
    short = name.rsplit(".", 1)[-1]
    _check_lists(budget, args, kwargs)
    if short == "tensor" and args:
        budget.check_elements(_nested_shape(args[0]), "tensor")
    elif short == "one_hot":
        _check_one_hot(budget, args, kwargs)
    elif short in _GROWING:
        _check_on_meta(budget, short, target, args, kwargs)
    if short in tables.TENSOR_TO_PYTHON and isinstance(
        getattr(target, "__self__", None), torch.Tensor
    ):
        budget.check_items(target.__self__.numel())
    try:
        result = target(*args, **kwargs)
    except ScriptError:
        raise
    except Exception as error:  # torch reports misuse with many exception types
        message, hint = explain_torch_error(error, name, args, kwargs)
        raise ScriptError(message, hint) from None
    account(budget, result)
    return result


def _check_lists(budget: Budget, args: tuple, kwargs: dict[str, Any]) -> None:
    """Lists given to torch: bounded in nested items and in how many tensors they hold."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, list | tuple):
            budget.check_nested(value, "this argument")
            tensors = sum(isinstance(v, torch.Tensor) for v in value)
            if tensors > budget.limits.max_tensor_list:
                raise ScriptError(
                    f"this list holds {tensors:,} tensors; at most "
                    f"{budget.limits.max_tensor_list:,} can be combined at once",
                    hint="combine fewer tensors, or make one larger tensor",
                )


def _check_one_hot(budget: Budget, args: tuple, kwargs: dict[str, Any]) -> None:
    """one_hot's width depends on the data when num_classes is not given: read it first."""
    labels = args[0] if args else kwargs.get("tensor")
    if not isinstance(labels, torch.Tensor) or labels.numel() == 0:
        return
    classes = kwargs.get("num_classes", args[1] if len(args) > 1 else -1)
    if not isinstance(classes, int) or classes < 0:
        classes = int(labels.max()) + 1
    budget.check_elements((*labels.shape, classes))


def account(budget: Budget, result: Any) -> None:
    """Charge new tensors to the run's budget (views share memory and are free)."""
    for tensor in _tensors(result):
        budget.check_elements(tuple(tensor.shape))
        if not tensor._is_view():
            budget.charge_bytes(tensor.numel() * tensor.element_size())


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list) and len(value) <= 64:
        return [v for v in value if isinstance(v, torch.Tensor)]
    return []


def _nested_shape(data: Any) -> tuple[int, ...]:
    """The shape torch.tensor would give nested lists, read from first elements only."""
    shape = []
    depth = 0
    while isinstance(data, list | tuple) and depth < 64:
        shape.append(len(data))
        if not data:
            break
        data = data[0]
        depth += 1
    return tuple(shape)


def _check_on_meta(
    budget: Budget, short: str, target: Callable, args: tuple, kwargs: dict[str, Any]
) -> None:
    try:
        if short in _META_DEVICE and not isinstance(
            getattr(target, "__self__", None), torch.Tensor
        ):
            result = target(*args, **{**kwargs, "device": "meta"})
        else:
            owner = getattr(target, "__self__", None)
            meta_args = tuple(_to_meta(a) for a in args)
            meta_kwargs = {k: _to_meta(v) for k, v in kwargs.items()}
            if isinstance(owner, torch.Tensor):
                result = getattr(_to_meta(owner), target.__name__)(*meta_args, **meta_kwargs)
            else:
                result = target(*meta_args, **meta_kwargs)
    except Exception:
        return  # the real call reports the mistake in its own words
    for tensor in _tensors(result):
        budget.check_elements(tuple(tensor.shape))


def _to_meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if isinstance(value, list | tuple) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_to_meta(v) for v in value)
    return value


def construct_module(budget: Budget, cls: type[nn.Module], args: tuple, kwargs: dict) -> nn.Module:
    """Build an nn layer after counting its parameters on the meta device."""
    inner = [a for a in (*args, *kwargs.values()) if isinstance(a, nn.Module)]
    nested = [m for a in (*args, *kwargs.values()) if isinstance(a, list | tuple) for m in a]
    try:
        if cls is nn.TransformerEncoder and inner:
            layers = int(kwargs.get("num_layers", args[1] if len(args) > 1 else 1))
            budget.check_modules(layers * _module_count(inner[0]))
            count = _parameter_count(inner[0]) * layers
        elif inner or cls in (nn.Sequential, nn.ModuleList):
            budget.check_modules(sum(_module_count(m) for m in [*inner, *nested][:100_000]))
            count = 0  # holds existing layers, makes no parameters of its own
        else:
            with torch.device("meta"):
                count = _parameter_count(cls(*args, **kwargs))
    except ScriptError:
        raise
    except Exception as error:
        message, hint = explain_torch_error(error, f"nn.{cls.__name__}", args, kwargs)
        raise ScriptError(message, hint) from None
    budget.check_parameters(count)
    budget.charge_bytes(count * 4)
    try:
        return cls(*args, **kwargs)
    except Exception as error:
        message, hint = explain_torch_error(error, f"nn.{cls.__name__}", args, kwargs)
        raise ScriptError(message, hint) from None


def _module_count(module: Any) -> int:
    return sum(1 for _ in module.modules()) if isinstance(module, nn.Module) else 0


def _parameter_count(module: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in module.parameters())


def is_module_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, nn.Module)
