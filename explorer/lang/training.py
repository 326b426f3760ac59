"""Training loops in scripts: optimizers, learning-rate schedules, gradient clipping, batches.

Scripts hold the real schedulers, datasets and clipping results, and an optimizer or a loader
in a small wrapper that keeps the run's budget. What each offers is in tables.py; what an
optimizer is given and holds (its parameter groups, which a script may change) is plain data,
checked before every call that reads it.
"""

from __future__ import annotations

import inspect
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from torch.utils.data import Subset, TensorDataset

from explorer.lang import batches, calls, tables
from explorer.lang.batches import Batches, Loader
from explorer.lang.containers import describe
from explorer.lang.errors import ScriptError
from explorer.lang.functions import is_script_callable
from explorer.lang.hints import did_you_mean, explain_torch_error, script_error
from explorer.lang.limits import Budget
from explorer.lang.values import Function, Method, check_values

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter

SCHEDULERS = (LRScheduler, ReduceLROnPlateau)
# Optimizer flags for other devices or for differentiating through a step: refused when on.
# foreach= stays: on the CPU it runs the same update with list kernels, under no_grad.
_REFUSED_FLAGS = frozenset({"fused", "capturable", "differentiable"})
_PLAIN = (bool, int, float, str, type(None))
# The keys of an optimizer's parameter groups: names torch gives them, never devices.
_GROUP_KEYS = frozenset(
    "params lr momentum dampening weight_decay nesterov maximize foreach differentiable fused "
    "betas eps amsgrad capturable decoupled_weight_decay alpha centered lr_decay "
    "initial_accumulator_value rho momentum_decay initial_lr max_lr min_lr base_momentum "
    "max_momentum".split()
)


@dataclass(eq=False)
class Optimizer:
    """An optimizer a script made, and how many of its parameters' states the run has paid."""

    target: torch.optim.Optimizer
    budget: Budget
    charged: int = 0

    def __repr__(self) -> str:
        return repr(self.target)


def owns(value: Any) -> bool:
    """Whether value is one of this module's: its attributes and methods are looked up here."""
    return isinstance(value, (Optimizer, Loader, Batches, TensorDataset, Subset, *SCHEDULERS))


# -- attributes -----------------------------------------------------------------------------

_OWN_NAMES = {
    name: name
    for table in (
        tables.OPTIMIZER_ATTRIBUTES, tables.SCHEDULER_ATTRIBUTES, tables.LOADER_ATTRIBUTES,
        tables.DATASET_ATTRIBUTES,
    )
    for name in table
}  # fmt: skip


def attribute(value: Any, name: str) -> Any:
    """value.name for an optimizer, scheduler, loader or dataset."""
    if isinstance(value, Optimizer):
        return _optimizer_attribute(value, name)
    if isinstance(value, SCHEDULERS):
        return _offered(value, name, tables.SCHEDULER_METHODS, tables.SCHEDULER_ATTRIBUTES)
    if isinstance(value, Loader):
        return _offered(value.target, name, frozenset(), tables.LOADER_ATTRIBUTES)
    attributes = {"tensors"} if isinstance(value, TensorDataset) else {"dataset"}
    return _offered(value, name, frozenset(), frozenset(attributes) & tables.DATASET_ATTRIBUTES)


def _offered(value: Any, name: str, methods: frozenset[str], attributes: frozenset[str]) -> Any:
    if name in methods:
        return Method(value, name)
    if name in attributes:
        return getattr(value, _OWN_NAMES[name])
    owner = type(value).__name__
    if hasattr(value, name):
        raise ScriptError(f"{owner}.{name} is not available in explorer scripts")
    hint = did_you_mean(name, methods | attributes)
    raise ScriptError(f"{owner} has no attribute {name}", hint=hint, kind=AttributeError)


def _optimizer_attribute(optimizer: Optimizer, name: str) -> Any:
    if name in tables.OPTIMIZER_METHODS:
        return Method(optimizer, name)
    target = optimizer.target
    if name == "param_groups":
        _check_groups(optimizer)
        return target.param_groups  # the real list: a script sets g["lr"] in it
    if name == "state":
        # A copy: reading a missing parameter of the real defaultdict would add it.
        optimizer.budget.charge_items(len(target.state))
        return defaultdict(dict, {p: dict(s) for p, s in target.state.items()})
    return _offered(target, name, frozenset(), tables.OPTIMIZER_ATTRIBUTES)


# -- plain data -----------------------------------------------------------------------------


def _check_plain(budget: Budget, value: Any, what: str) -> None:
    """value holds only numbers, strings, tensors and lists, tuples and dicts of those, and
    no string that names a device."""
    budget.check_nested(value, what)  # bounded in size and depth before the walk
    stack, texts = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(k for k in item if not (type(k) is str and k in _GROUP_KEYS))
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif type(item) is str:
            texts.append(item)
        elif not isinstance(item, torch.Tensor) and type(item) not in _PLAIN:
            raise ScriptError(
                f"{what} holds {describe(item)}, which an optimizer cannot hold in "
                "explorer scripts",
                hint="parameter groups hold tensors, numbers and tuples of numbers",
            )
    check_values(texts)


