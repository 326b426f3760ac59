"""torch.autograd.functional in scripts: Jacobians and Hessians of the script's own functions.

torch calls the function itself, as often as the result has values (one backward pass per
value, inside torch, not recorded as passes of the script), so the inputs are kept small and
the Jacobian's size is checked as soon as the function's first result shows it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.autograd import functional

from explorer.lang import calls
from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.functions import is_script_callable
from explorer.lang.hints import explain_torch_error, script_error

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter

MEMBERS = frozenset({"jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"})
TARGETS = {getattr(functional, name): name for name in MEMBERS}
MAX_INPUTS = 1_000  # values of the inputs, each a backward pass of a Hessian
# Options that hand the function to vmap or change how torch runs it: the defaults only.
_DEFAULTS = {
    "vectorize": False,
    "strategy": "reverse-mode",
    "outer_jacobian_strategy": "reverse-mode",
}


def call(interpreter: Interpreter, target: Callable, args: tuple, kwargs: dict) -> Any:
    """torch.autograd.functional.NAME(func, inputs, ...), func a function of the script."""
    name = TARGETS[target]
    try:
        bound = inspect.signature(target).bind(*args, **kwargs)
    except TypeError as error:
        raise ScriptError(f"{name}(): {error}", kind=TypeError) from None
    given = bound.arguments
    func, inputs = given.get("func"), given.get("inputs")
    if not (is_script_callable(func) or isinstance(func, nn.Module)):
        raise ScriptError(
            f"{name} takes a function the script defined, or a layer",
            hint=f"def f(x): return ...  then  {name}(f, x)",
        )
    for option, default in _DEFAULTS.items():
        if option in given and given[option] != default:
            raise ScriptError(f"the {option}= argument of {name} is not available")
    count = _input_values(inputs, name)
    budget = interpreter.budget
    calls.check_values([v for k, v in given.items() if k != "func"])
    checked = _checked(interpreter, func, count, name)
    try:
        result = target(checked, *list(given.values())[1:])
    except ScriptError:
        raise
    except Exception as error:
        message, hint = explain_torch_error(error, name, (), {})
        raise script_error(error, message, hint) from None
    calls.account(budget, result)
    return result


def _input_values(inputs: Any, name: str) -> int:
    tensors = inputs if isinstance(inputs, tuple | list) else (inputs,)
    if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise ScriptError(f"{name} takes a tensor or a tuple of tensors as inputs")
    count = sum(t.numel() for t in tensors)
    if count > MAX_INPUTS:
        raise LimitError(
            f"{name} of inputs with {count:,} values; the limit is {MAX_INPUTS:,}",
            hint="use smaller inputs: each value is a backward pass",
        )
    return count


def _checked(interpreter: Interpreter, func: Any, inputs: int, name: str) -> Callable:
    """func, whose result's size is checked before torch takes a backward pass per value."""
    budget = interpreter.budget

    def checked(*args: Any) -> Any:
        result = func(*args)
        outputs = result if isinstance(result, tuple) else (result,)
        values = sum(t.numel() for t in outputs if isinstance(t, torch.Tensor))
        if values > MAX_INPUTS:
            raise LimitError(
                f"{name} of a function with {values:,} values; the limit is {MAX_INPUTS:,}",
                hint="each value of the result is a backward pass",
            )
        budget.check_elements((values, inputs), "Jacobian")
        budget.charge_bytes(4 * math.prod((max(values, 1), max(inputs, 1))))
        return result

    return checked
