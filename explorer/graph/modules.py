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
# PyTorch's own counter of autograd nodes (private: a probe node stands in where it is absent)
_PEEK = getattr(torch._C._autograd, "_get_sequence_nr", None)


def _next_sequence_nr() -> int:
    """The sequence number the next autograd node will get.

    PyTorch numbers nodes in creation order; where it does not let the counter be read, a tiny
    probe node takes a number, which leaves the relative order of the script's nodes unchanged.
    Reading it is 600 times faster than a probe: an unrolled loop makes thousands of calls.
    """
    if _PEEK is not None:
        return _PEEK()
    with torch.enable_grad():
        return (_PROBE * 1.0).grad_fn._sequence_nr() + 1


class ModuleTracker:
    """Forward hooks on every module call: nodes made inside get the calls they were made in.

    A call is named by the module's dotted path, with `#n` added for its n-th call after the
    first (`cell`, `cell#1`, ...), so each step of an unrolled loop is a group of its own.
    """

    def __init__(self) -> None:
        # node sequence number -> the calls open when it was made, outermost first
        self.calls_of: dict[int, tuple[str, ...]] = {}
        self._paths: dict[int, tuple[str, nn.Module]] = {}  # the module keeps its id unique
        self._call_counts: dict[str, int] = {}
        self._open: list[tuple[int, str]] = []  # (first sequence number, call name) per call
        # while the run lasts: node sequence number -> the first of the call that claimed it,
        # and per finished call (by its first), the nodes it reached that were made before it
        self._claimed: dict[int, int] = {}
        self._frontiers: dict[int, list[Any]] = {}
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
        self._open.clear()
        self._claimed.clear()
        self._frontiers.clear()  # it holds autograd nodes: let them go with the graph

    def _before(self, module: nn.Module, args: Any) -> None:
        if not torch.is_grad_enabled():
            self._open.append((-1, ""))
            return
        path = self.path(module)
        count = self._call_counts.get(path, 0)
        self._call_counts[path] = count + 1
        self._open.append((_next_sequence_nr(), f"{path}#{count}" if count else path))

    def _after(self, module: nn.Module, args: Any, output: Any) -> None:
        scope = tuple(call for start, call in self._open if start >= 0)  # one tuple per call
        start = self._open.pop()[0] if self._open else -1
        if start < 0:
            return
        # Inner modules finish first, so a node keeps the innermost module that made it. A
        # node an inner call claimed is not walked through again: the walk goes on from what
        # that call reached made before it, so an unrolled loop is walked once, not per level.
        calls_of, claimed, frontiers = self.calls_of, self._claimed, self._frontiers
        frontier: list[Any] = []  # nodes this call reached that were made before it
        skipped: set[int] = set()  # inner calls already stepped over
        stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
        seen: set[Any] = set()
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            sequence = node._sequence_nr()
            if sequence < start:
                frontier.append(node)
                continue
            if sequence >= 2**63:  # a leaf
                continue
            inner = claimed.get(sequence)
            if inner is not None:
                if inner not in skipped:
                    skipped.add(inner)
                    stack.extend(frontiers.get(inner, ()))
                continue
            calls_of.setdefault(sequence, scope)
            claimed[sequence] = start
            stack.extend(child for child, _ in node.next_functions)
        frontiers[start] = frontier


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [v for item in value for v in _tensors(item)]
    return []