def _check_group(budget: Budget, group: Any) -> None:
    if not isinstance(group, dict):
        raise ScriptError("a parameter group is a dict", hint='{"params": [w, b], "lr": 0.1}')
    _check_plain(budget, group, "this parameter group")
    for flag in _REFUSED_FLAGS:
        if group.get(flag):
            raise _flag_error(flag)


def _check_groups(optimizer: Optimizer) -> None:
    groups = optimizer.target.param_groups
    if not isinstance(groups, list):
        raise ScriptError("the optimizer's param_groups must stay a list")
    optimizer.budget.check_nested(groups, "param_groups")
    for group in groups:
        _check_group(optimizer.budget, group)


def _flag_error(flag: str) -> ScriptError:
    return ScriptError(
        f"the {flag}= argument of an optimizer is not available in explorer scripts",
        hint="optimizers run their plain update on the CPU",
    )


# -- calls ----------------------------------------------------------------------------------


def makes(target: Any) -> bool:
    """Whether calling target is this module's work."""
    return target in _MAKERS


def construct(interpreter: Interpreter, function: Function, args: tuple, kwargs: dict) -> Any:
    """Call an optimizer or scheduler class, a clipping function, or a data helper."""
    return _MAKERS[function.target](interpreter.budget, function, args, kwargs)


def _optimizer(budget: Budget, function: Function, args: tuple, kwargs: dict) -> Optimizer:
    name = function.qualname.rsplit(".", 1)[-1]
    try:
        given = inspect.signature(function.target).bind(*args, **kwargs).arguments
    except TypeError as error:
        hint = f"{name}(model.parameters(), lr=0.1)"
        raise ScriptError(f"{name}: {error}", hint=hint) from None
    for flag in _REFUSED_FLAGS & given.keys():
        if given[flag]:
            raise _flag_error(flag)
    params = given.get("params")
    if isinstance(params, torch.Tensor) or not isinstance(params, list | tuple):
        raise ScriptError(
            f"{name} takes a list of tensors or of parameter groups (dicts)",
            hint=f"{name}(model.parameters(), lr=0.1)",
        )
    budget.check_nested(params, "this list of parameters")
    for part in params:
        if isinstance(part, dict):
            _check_group(budget, part)
    _check_plain(budget, [*args, *kwargs.values()], f"the arguments of {name}")
    optimizer = Optimizer(_run(function.target, args, kwargs, name), budget)
    _charge_states(optimizer)  # Adagrad makes its state at once
    return optimizer


def _charge_states(optimizer: Optimizer) -> None:
    """Charge the tensors of parameters' states made since the last charge: an optimizer
    keeps one to three tensors the size of each parameter, made at its first step."""
    state = optimizer.target.state
    if len(state) == optimizer.charged:
        return
    new = itertools.islice(state.values(), optimizer.charged, None)
    nbytes = sum(
        t.numel() * t.element_size() for s in new for t in s.values() if isinstance(t, torch.Tensor)
    )
    optimizer.charged = len(state)
    optimizer.budget.charge_bytes(nbytes)


def _scheduler(budget: Budget, function: Function, args: tuple, kwargs: dict) -> Any:
    name = function.qualname.rsplit(".", 1)[-1]
    optimizer = args[0] if args else kwargs.get("optimizer")
    if not isinstance(optimizer, Optimizer):
        raise ScriptError(
            f"{name} takes an optimizer made by torch.optim first",
            hint=f"{name}(torch.optim.SGD(model.parameters(), lr=0.1), ...)",
        )
    _check_groups(optimizer)
    rest = {k: v for k, v in kwargs.items() if k != "optimizer"}
    args = args[:1] + _scheduling_functions(name, args[1:2]) + args[2:]
    if "lr_lambda" in rest:
        rest["lr_lambda"] = _scheduling_functions(name, (rest["lr_lambda"],))[0]
    plain = [*args[1:], *rest.values()]
    _check_plain(budget, [v for v in plain if not _is_schedule(v)], f"the arguments of {name}")
    return _run(function.target, (optimizer.target, *args[1:]), rest, name)


_FUNCTION_SCHEDULES = frozenset({"LambdaLR", "MultiplicativeLR"})


def _scheduling_functions(name: str, given: tuple) -> tuple:
    """LambdaLR's and MultiplicativeLR's lr_lambda: a function of the script (or a list of
    them, one per group), which torch calls with the epoch; nothing else is called."""
    if name not in _FUNCTION_SCHEDULES or not given:
        return given
    value = given[0]
    functions = value if isinstance(value, list | tuple) else [value]
    if not functions or not all(is_script_callable(f) for f in functions):
        raise ScriptError(
            f"{name} takes a function the script defined, of the epoch",
            hint=f"{name}(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)",
        )
    return given


