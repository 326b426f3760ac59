"""A script run as plain Python with every backward pass recorded by hooks of its own.

This is the reference the app is compared with, so it shares none of the app's code: it
patches the three ways a script starts the engine (`Tensor.backward`,
`torch.autograd.backward`, `torch.autograd.grad`) and, for each call, hooks every node
reachable from its roots with `torch.autograd.graph` hooks: an op's post-hook sees what
arrived and what it sent, an AccumulateGrad's pre-hook sees the leaf's `.grad` before the
engine adds to it, and the leaf's post-accumulate-grad hook sees it after. Hooks fire in
the order the CPU engine runs nodes, one at a time on the calling thread.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn
from torch.autograd.graph import Node, get_gradient_edge


@dataclass
class StepRecord:
    """One node the engine ran: its class name, what arrived per output, what it sent per
    input, and for a leaf its .grad around the accumulation."""

    name: str
    grad_in: list[np.ndarray | None] = field(default_factory=list)
    grad_out: list[np.ndarray | None] = field(default_factory=list)
    grad_before: np.ndarray | None = None
    grad_after: np.ndarray | None = None


@dataclass
class PassRecord:
    """One call into the engine, its steps in the order they ran."""

    steps: list[StepRecord] = field(default_factory=list)


@dataclass
class RunRecord:
    """What a run of a script did: its passes, what it printed, its leaves' final .grad."""

    passes: list[PassRecord] = field(default_factory=list)
    printed: str = ""
    grads: dict[str, np.ndarray | None] = field(default_factory=dict)


def plain(tensor: torch.Tensor | None) -> np.ndarray | None:
    """A copy of a tensor's values, safe from later in-place changes."""
    if tensor is None:
        return None
    data = tensor.detach()
    if data.layout != torch.strided:
        data = data.to_dense()
    return data.clone().numpy()


def _roots(tensors: Any) -> list[Node]:
    """The nodes the engine starts from: each tensor's grad_fn, or a leaf's AccumulateGrad."""
    if isinstance(tensors, torch.Tensor):
        tensors = [tensors]
    roots = []
    for tensor in tensors:
        if tensor.grad_fn is not None:
            roots.append(tensor.grad_fn)
        elif tensor.requires_grad:
            roots.append(get_gradient_edge(tensor).node)
    return roots


