"""Values a script holds beyond data (modules, functions, methods), attributes, what torch takes.

Attribute names in a script are only ever looked up in the allow-list tables; the real
object is then reached with the table's own string, never the script's text.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from explorer.lang import tables
from explorer.lang.builtins import Builtin
from explorer.lang.errors import Caught, ScriptError
from explorer.lang.hints import did_you_mean


@dataclass(frozen=True)
class Namespace:
    """torch, torch.nn, torch.nn.functional, torch.linalg, torch.nn.init or math: a module with
    allow-listed members."""

    path: str
    target: Any
    members: frozenset[str]

    def __repr__(self) -> str:
        return f"<module '{self.path}'>"


@dataclass(frozen=True)
class Function:
    """An allow-listed function: torch.X, F.X, nn.X (a class) or math.X."""

    qualname: str
    target: Any

    def __repr__(self) -> str:
        return repr(self.target)  # as Python shows it: <built-in method exp of type object...>

    @property
    def label(self) -> str:
        """The function as a message names it, without the address Python's repr carries."""
        return f"<function {self.qualname}>"


@dataclass(frozen=True)
class Method:
    """An allow-listed method bound to its object (a tensor, module, list or autograd node)."""

    owner: Any
    name: str

    def __repr__(self) -> str:
        return method_repr(self.owner, self.name)

    @property
    def label(self) -> str:
        """The method as a message names it, without the address Python's repr carries."""
        return f"<method {self.name} of {type(self.owner).__name__}>"


def method_repr(owner: Any, name: str) -> str:
    """Python's repr of owner.name. A method written in Python (tensor.backward) shows its
    tensor's repr: torch summarises a large tensor itself, but first converts a half-precision
    one to float32 whole, so such a tensor is shown here by its size alone."""
    bound = getattr(owner, name)
    if not isinstance(owner, torch.Tensor) or not inspect.ismethod(bound):
        return repr(bound)
    return f"<bound method {bound.__func__.__qualname__} of {_tensor_text(owner)}>"


_HALF = (torch.float16, torch.bfloat16)
_PRINTED = 1_000  # torch's own threshold: past it, a repr shows a summary


def _tensor_text(tensor: torch.Tensor) -> str:
    if tensor.numel() <= _PRINTED or tensor.dtype not in _HALF:
        return repr(tensor)
    grad = ", requires_grad=True" if tensor.requires_grad else ""
    return f"tensor(..., size={tuple(tensor.shape)}, dtype={tensor.dtype}{grad})"


TORCH = Namespace("torch", torch, tables.TORCH_MEMBERS)
NN = Namespace("torch.nn", nn, tables.NN_MEMBERS)
FUNCTIONAL = Namespace("torch.nn.functional", nn.functional, tables.FUNCTIONAL_MEMBERS)
MATH = Namespace("math", math, tables.MATH_MEMBERS)
LINALG = Namespace("torch.linalg", torch.linalg, tables.LINALG_MEMBERS)
INIT = Namespace("torch.nn.init", nn.init, tables.INIT_MEMBERS)
NAMESPACES = {
    "torch": TORCH, "torch.nn": NN, "torch.nn.functional": FUNCTIONAL, "math": MATH,
    "torch.linalg": LINALG, "torch.nn.init": INIT,
}  # fmt: skip
_SUBMODULES = {
    ("torch", "nn"): NN, ("torch.nn", "functional"): FUNCTIONAL, ("torch", "linalg"): LINALG,
    ("torch.nn", "init"): INIT,
}  # fmt: skip

AUTOGRAD = Namespace("torch.autograd", torch.autograd, tables.AUTOGRAD_MEMBERS)
NAMESPACES["torch.autograd"] = AUTOGRAD
_SUBMODULES[("torch", "autograd")] = AUTOGRAD
DERIVATIVES = Namespace(
    "torch.autograd.functional", torch.autograd.functional, tables.AUTOGRAD_FUNCTIONAL_MEMBERS
)
NAMESPACES["torch.autograd.functional"] = DERIVATIVES
_SUBMODULES[("torch.autograd", "functional")] = DERIVATIVES
OPTIM = Namespace("torch.optim", torch.optim, tables.OPTIM_MEMBERS)
LR_SCHEDULER = Namespace(
    "torch.optim.lr_scheduler", torch.optim.lr_scheduler, tables.LR_SCHEDULER_MEMBERS
)
NN_UTILS = Namespace("torch.nn.utils", nn.utils, tables.NN_UTILS_MEMBERS)
DATA = Namespace("torch.utils.data", torch.utils.data, tables.DATA_MEMBERS)
NAMESPACES.update({space.path: space for space in (OPTIM, LR_SCHEDULER, NN_UTILS, DATA)})
_SUBMODULES.update(
    {("torch", "optim"): OPTIM, ("torch.optim", "lr_scheduler"): LR_SCHEDULER,
     ("torch.nn", "utils"): NN_UTILS}
)  # fmt: skip