def _is_schedule(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return bool(value) and all(is_script_callable(v) for v in value)
    return is_script_callable(value)


def _clip(budget: Budget, function: Function, args: tuple, kwargs: dict) -> Any:
    name = function.qualname.rsplit(".", 1)[-1]
    params = args[0] if args else kwargs.get("parameters")
    tensors = [params] if isinstance(params, torch.Tensor) else params
    if not isinstance(tensors, list | tuple) or not all(
        isinstance(t, torch.Tensor) for t in tensors
    ):
        raise ScriptError(
            f"{name} takes a tensor or a list of tensors", hint=f"{name}(model.parameters(), 1.0)"
        )
    _check_plain(budget, [*args, *kwargs.values()], f"the arguments of {name}")
    charged = function.target is torch.nn.utils.parameters_to_vector
    if charged:  # one new tensor of every parameter's elements: counted before it is made
        total = sum(t.numel() for t in tensors)
        budget.check_elements((total,))
        budget.charge_bytes(sum(t.numel() * t.element_size() for t in tensors))
    result = _run(function.target, args, kwargs, name)
    calls.account(budget, result, charged=charged)
    return result


def _data(budget: Budget, function: Function, args: tuple, kwargs: dict) -> Any:
    if function.target is TensorDataset:
        return batches.tensor_dataset(args, kwargs)
    if function.target is torch.utils.data.random_split:
        return batches.split(budget, args, kwargs)
    return batches.data_loader(budget, args, kwargs)


def call_method(interpreter: Interpreter, method: Method, args: tuple, kwargs: dict) -> Any:
    """A method of an optimizer or a scheduler."""
    owner, name = method.owner, method.name
    if isinstance(owner, Optimizer):
        _check_groups(owner)
        return _OPTIMIZER_METHODS[name](owner, args, kwargs)
    optimizer = owner.optimizer
    if name == "get_last_lr":
        _no_arguments(name, args, kwargs)
        return owner.get_last_lr()
    step_arguments = list(args) + list(kwargs.values())
    if len(step_arguments) > 1 or not all(_is_number(v) for v in step_arguments):
        raise ScriptError(
            "a scheduler's step() takes nothing, or one number (the loss, for ReduceLROnPlateau)"
        )
    for group in optimizer.param_groups:
        _check_group(interpreter.budget, group)
    return _run(owner.step, args, kwargs, "step")


def _is_number(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return type(value) in (int, float)


def _no_arguments(name: str, args: tuple, kwargs: dict) -> None:
    if args or kwargs:
        raise ScriptError(f"{name}() takes no arguments in explorer scripts")


def _step(optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
    if args or kwargs:
        raise ScriptError(
            "an optimizer's step() takes no closure in explorer scripts",
            hint="call loss.backward() and then opt.step()",
        )
    _run(optimizer.target.step, (), {}, "step")
    _charge_states(optimizer)


def _zero_grad(optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
    if any(type(v) is not bool for v in (*args, *kwargs.values())):
        raise ScriptError("zero_grad takes set_to_none=True or False")
    _run(optimizer.target.zero_grad, args, kwargs, "zero_grad")


def _add_param_group(optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
    if len(args) != 1 or kwargs:
        hint = 'opt.add_param_group({"params": [w], "lr": 0.01})'
        raise ScriptError("add_param_group takes one dict", hint=hint)
    _check_group(optimizer.budget, args[0])
    _run(optimizer.target.add_param_group, args, {}, "add_param_group")
    _charge_states(optimizer)


def _state_dict(optimizer: Optimizer, args: tuple, kwargs: dict) -> dict:
    _no_arguments("state_dict", args, kwargs)
    state = _run(optimizer.target.state_dict, (), {}, "state_dict")
    optimizer.budget.charge_items(len(state["state"]) + len(state["param_groups"]))
    return state


_OPTIMIZER_METHODS: dict[str, Callable[[Optimizer, tuple, dict], Any]] = {
    "step": _step,
    "zero_grad": _zero_grad,
    "add_param_group": _add_param_group,
    "state_dict": _state_dict,
}


def _run(target: Callable, args: tuple, kwargs: dict, name: str) -> Any:
    try:
        return target(*args, **kwargs)
    except ScriptError:
        raise
    except Exception as error:  # torch reports misuse with many exception types
        message, hint = explain_torch_error(error, name, args, kwargs)
        raise script_error(error, message, hint) from None


_MAKERS: dict[Any, Callable[[Budget, Function, tuple, dict], Any]] = {
    **{getattr(torch.optim, name): _optimizer for name in tables.OPTIMIZERS},
    **{getattr(torch.optim.lr_scheduler, n): _scheduler for n in tables.LR_SCHEDULER_MEMBERS},
    torch.nn.utils.clip_grad_norm_: _clip,
    torch.nn.utils.clip_grad_value_: _clip,
    torch.nn.utils.parameters_to_vector: _clip,
    TensorDataset: _data,
    torch.utils.data.DataLoader: _data,
    torch.utils.data.random_split: _data,
}
