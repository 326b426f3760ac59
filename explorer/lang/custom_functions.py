"""A script's own autograd functions: `class Exp(torch.autograd.Function)` with static
forward and backward, applied as `Exp.apply(x)`.

The class becomes a real subclass of torch.autograd.Function, whose forward, backward (and
setup_context, when the script writes one) hand the call to the script's methods, so the
engine runs the script's backward as a node of the graph like any other. The context `ctx`
offers what these methods use: save_for_backward, saved_tensors, needs_input_grad,
mark_dirty, mark_non_differentiable, set_materialize_grads, and fields of the script's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch.autograd.function import BackwardCFunction

from explorer.lang import calls
from explorer.lang.errors import ScriptError
from explorer.lang.hints import explain_torch_error, script_error
from explorer.lang.values import Method, check_values

if TYPE_CHECKING:
    from explorer.lang.classes import ScriptClass
    from explorer.lang.limits import Budget

CTX_METHODS = frozenset(
    "save_for_backward mark_dirty mark_non_differentiable set_materialize_grads".split()
)
CTX_ATTRIBUTES = frozenset({"saved_tensors", "needs_input_grad"})
_OWN = {name: name for name in CTX_METHODS | CTX_ATTRIBUTES}  # no script text reaches getattr
_FIELDS = "_script_fields"


def function_type(cls: ScriptClass) -> type[torch.autograd.Function]:
    """The real autograd.Function for a script class whose body has run."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        return _method(cls, "forward")(*args, **kwargs)

    def backward(ctx: Any, *grads: Any) -> Any:
        return _method(cls, "backward")(ctx, *grads)

    body: dict[str, Any] = {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__module__": "__main__",
        "__qualname__": cls.name,
    }
    if "setup_context" in cls.namespace:

        def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
            return _method(cls, "setup_context")(ctx, inputs, output)

        body["setup_context"] = staticmethod(setup_context)
    return type(cls.name, (torch.autograd.Function,), body)


def _method(cls: ScriptClass, name: str) -> Any:
    from explorer.lang.functions import ScriptFunction  # it imports the values we use

    method = cls.lookup(name)
    if not isinstance(method, ScriptFunction):
        raise ScriptError(
            f"{cls.name} has no {name}",
            hint=f"@staticmethod\\ndef {name}(ctx, ...): in the class",
        )
    return method


@dataclass(frozen=True)
class Apply:
    """Exp.apply: the engine's entry to the script's function, given tensors and numbers."""

    function: type[torch.autograd.Function]
    budget: Budget

    def __repr__(self) -> str:
        return f"<built-in method apply of FunctionMeta object at {id(self.function):#x}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        check_values([*args, *kwargs.values()])
        try:
            result = self.function.apply(*args, **kwargs)
        except ScriptError:
            raise
        except Exception as error:
            message, hint = explain_torch_error(error, "apply", args, kwargs)
            raise script_error(error, message, hint) from None
        calls.account(self.budget, result)
        return result


def is_context(value: Any) -> bool:
    return isinstance(value, BackwardCFunction)


def context_attribute(ctx: Any, name: str) -> Any:
    """ctx.name in a script's forward or backward; None when it is not the context's."""
    if name in vars(ctx).get(_FIELDS, ()):
        return vars(ctx)[name]
    if name in CTX_METHODS:
        return Method(ctx, name)
    if name in CTX_ATTRIBUTES:
        return getattr(ctx, _OWN[name])
    return None


def call_context_method(ctx: Any, name: str, args: tuple, kwargs: dict) -> Any:
    check_values([*args, *kwargs.values()])
    return getattr(ctx, _OWN[name])(*args, **kwargs)


def set_context_field(ctx: Any, name: str, value: Any) -> None:
    """ctx.scale = 2.0: a field of the script's own, never one torch keeps there."""
    fields = vars(ctx).setdefault(_FIELDS, set())
    if name not in fields and (hasattr(type(ctx), name) or name in vars(ctx)):
        raise ScriptError(f"setting ctx.{name} is not available in explorer scripts")
    setattr(ctx, name, value)
    fields.add(name)
