"""Calling what a script may call, with its size checked before any memory is used."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from explorer.lang import sizing, tables
from explorer.lang.errors import ScriptError
from explorer.lang.hints import explain_torch_error, script_error
from explorer.lang.limits import Budget
from explorer.lang.values import check_bound_names, check_values

if TYPE_CHECKING:
    from explorer.lang.autograd_calls import BackwardCall

# How a call is sized before it runs. Working a call out on the meta device costs far more
# than a small call itself (and its first use loads torch's decompositions), so it is kept
# for the calls that can grow. A call whose tensors (a layer's parameters among them) hold E
# elements in all makes no tensor over E * E: products, lookups and broadcasts of two
# operands cannot. Calls that grow past that are sized on meta whatever their inputs.
_GROWING = frozenset(
    "full ones zeros randn rand randint arange linspace eye expand expand_as broadcast_to "
    "one_hot pad".split()
)
_META_DEVICE = frozenset(
    "full ones zeros randn rand randint arange linspace eye".split()
)  # constructors: given device="meta"
# Padding, dilation, scale factors and output sizes are not in their parameters.
_GROWING_LAYERS = (nn.Conv1d, nn.Conv2d, *sizing.GROWING_LAYERS)
# Calls that make the broadcast shape of their tensors: that shape is checked, not run.
_ELEMENTWISE = frozenset(
    "add sub mul div maximum minimum pow where masked_fill clamp clamp_ max min type_as "
    "add_ sub_ mul_ div_ copy_ allclose equal mult floordiv mod lshift rshift bitand bitor "
    "bitxor".split()
)
# Calls that make at most what their one tensor holds (elementwise, reductions, views,
# conversions) when given no other tensor.
_BOUNDED = tables.TENSOR_TO_PYTHON | frozenset(
    "exp log log1p sin cos tan tanh sigmoid relu sqrt rsqrt abs neg square exp2 erf floor "
    "ceil round sign sum mean prod std var norm argmax argmin softmax log_softmax cumsum "
    "logsumexp reshape view t transpose squeeze unsqueeze flatten permute contiguous clone "
    "detach detach_ float double long int bool requires_grad_ retain_grad zero_ fill_ "
    "normal_ uniform_ size dim numel is_floating_point is_tensor manual_seed no_grad "
    "enable_grad is_grad_enabled set_grad_enabled tensor".split()
)
# The wider API's calls, by the same rules (sizing.py says which takes which).
_GROWING = _GROWING | sizing.GROWING
_META_DEVICE = _META_DEVICE | sizing.META_DEVICE
_ELEMENTWISE = _ELEMENTWISE | sizing.ELEMENTWISE
_BOUNDED = _BOUNDED | sizing.BOUNDED


class Observer(Protocol):
    """What the graph side wants to know while a script runs."""

    def bound(self, name: str, value: Any) -> None: ...
    def produced(self, value: Any) -> None: ...
    def backward_pass(self, call: BackwardCall, line: int) -> Any:
        """Run the pass (call.run()); what it recorded (a Pass), or None when nothing is kept."""


def call_torch(
    budget: Budget, name: str, target: Callable, args: tuple, kwargs: dict[str, Any]
) -> Any:
    """Call a torch function, tensor method or module `name` with its result size checked first.

    The call is first worked out on the meta device (shapes only, no memory), every operation
    inside it checked against the element limit, and the bytes it would make are charged to
    the run before the real call allocates them.
    """
    short = name.rsplit(".", 1)[-1]
    _check_lists(budget, args, kwargs)
    check_values([*args, *kwargs.values()])
    if short == "tensor" and args:
        budget.check_elements(_nested_shape(args[0]), "tensor")
    elif short == "one_hot":
        _check_one_hot(budget, args, kwargs)
    sizing.check_before(budget, name, short, target, args, kwargs)
    charged = _needs_meta(budget, short, target, args, kwargs) and _charge_on_meta(
        budget, short, target, args, kwargs
    )
    if short in tables.TENSOR_TO_PYTHON and isinstance(
        getattr(target, "__self__", None), torch.Tensor
    ):
        budget.charge_items(target.__self__.numel())  # Python numbers the script keeps
    try:
        result = target(*args, **kwargs)
    except ScriptError:
        raise
    except Exception as error:  # torch reports misuse with many exception types
        message, hint = explain_torch_error(error, name, args, kwargs)
        raise script_error(error, message, hint) from None
    account(budget, result, charged=charged)
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


def account(budget: Budget, result: Any, charged: bool = False) -> None:
    """Charge new tensors to the run's budget (views share memory and are free); charged: their
    bytes were charged before the call."""
    for tensor in _tensors(result):
        budget.check_elements(tuple(tensor.shape))
        if not charged and not tensor._is_view():
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


def _needs_meta(
    budget: Budget, short: str, target: Callable, args: tuple, kwargs: dict[str, Any]
) -> bool:
    """Whether a call must be sized on the meta device: see _GROWING."""
    owner = getattr(target, "__self__", None)
    inputs = [owner, *args, *kwargs.values()]
    if short in ("__getitem__", "__setitem__"):  # by tensors or lists: one row per index
        return any(isinstance(v, torch.Tensor | list) for v in _flat(args[0]))
    if short in _ELEMENTWISE:
        _check_broadcast(budget, inputs)
        return False
    if short in _GROWING or isinstance(target, _GROWING_LAYERS):
        return True
    if short in _BOUNDED and sum(isinstance(v, torch.Tensor) for v in inputs) <= 1:
        return False
    if isinstance(target, nn.Module) and _runs_script(target):
        return False  # sizing would run the script's own forward; each call in it is checked
    held = sum(_elements(v) for v in inputs)
    if isinstance(target, nn.Module):
        held += sum(t.numel() for t in (*target.parameters(), *target.buffers()))
    return held * held > budget.limits.max_elements


def _runs_script(module: nn.Module) -> bool:
    """Whether calling module runs a forward the script wrote (explorer/lang/classes.py)."""
    return any(hasattr(type(m), "_script_class") for m in module.modules())


def _elements(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, list | tuple):
        return sum(v.numel() for v in value if isinstance(v, torch.Tensor))
    return 0


_REMEMBERED = 10_000  # call sizes remembered in one run


def _flat(value: Any) -> list:
    return list(value) if isinstance(value, tuple) else [value]


def _charge_on_meta(
    budget: Budget, short: str, target: Callable, args: tuple, kwargs: dict[str, Any]
) -> bool:
    """Size the call on the meta device and charge its bytes; False if that cannot be done.

    Sizes are remembered by the shapes a call is given, so a loop (or the re-runs of a loss
    surface) pays once: a layer's in the run, as the layer is known only by its identity, and
    every other call's in the process.
    """
    key = _signature(short, target, args, kwargs)
    known = budget.meta_sizes if isinstance(target, nn.Module) else _SIZES
    size = known.get(key) if key is not None else None
    if size is None:
        sizer = _Sizer(budget)
        try:
            with torch.no_grad(), sizer:  # module hooks count no call made without grad
                _call_on_meta(short, target, args, kwargs)
        except ScriptError:
            raise
        except Exception:
            _check_broadcast(budget, [getattr(target, "__self__", None), *args, *kwargs.values()])
            return False  # the real call reports the mistake in its own words
        size = (sizer.nbytes, sizer.largest)
        if key is not None and len(known) < _REMEMBERED:
            known[key] = size
    budget.check_elements(size[1])  # a remembered size, against this run's limits
    budget.charge_bytes(size[0])
    return True


# What calls other than layers make, by _signature: (bytes, the shape of the largest tensor).
_SIZES: dict[Any, tuple[int, tuple[int, ...]]] = {}


class _Sizer(TorchDispatchMode):
    """Checks every operation a call makes on the meta device, and adds up what it makes."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget
        self.nbytes = 0
        self.largest: tuple[int, ...] = ()

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Else torch wraps __torch_dispatch__ to keep the compiler out, importing the compiler
        # (seconds) on first use; scripts never compile.
        return False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        returns = func._schema.returns
        for index, tensor in enumerate(tree_leaves(result)):
            if isinstance(tensor, torch.Tensor):
                shape = tuple(tensor.shape)
                self.budget.check_elements(shape)
                if math.prod(shape) > math.prod(self.largest):
                    self.largest = shape
                aliased = index < len(returns) and returns[index].alias_info is not None
                if not aliased:  # views and in-place results make no new memory
                    self.nbytes += tensor.numel() * tensor.element_size()
        return result


