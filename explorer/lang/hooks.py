"""Hooks a script registers with its own functions: on tensors' gradients and on layers' calls.

torch calls the hook while the forward or backward pass runs; the hook is a script function,
so what runs is the script's own code, interpreted, with whatever torch hands it (tensors,
tuples of them, the layer). Nothing else a script holds may be handed to torch to call.
"""

from __future__ import annotations

from typing import Any

from torch.utils.hooks import RemovableHandle

from explorer.lang.errors import ScriptError
from explorer.lang.functions import is_script_callable

TENSOR_HOOKS = frozenset({"register_hook", "register_post_accumulate_grad_hook"})
MODULE_HOOKS = frozenset(
    {
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
    }
)
_OPTIONS = frozenset({"prepend"})  # a keyword that only orders hooks


def register(owner: Any, name: str, args: tuple, kwargs: dict) -> RemovableHandle:
    """owner.name(hook): the hook a function the script defined; its handle can remove it."""
    if len(args) != 1 or not is_script_callable(args[0]):
        raise ScriptError(
            f"{name} takes one function the script defined",
            hint=f"def hook(grad): ...  then  x.{name}(hook), or a lambda",
        )
    unknown = set(kwargs) - _OPTIONS
    if unknown or not all(isinstance(v, bool) for v in kwargs.values()):
        raise ScriptError(f"{name} takes the hook and prepend=True or False, nothing else")
    return getattr(owner, _REAL[name])(args[0], **kwargs)


_REAL = {name: name for name in TENSOR_HOOKS | MODULE_HOOKS}  # no script text reaches getattr


def is_handle(value: Any) -> bool:
    return isinstance(value, RemovableHandle)