GRAD_MODES = (torch.no_grad, torch.enable_grad, torch.set_grad_enabled)


def is_node(value: Any) -> bool:
    return isinstance(value, torch.autograd.graph.Node)


def get_attribute(value: Any, name: str) -> Any:
    """value.name for a script, or ScriptError when the language does not offer it."""
    if isinstance(value, Namespace):
        return _namespace_member(value, name)
    if isinstance(value, torch.Tensor):
        return _tensor_attribute(value, name)
    if isinstance(value, nn.Module):
        return _module_attribute(value, name)
    if is_node(value):
        if name not in tables.NODE_ATTRIBUTES:
            raise _missing(f"{type(value).__name__}", name, tables.NODE_ATTRIBUTES)
        if name == "name":
            return Method(value, name)
        if name == "variable" and not hasattr(value, "variable"):
            raise ScriptError(f"{type(value).__name__} has no attribute variable")
        return getattr(value, _table_name(tables.NODE_ATTRIBUTES, name))
    for kind, names in _CONTAINER_METHODS.items():
        if isinstance(value, kind) and name in names:
            return Method(value, name)
    if isinstance(value, RemovableHandle) and name == "remove":
        return Method(value, name)
    if isinstance(value, torch.Generator) and name in tables.GENERATOR_METHODS:
        return Method(value, name)
    if isinstance(value, Caught) and name == "args":
        return (str(value),)  # a caught error's arguments, as the plain text they are
    if _is_structseq(value) and name in _result_fields(value):
        return value[_result_fields(value).index(name)]
    from explorer.lang import training  # it builds on this module

    if training.owns(value):
        return training.attribute(value, name)
    raise ScriptError(
        f"{_type_name(value)} has no attribute {name} in explorer scripts", kind=AttributeError
    )


_CONTAINER_METHODS = {
    list: tables.LIST_METHODS, dict: tables.DICT_METHODS, set: tables.SET_METHODS,
    str: tables.STR_METHODS,
}  # fmt: skip


def _type_name(value: Any) -> str:
    if isinstance(value, Function | Method):
        return value.label
    if isinstance(value, Namespace):
        return value.path
    return type(value).__name__


def _is_structseq(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "n_fields")


def _result_fields(value: Any) -> tuple[str, ...]:
    """The named fields of a result of torch (values, indices; U, S, Vh...)."""
    return tuple(getattr(type(value), "__match_args__", ("values", "indices")))


_OWN_NAMES = {
    name: name
    for table in (
        tables.TORCH_MEMBERS, tables.NN_MEMBERS, tables.FUNCTIONAL_MEMBERS, tables.MATH_MEMBERS,
        tables.TENSOR_ATTRIBUTES, tables.TENSOR_METHODS, tables.NODE_ATTRIBUTES,
        tables.MODULE_ATTRIBUTES, tables.AUTOGRAD_MEMBERS, tables.AUTOGRAD_FUNCTIONAL_MEMBERS,
        tables.LINALG_MEMBERS, tables.INIT_MEMBERS, tables.OPTIM_MEMBERS,
        tables.LR_SCHEDULER_MEMBERS, tables.NN_UTILS_MEMBERS, tables.DATA_MEMBERS,
    )
    for name in table
}  # fmt: skip


def _table_name(table: frozenset[str], name: str) -> str:
    """The table's own copy of a name already found in table: no script text reaches getattr."""
    return _OWN_NAMES[name]


def _namespace_member(space: Namespace, name: str) -> Any:
    if name not in space.members:
        raise _missing(space.path, name, space.members, real=hasattr(space.target, name))
    if (space.path, name) in _SUBMODULES:
        return _SUBMODULES[(space.path, name)]
    member = getattr(space.target, _table_name(space.members, name))
    if callable(member):
        return Function(f"{space.path}.{name}", member)
    return member  # dtypes and constants such as math.pi


def _tensor_attribute(tensor: torch.Tensor, name: str) -> Any:
    if name in tables.TENSOR_METHODS:
        return Method(tensor, name)
    if name in tables.TENSOR_ATTRIBUTES:
        return getattr(tensor, _table_name(tables.TENSOR_ATTRIBUTES, name))
    known = tables.TENSOR_METHODS | tables.TENSOR_ATTRIBUTES
    raise _missing("tensor", name, known, real=hasattr(torch.Tensor, name))


def _module_attribute(module: nn.Module, name: str) -> Any:
    # Parameters, buffers and submodules live in the module's own dicts: look them up there.
    for store in (module._parameters, module._buffers, module._modules):
        if name in store:
            return store[name]
    if name in tables.MODULE_METHODS:
        return Method(module, name)
    if name in tables.MODULE_ATTRIBUTES and hasattr(module, name):
        return getattr(module, _table_name(tables.MODULE_ATTRIBUTES, name))
    known = set(module._parameters) | set(module._modules) | tables.MODULE_METHODS
    raise _missing(type(module).__name__, name, known, real=hasattr(module, name))


