"""Watches a script run: names its tensors, keeps their values, records its backward passes."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.autograd.graph import Node

from explorer.data.snapshot import Pass, TensorSummary
from explorer.graph.capture import GraphCapture, saved_attributes
from explorer.graph.modules import ModuleTracker
from explorer.graph.summary import summarize
from explorer.graph.trace import PassRecorder, root_node
from explorer.lang.autograd_calls import BackwardCall
from explorer.lang.errors import ScriptError
from explorer.lang.hints import explain_torch_error, script_error
from explorer.lang.limits import Limits


class Recorder:
    """The interpreter's observer: everything the graph needs to know about the script."""

    def __init__(self, max_nodes: int = Limits.max_graph_nodes) -> None:
        self._leaf_names: dict[int, tuple[str, torch.Tensor]] = {}  # the tensor keeps id() unique
        self._op_names: dict[int, str] = {}  # by the node's sequence number
        self._op_values: dict[int, TensorSummary] = {}
        self._op_consts: dict[int, list[dict[str, Any]]] = {}  # inputs that need no gradient
        # tensors the script named that need no gradient (its data), held weakly: a loop
        # that rebinds `xb` must not keep every batch alive
        self._data_names: dict[int, tuple[str, weakref.ref]] = {}
        self._const_values: dict[tuple[int, int], tuple[weakref.ref, TensorSummary]] = {}
        self.capture = GraphCapture(self, max_nodes)
        self.passes: list[Pass] = []
        self.names: dict[str, Any] = {}  # the script's current names, set by the session
        self.modules = ModuleTracker()  # entered by the session around the run

    # -- the interpreter's observer ------------------------------------------------------
    def bound(self, name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            self._name_tensor(name, value)
        elif isinstance(value, nn.Module):
            self.modules.name(name, value)
            for path, parameter in value.named_parameters():
                self._name_tensor(f"{name}.{path}", parameter)

    def produced(self, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            self._remember_value(value)
        elif isinstance(value, tuple | list) and len(value) <= 16:
            for item in value:
                if isinstance(item, torch.Tensor):
                    self._remember_value(item)

    def inputs(self, result: Any, given: Sequence[tuple[str | None, Any]]) -> None:
        """What an operation of the script was given, as (name or None, value): the inputs
        that need no gradient are what the graph's constant inputs were."""
        node = result.grad_fn if isinstance(result, torch.Tensor) else None
        if node is None:
            return
        consts = [self._const(name, value) for name, value in given if _needs_no_grad(value)]
        if consts:
            self._op_consts.setdefault(node._sequence_nr(), consts)

    def backward_pass(self, call: BackwardCall, line: int) -> Pass:
        return self.record_pass(call, line)

    # -- naming --------------------------------------------------------------------------
    def _name_tensor(self, name: str, tensor: torch.Tensor) -> None:
        if tensor.grad_fn is None:
            if tensor.requires_grad:  # only those can be graph leaves; keep no other alive
                self._leaf_names.setdefault(id(tensor), (name, tensor))
            else:
                self._data_names[id(tensor)] = (name, weakref.ref(tensor))
        else:
            self._op_names.setdefault(tensor.grad_fn._sequence_nr(), name)
            self._remember_value(tensor)

    def _remember_value(self, tensor: torch.Tensor) -> None:
        node = tensor.grad_fn
        if node is not None:
            sequence = node._sequence_nr()
            if sequence not in self._op_values:
                self._op_values[sequence] = summarize(tensor)

    def leaf_name(self, tensor: torch.Tensor) -> str | None:
        entry = self._leaf_names.get(id(tensor))
        if entry is not None and entry[1] is tensor:
            return entry[0]
        # A tensor named before it required grad (x = ...; x.requires_grad_()).
        return next((k for k, v in self.names.items() if v is tensor), None)

    def output_name(self, sequence: int) -> str | None:
        return self._op_names.get(sequence)

    def output_value(self, sequence: int) -> TensorSummary | None:
        return self._op_values.get(sequence)

    def module_path(self, sequence: int) -> tuple[str, ...] | None:
        return self.modules.calls_of.get(sequence)

    def const_inputs(self, node: Node, count: int) -> list[dict[str, Any]] | None:
        """What fed the node's count constant inputs, in slot order, when it is known."""
        given = self._op_consts.get(node._sequence_nr())
        if given is not None:
            if len(given) == count:
                return given
            # torch.where(mask, x, 0.): a boolean mask is no input slot of the node
            numeric = [c for c in given if not _is_mask(c.get("value"))]
            if len(numeric) == count:
                return numeric
        elif count == 1:
            # A call the script did not make itself (a layer's forward, code outside the
            # script language): a tensor the script named, saved by the node, is its input.
            found = self._saved_data(node)
            if found is not None:
                return [found]
        return None

    def _saved_data(self, node: Node) -> dict[str, Any] | None:
        named: dict[int, tuple[str, torch.Tensor]] = {}
        for attribute, _ in saved_attributes(node):
            try:
                value = getattr(node, attribute)
            except RuntimeError:
                continue  # freed by a backward pass
            if not isinstance(value, torch.Tensor):
                continue
            entry = self._data_names.get(id(value))
            if entry is not None and entry[1]() is value:
                named[id(value)] = (entry[0], value)
            elif value._base is not None:  # a view of it: nn.Linear(xs) for a vector xs
                entry = self._data_names.get(id(value._base))
                if entry is not None and entry[1]() is value._base:
                    named[id(value._base)] = (entry[0], value._base)
        if len(named) != 1:
            return None
        name, tensor = next(iter(named.values()))
        return self._const(name, tensor)

    def _const(self, name: str | None, value: Any) -> dict[str, Any]:
        const: dict[str, Any] = {} if name is None else {"name": name}
        if isinstance(value, torch.Tensor):
            const["value"] = self._const_value(value)
        else:
            const["value"] = value
        return const

    def _const_value(self, tensor: torch.Tensor) -> TensorSummary:
        """One summary per tensor and version: a data tensor used in every step of a loop is
        read once."""
        key = (id(tensor), tensor._version)
        known = self._const_values.get(key)
        if known is not None and known[0]() is tensor:
            return known[1]
        summary = summarize(tensor)
        self._const_values[key] = (weakref.ref(tensor), summary)
        return summary

    def forget(self) -> None:
        """Let go of every tensor and autograd node; names, values and passes stay plain data."""
        self._leaf_names.clear()
        self._data_names.clear()
        self._const_values.clear()
        self.names = {}
        self.capture.forget()

    # -- graph and passes ----------------------------------------------------------------
    def capture_tensors(self, tensors: list[torch.Tensor]) -> None:
        self.capture.add(node for t in tensors if (node := root_node(t)) is not None)

    def record_backward(self, tensor: torch.Tensor, arguments: dict[str, Any], line: int) -> Pass:
        """Run tensor.backward(**arguments), recording every step; ScriptError if it fails."""
        call = BackwardCall(
            roots=[tensor],
            gradients=[arguments.get("gradient")],
            retain_graph=arguments.get("retain_graph"),
            create_graph=bool(arguments.get("create_graph")),
        )
        return self.record_pass(call, line)

    def record_pass(self, call: BackwardCall, line: int) -> Pass:
        """Run call, recording every step; ScriptError if it fails."""
        roots = [root_node(tensor) for tensor in call.roots]
        if any(root is None for root in roots):
            message, hint = explain_torch_error(
                RuntimeError("does not require grad and does not have a grad_fn"),
                call.name,
                (),
                {},
            )
            raise ScriptError(message, hint, kind=RuntimeError)
        recorder = PassRecorder(self.capture, call, line)
        self.passes.append(recorder.record)
        try:
            with recorder:
                call.run()
        except ScriptError as error:  # from a hook the script registered: its own place
            recorder.record.error = error.problem.message
            raise
        except Exception as error:
            arguments = {"retain_graph": call.retain_graph, "create_graph": call.create_graph}
            message, hint = explain_torch_error(error, call.name, (), arguments)
            recorder.record.error = message
            raise script_error(error, message, hint) from None
        recorder.finish(call)
        return recorder.record


def _needs_no_grad(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return not value.requires_grad
    return isinstance(value, int | float | complex)  # bool is an int


def _is_mask(value: Any) -> bool:
    return isinstance(value, TensorSummary) and value.dtype == "bool"