def _call_on_meta(short: str, target: Callable, args: tuple, kwargs: dict[str, Any]) -> Any:
    owner = getattr(target, "__self__", None)
    if isinstance(target, nn.Module):
        state = {
            name: _to_meta(tensor)
            for name, tensor in (
                *target.named_parameters(remove_duplicate=False),
                *target.named_buffers(remove_duplicate=False),
            )
        }
        meta_args = tuple(_to_meta(a) for a in args)
        meta_kwargs = {k: _to_meta(v) for k, v in kwargs.items()}
        return torch.func.functional_call(target, state, meta_args, meta_kwargs, strict=False)
    if short in _META_DEVICE and not isinstance(owner, torch.Tensor):
        # a CPU generator cannot make meta tensors; the sizes are the same without it
        kwargs = {k: v for k, v in kwargs.items() if k != "generator"}
        return target(*args, **{**kwargs, "device": "meta"})
    if short == "normal" and not any(isinstance(a, torch.Tensor) for a in args):
        kwargs = {k: v for k, v in kwargs.items() if k != "generator"}
        return target(*args, **{**kwargs, "device": "meta"})  # normal(mean, std, size=...)
    meta_args = tuple(_to_meta(a) for a in args)
    meta_kwargs = {k: _to_meta(v) for k, v in kwargs.items()}
    if isinstance(owner, torch.Tensor):
        return getattr(_to_meta(owner), target.__name__)(*meta_args, **meta_kwargs)
    return target(*meta_args, **meta_kwargs)


