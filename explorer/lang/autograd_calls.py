"""Backward passes a script starts: tensor.backward(), torch.autograd.backward and .grad.

Each is bound against the signature scripts may use, described as one BackwardCall, counted
against the run's passes, run by the observer (which records it) and charged for what its
record keeps.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from explorer.data.snapshot import Pass, TensorSummary
from explorer.lang import values
from explorer.lang.errors import ScriptError

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter

_RECORD_BYTES = 256  # a step or a tensor summary as Python objects, about
_MAX_TENSORS = 64  # roots or inputs one call may name


@dataclass
class BackwardCall:
    """One backward pass as PyTorch is asked for it: from `roots`, with one gradient per root
    (None: an implicit 1), filling `.grad` (or, with `grad`, returning `results` instead)."""

    roots: list[torch.Tensor]
    gradients: list[torch.Tensor | None]
    retain_graph: bool | None = None
    create_graph: bool = False
    inputs: list[torch.Tensor] | None = None
    grad: bool = False  # torch.autograd.grad: results returned, no .grad changed
    allow_unused: bool | None = None
    materialize_grads: bool = False
    results: tuple[torch.Tensor | None, ...] | None = None

    @property
    def keeps_graph(self) -> bool:
        """Whether the graph outlives the pass: PyTorch takes create_graph only for None."""
        return self.create_graph if self.retain_graph is None else bool(self.retain_graph)

    @property
    def name(self) -> str:
        return "grad" if self.grad else "backward"

    def run(self) -> None:
        if self.grad:
            self.results = torch.autograd.grad(
                self.roots,
                self.inputs or [],
                self.gradients,
                retain_graph=self.retain_graph,
                create_graph=self.create_graph,
                allow_unused=self.allow_unused,
                materialize_grads=self.materialize_grads,
            )
        else:
            torch.autograd.backward(
                self.roots,
                self.gradients,
                retain_graph=self.retain_graph,
                create_graph=self.create_graph,
                inputs=self.inputs,
            )


def _signature(required: str, **defaults: Any) -> inspect.Signature:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(name, kind) for name in required.split()]
    parameters += [inspect.Parameter(n, kind, default=d) for n, d in defaults.items()]
    return inspect.Signature(parameters)


# The arguments scripts may give, as PyTorch names them; deprecated ones are left out.
_PASS = {"retain_graph": None, "create_graph": False}
_SIGNATURES = {
    "backward": inspect.signature(torch.Tensor.backward),
    "torch.autograd.backward": _signature(
        "tensors", grad_tensors=None, **_PASS, inputs=None
    ),
    "torch.autograd.grad": _signature(
        "outputs inputs", grad_outputs=None, **_PASS, allow_unused=None,
        is_grads_batched=False, materialize_grads=False,
    ),
}  # fmt: skip
_HINTS = {
    "backward": "backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)",
    "torch.autograd.backward": "torch.autograd.backward(tensors, grad_tensors=None, "
    "retain_graph=None, create_graph=False, inputs=None)",
    "torch.autograd.grad": "torch.autograd.grad(outputs, inputs, grad_outputs=None, "
    "retain_graph=None, create_graph=False, allow_unused=None, materialize_grads=False)",
}
TARGETS = {
    torch.autograd.backward: "torch.autograd.backward",
    torch.autograd.grad: "torch.autograd.grad",
}


def tensor_backward(
    interpreter: Interpreter, tensor: torch.Tensor, args: tuple, kwargs: dict, line: int
) -> None:
    """tensor.backward(...): torch.autograd.backward from the one tensor."""
    values.check_values([*args, *kwargs.values()])
    run(interpreter, make_call("backward", (tensor, *args), kwargs), line)


def call_function(
    interpreter: Interpreter, target: Any, args: tuple, kwargs: dict, line: int
) -> Any:
    """torch.autograd.backward(...) (None) or torch.autograd.grad(...) (a tuple of gradients)."""
    values.check_values([*args, *kwargs.values()])
    call = make_call(TARGETS[target], args, kwargs)
    run(interpreter, call, line)
    return call.results if call.grad else None


def make_call(name: str, args: tuple, kwargs: dict) -> BackwardCall:
    """The pass torch is asked for by a call of "backward" (Tensor.backward, the tensor first),
    "torch.autograd.backward" or "torch.autograd.grad"; ScriptError for what it cannot be."""
    given = _bind(name, args, kwargs)
    if name == "backward":
        return BackwardCall(
            roots=[given["self"]],
            gradients=[given["gradient"]],
            retain_graph=given["retain_graph"],
            create_graph=given["create_graph"],
            inputs=_tensors_or_none(given["inputs"], "inputs"),
        )
    if name == "torch.autograd.backward":
        roots = _tensors(given["tensors"], "tensors")
        return BackwardCall(
            roots=roots,
            gradients=_gradients(given["grad_tensors"], len(roots), "grad_tensors"),
            retain_graph=given["retain_graph"],
            create_graph=given["create_graph"],
            inputs=_tensors_or_none(given["inputs"], "inputs"),
        )
    if given["is_grads_batched"]:
        raise ScriptError(
            "torch.autograd.grad(is_grads_batched=True) is not available in explorer scripts",
            hint="call torch.autograd.grad once for each grad_outputs",
        )
    roots = _tensors(given["outputs"], "outputs")
    return BackwardCall(
        roots=roots,
        gradients=_gradients(given["grad_outputs"], len(roots), "grad_outputs"),
        retain_graph=given["retain_graph"],
        create_graph=given["create_graph"],
        inputs=_tensors(given["inputs"], "inputs"),
        grad=True,
        allow_unused=given["allow_unused"],
        materialize_grads=bool(given["materialize_grads"]),
    )


def run(interpreter: Interpreter, call: BackwardCall, line: int) -> None:
    """Count the pass, have the observer run (and record) it, charge what the record keeps."""
    interpreter.budget.count_pass()
    record = interpreter.observer.backward_pass(call, line)
    if isinstance(record, Pass):
        interpreter.budget.charge_bytes(recorded_bytes(record))
    for result in call.results or ():
        if result is not None:
            interpreter.budget.check_elements(tuple(result.shape))
            interpreter.budget.charge_bytes(result.numel() * result.element_size())


def _bind(name: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = _SIGNATURES[name].bind(*args, **kwargs)
    except TypeError as error:
        short = name.rsplit(".", 1)[-1]
        raise ScriptError(f"{short}(): {error}", hint=_HINTS[name]) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _tensors(value: Any, what: str) -> list[torch.Tensor]:
    """A tensor or a list of tensors, as a list."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items or len(items) > _MAX_TENSORS:
        raise ScriptError(f"{what} must name between 1 and {_MAX_TENSORS} tensors")
    if not all(isinstance(item, torch.Tensor) for item in items):
        raise ScriptError(f"{what} must be a tensor or a list of tensors", kind=TypeError)
    return items


def _tensors_or_none(value: Any, what: str) -> list[torch.Tensor] | None:
    return None if value is None else _tensors(value, what)


def _gradients(value: Any, count: int, what: str) -> list[torch.Tensor | None]:
    """One gradient per root: None for an implicit 1."""
    if value is None:
        return [None] * count
    items = list(value) if isinstance(value, list | tuple) else [value]
    if len(items) != count:
        raise ScriptError(
            f"{what} has {len(items)} gradients for {count} tensors", kind=RuntimeError
        )
    if not all(item is None or isinstance(item, torch.Tensor) for item in items):
        raise ScriptError(f"{what} must be tensors or None", kind=TypeError)
    return items


def recorded_bytes(record: Pass) -> int:
    """Memory a recorded pass keeps: its steps and the gradient values they summarise."""
    found: list[TensorSummary | None] = list(record.gradients)
    for step in record.steps:
        found.extend((*step.grad_in, *step.grad_out, step.grad_before, step.grad_after))
    found.extend(result.grad for result in record.results or ())
    summaries = {id(s): s for s in found if s is not None}
    held = sum(0 if s.values is None else s.values.nbytes for s in summaries.values())
    return held + _RECORD_BYTES * (len(record.steps) + len(summaries))
