"""Which module made each autograd node, recorded with forward hooks while a script runs."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

_PROBE = torch.zeros((), requires_grad=True)


def _next_sequence_nr() -> int:
    """The sequence number the next autograd node will get (a tiny probe node takes this one).

    PyTorch numbers nodes in creation order but does not expose the counter; probing costs
    one small node and leaves the relative order of the script's own nodes unchanged.
    """
    with torch.enable_grad():
        return (_PROBE * 1.0).grad_fn._sequence_nr() + 1


class ModuleTracker:
    """Forward hooks on every module call: nodes made inside get the module's dotted path."""

    def __init__(self) -> None:
        self.module_of: dict[int, str] = {}  # node sequence number -> module path
        self._paths: dict[int, tuple[str, nn.Module]] = {}  # the module keeps its id unique
        self._starts: list[int] = []
        self._handles: list[Any] = []

    def name(self, prefix: str, module: nn.Module) -> None:
        """Give module and its children paths under prefix (the first name a module gets)."""
        for path, child in module.named_modules(prefix=prefix):
            self._paths.setdefault(id(child), (path, child))

    def path(self, module: nn.Module) -> str:
        entry = self._paths.get(id(module))
        return entry[0] if entry is not None and entry[1] is module else type(module).__name__

    def __enter__(self) -> ModuleTracker:
        self._handles = [
            register_module_forward_pre_hook(self._before),
            register_module_forward_hook(self._after),
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._starts.clear()

    def _before(self, module: nn.Module, args: Any) -> None:
        self._starts.append(_next_sequence_nr() if torch.is_grad_enabled() else -1)

    def _after(self, module: nn.Module, args: Any, output: Any) -> None:
        start = self._starts.pop() if self._starts else -1
        if start < 0:
            return
        path = self.path(module)
        # Inner modules finish first, so a node keeps the innermost module that made it.
        stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
        seen: set[Any] = set()
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            sequence = node._sequence_nr()
            if sequence < start or sequence >= 2**63:  # made before this call, or a leaf
                continue
            self.module_of.setdefault(sequence, path)
            stack.extend(child for child, _ in node.next_functions)


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [v for item in value for v in _tensors(item)]
    return []