def _signature(short: str, target: Callable, args: tuple, kwargs: dict[str, Any]) -> Any:
    """What decides a call's sizes, as a key; None when it cannot be told cheaply."""
    owner = getattr(target, "__self__", None)
    if isinstance(target, nn.Module):
        shapes = (_shape_key(p) for p in target.parameters())
        head: Any = (id(target), target.training, *shapes)
    elif isinstance(owner, torch.Tensor):
        head = (short, _shape_key(owner))
    else:
        head = (short, target)
    parts = [head]
    for value in (*args, *sorted(kwargs.items())):
        part = _shape_key(value)
        if part is None:
            return None
        parts.append(part)
    return tuple(parts)


_PLAIN = (int, float, bool, str, type(None), torch.dtype, slice, type(Ellipsis))


def _shape_key(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.dtype, value.requires_grad)
    if isinstance(value, _PLAIN):
        return (type(value), repr(value))
    if isinstance(value, tuple | list) and len(value) <= 8:
        parts = tuple(_shape_key(v) for v in value)
        return None if None in parts else (type(value), parts)
    return None


def _check_broadcast(budget: Budget, values: list[Any]) -> None:
    """The common shape of a call's tensors, which elementwise calls make."""
    shapes = [tuple(v.shape) for v in values if isinstance(v, torch.Tensor)]
    if len(shapes) > 1:
        try:
            shape = torch.broadcast_shapes(*shapes)
        except RuntimeError:
            return  # the real call reports the mismatch
        budget.check_elements(tuple(shape))


def _to_meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if isinstance(value, list | tuple) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_to_meta(v) for v in value)
    return value


def construct_module(budget: Budget, cls: type[nn.Module], args: tuple, kwargs: dict) -> nn.Module:
    """Build an nn layer after counting its parameters on the meta device."""
    check_bound_names(cls, args, kwargs)
    inner = [a for a in (*args, *kwargs.values()) if isinstance(a, nn.Module)]
    try:
        if cls in (nn.TransformerEncoder, nn.TransformerDecoder) and inner:
            layers = int(kwargs.get("num_layers", args[1] if len(args) > 1 else 1))
            budget.check_modules(layers * _module_count(inner[0]))
            count = _parameter_count(inner[0]) * layers
        elif cls in _CONTAINERS:
            held = sizing.held_modules(args, kwargs)
            budget.check_modules(sum(_module_count(m) for m in held[:100_000]))
            count = 0  # holds existing layers, makes no parameters of its own
        else:
            sizing.check_layer_counts(budget, cls, args, kwargs)
            with torch.device("meta"):
                count = _parameter_count(cls(*args, **kwargs))
    except ScriptError:
        raise
    except Exception as error:
        message, hint = explain_torch_error(error, f"nn.{cls.__name__}", args, kwargs)
        raise script_error(error, message, hint) from None
    # After the layer count, which refuses a huge Sequential before its layers are walked.
    _check_lists(budget, args, kwargs)
    check_values([*args, *kwargs.values()])
    budget.check_parameters(count)
    budget.charge_bytes(count * 4)
    try:
        return cls(*args, **kwargs)
    except Exception as error:
        message, hint = explain_torch_error(error, f"nn.{cls.__name__}", args, kwargs)
        raise script_error(error, message, hint) from None


# Containers of existing layers and parameters.
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def _module_count(module: Any) -> int:
    return sum(1 for _ in module.modules()) if isinstance(module, nn.Module) else 0


def _parameter_count(module: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in module.parameters())


def is_module_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, nn.Module)