def _reachable(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from roots along next_functions, without recursion."""
    seen: dict[Node, None] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen[node] = None
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return list(seen)


class PassHooks:
    """Hooks on every node of one graph while one engine call runs."""

    def __init__(self, roots: list[Node]) -> None:
        self.record = PassRecord()
        self._nodes = _reachable(roots)
        self._handles: list[Any] = []
        self._open: dict[Node, StepRecord] = {}  # a leaf's step, until its .grad is added to

    def __enter__(self) -> PassRecord:
        for node in self._nodes:
            if type(node).__name__ == "AccumulateGrad":
                self._handles.append(node.register_prehook(self._leaf_reached(node)))
                hook = self._leaf_accumulated(node)
                self._handles.append(node.variable.register_post_accumulate_grad_hook(hook))
            else:
                self._handles.append(node.register_hook(self._op_ran(type(node).__name__)))
        return self.record

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()

    def _op_ran(self, name: str) -> Callable[[tuple, tuple], None]:
        def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
            sent = [plain(g) for g in grad_inputs]
            self.record.steps.append(StepRecord(name, [plain(g) for g in grad_outputs], sent))

        return hook

    def _leaf_reached(self, node: Node) -> Callable[[tuple], None]:
        def hook(grad_outputs: tuple) -> None:
            step = StepRecord("AccumulateGrad", [plain(g) for g in grad_outputs])
            step.grad_before = plain(node.variable.grad)
            self._open[node] = step
            self.record.steps.append(step)

        return hook

    def _leaf_accumulated(self, node: Node) -> Callable[[torch.Tensor], None]:
        def hook(leaf: torch.Tensor) -> None:
            step = self._open.get(node)
            if step is not None:
                step.grad_after = plain(leaf.grad)

        return hook


_DERIVATIVES = ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp")


class EngineCalls:
    """Patches the engine's three entry points so that each call records one pass."""

    def __init__(self) -> None:
        self.passes: list[PassRecord] = []
        self._depth = 0  # Tensor.backward calls torch.autograd.backward: one pass, not two

    def _recorded(self, original: Callable[..., Any], roots_of: Callable[..., Any]):
        def call(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return original(*args, **kwargs)
            self._depth += 1
            try:
                hooks = PassHooks(_roots(roots_of(*args, **kwargs)))
                with hooks as record:
                    self.passes.append(record)
                    return original(*args, **kwargs)
            finally:
                self._depth -= 1

        return call

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        def first(*args: Any, **kwargs: Any) -> Any:
            return args[0] if args else next(iter(kwargs.values()))

        def outputs(*args: Any, **kwargs: Any) -> Any:
            return args[0] if args else kwargs.get("outputs", kwargs.get("tensors"))

        autograd = torch.autograd
        with (
            mock.patch.object(
                torch.Tensor, "backward", self._recorded(torch.Tensor.backward, first)
            ),
            mock.patch.object(autograd, "backward", self._recorded(autograd.backward, outputs)),
            mock.patch.object(autograd, "grad", self._recorded(autograd.grad, outputs)),
            contextlib.ExitStack() as stack,
        ):
            for name in _DERIVATIVES:
                original = getattr(autograd.functional, name)
                stack.enter_context(
                    mock.patch.object(autograd.functional, name, self._unrecorded(original))
                )
            yield

    def _unrecorded(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """jacobian, hessian and their kin run their passes inside torch: the app shows the
        result, not those passes, so they are not counted here either."""

        def call(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1

        return call


def final_grads(namespace: dict[str, Any]) -> dict[str, np.ndarray | None]:
    """.grad of every named leaf that requires grad (or has one), and of every parameter of a
    named module as model.0.weight."""
    grads: dict[str, np.ndarray | None] = {}
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        if isinstance(value, torch.Tensor) and value.is_leaf:
            if value.requires_grad or value.grad is not None:
                grads[name] = plain(value.grad)
        elif isinstance(value, nn.Module):
            for path, parameter in value.named_parameters():
                grads[f"{name}.{path}"] = plain(parameter.grad)
    return grads


_QUIET = (ast.For, ast.While, ast.FunctionDef, ast.ClassDef)


def interactive(text: str, filename: str) -> list[Any]:
    """The script's top-level statements, each compiled as the Python REPL compiles what is
    typed at its prompt: a bare expression's value is shown (sys.displayhook), as the app
    shows it, as a notebook does: at the top level, not inside a loop or a function. Run as a
    file, the same script shows nothing for them and computes the same."""
    tree = ast.parse(text, filename)
    return [
        compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec")
        if any(isinstance(node, _QUIET) for node in ast.walk(statement))
        else compile(ast.Interactive(body=[statement]), filename, "single")
        for statement in tree.body
    ]


def run_plain(text: str, filename: str = "<tutorial>") -> RunRecord:
    """Run text as Python in a fresh namespace, recording every engine call."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    calls = EngineCalls()
    out = io.StringIO()
    had_underscore = hasattr(builtins, "_")
    torch.manual_seed(0)
    try:
        with warnings.catch_warnings(), calls.patched(), contextlib.redirect_stdout(out):
            warnings.simplefilter("ignore")
            for code in interactive(text, filename):
                exec(code, namespace)  # our own corpus, never user input
    finally:
        if not had_underscore and hasattr(builtins, "_"):
            del builtins._  # set by sys.displayhook
    return RunRecord(calls.passes, out.getvalue(), final_grads(namespace))