def _missing(owner: str, name: str, known: Any, real: bool = False) -> ScriptError:
    if real:
        hint = tables.REFUSED_HINTS.get(name, "")
        return ScriptError(f"{owner}.{name} is not available in explorer scripts", hint=hint)
    hint = did_you_mean(name, known)
    return ScriptError(f"{owner} has no attribute {name}", hint=hint, kind=AttributeError)


def set_attribute(target: Any, name: str, value: Any) -> None:
    """target.name = value: only .grad, .requires_grad and .data of tensors."""
    if isinstance(target, torch.Tensor) and name in tables.TENSOR_SETTABLE:
        setattr(target, _table_name(tables.TENSOR_SETTABLE, name), value)
        return
    raise ScriptError(f"setting {_type_name(target)}.{name} is not available in explorer scripts")


# -- what torch may be given -------------------------------------------------------------

_ACTIVATIONS = frozenset(
    [getattr(nn.functional, n) for n in tables.ACTIVATIONS & tables.FUNCTIONAL_MEMBERS]
    + [getattr(torch, n) for n in tables.ACTIVATIONS & tables.TORCH_MEMBERS]
)  # the real functions: torch may call them with whatever it likes


def is_activation(value: Any) -> bool:
    return isinstance(value, Function) and value.target in _ACTIVATIONS


def check_arguments(args: tuple, kwargs: dict[str, Any]) -> None:
    """Any call: no wrapper of torch or of a builtin as an argument, and no forbidden keyword."""
    for value in (*args, *kwargs.values()):
        inner = value[:64] if isinstance(value, list | tuple) else ()
        for item in (value, *inner):
            if isinstance(item, Function | Method | Namespace | Builtin) and not is_activation(
                item
            ):
                raise ScriptError(
                    f"{_label(item)} cannot be passed as an argument in explorer scripts"
                )
    for key in kwargs:
        if key in tables.FORBIDDEN_KEYWORDS:
            raise ScriptError(f"the {key}= argument is not available in explorer scripts")


def unwrap_arguments(args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """Arguments as torch takes them: an allowed activation given as F.X is the real function."""
    return tuple(_unwrap(a) for a in args), {k: _unwrap(v) for k, v in kwargs.items()}


def _unwrap(value: Any) -> Any:
    if is_activation(value):
        return value.target
    if isinstance(value, list | tuple) and any(isinstance(v, Function) for v in value):
        return type(value)(_unwrap(v) for v in value)
    return value


def check_values(values: list[Any], devices: bool = True) -> None:
    """Refuse what torch must never be given, at any depth of lists: a device, or anything it
    could call that is not a module or an allowed activation (an autograd node called with a
    gradient of the wrong size reads out of bounds). A list met again is not walked again, so
    shared and self-holding lists end the walk."""
    stack = list(values)
    walked: set[int] = set()
    while stack:
        value = stack.pop()
        if type(value) in (int, float, bool, torch.Tensor) or value is None:
            continue
        if isinstance(value, list | tuple):
            if id(value) not in walked:
                walked.add(id(value))
                stack.extend(value)
        elif isinstance(value, dict):
            stack.extend((*value.keys(), *value.values()))
        elif isinstance(value, set | frozenset):
            stack.extend(value)
        elif devices and _is_device(value):
            raise ScriptError(
                f"a device ({value!s}) cannot be given in explorer scripts",
                hint="tensors stay on the CPU",
            )
        elif _is_foreign(value):
            raise ScriptError(
                f"{_describe_value(value)} cannot be passed as an argument in explorer scripts"
            )


def _is_device(value: Any) -> bool:
    if isinstance(value, torch.device):
        return True
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        torch.device(value)
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


def _is_foreign(value: Any) -> bool:
    if isinstance(value, Function | Method | Namespace | Builtin):
        return not is_activation(value)
    return callable(value) and not isinstance(value, nn.Module) and value not in _ACTIVATIONS


def _describe_value(value: Any) -> str:
    if isinstance(value, torch.autograd.graph.Node):
        return f"the autograd node {value.name()}"
    if isinstance(value, Function | Method | Namespace | Builtin):
        return _label(value)
    return f"a {type(value).__name__}"


def _label(value: Any) -> str:
    """How a message names a value of the language."""
    return value.label if isinstance(value, Function | Method) else repr(value)


def check_bound_names(cls: type[nn.Module], args: tuple, kwargs: dict) -> None:
    """The keyword bans hold for arguments given by position too: nn.Linear(2, 2, True, d)."""
    if len(args) + len(kwargs) > 32:
        return  # the layers a Sequential holds, counted before they are walked
    try:
        bound = inspect.signature(cls).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return  # the real call reports a wrong argument
    for name, parameter in bound.signature.parameters.items():
        given = bound.arguments.get(name)
        names = given if parameter.kind is parameter.VAR_KEYWORD else {name: given}
        for key in names if name in bound.arguments else ():
            if key in tables.FORBIDDEN_KEYWORDS:
                raise ScriptError(f"the {key}= argument is not available in explorer scripts")
