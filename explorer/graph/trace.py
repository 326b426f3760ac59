"""Record a real backward pass: the steps in the order the engine ran them.

Every reachable op node gets a hook that sees what arrived and what it sent along
each next_functions slot; every leaf gets a pre-hook (its .grad before) and a
post-accumulate-grad hook (its .grad after accumulation). The hooks
only read, and they are removed when the pass ends.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import torch
from torch.autograd.graph import Node, get_gradient_edge

from explorer.data import nonfinite
from explorer.data.health import first_nonfinite
from explorer.data.snapshot import GradResult, Pass, Step, TensorSummary
from explorer.graph.capture import GraphCapture, is_leaf_node
from explorer.graph.summary import summarize
from explorer.lang.autograd_calls import BackwardCall


def root_node(tensor: torch.Tensor) -> Node | None:
    """The node backward starts from: grad_fn, or a leaf's AccumulateGrad."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if tensor.requires_grad:
        try:
            return get_gradient_edge(tensor).node
        except (AssertionError, RuntimeError):
            return None  # a view of a leaf made under no_grad: no node to start from
    return None


class PassRecorder:
    """Hooks on every node of one graph, recording one Pass while backward runs."""

    def __init__(self, capture: GraphCapture, call: BackwardCall, line: int) -> None:
        roots = [root_node(tensor) for tensor in call.roots]
        self.capture = capture
        self.reached = capture.add(roots)
        ids = [capture.node_id(root) for root in roots if root is not None]
        gradients = [summarize(g) if isinstance(g, torch.Tensor) else None for g in call.gradients]
        self.record = Pass(
            root=ids[0],
            line=line,
            gradient=gradients[0],
            retain_graph=call.keeps_graph,
        )
        if len(ids) > 1:
            self.record.roots, self.record.gradients = ids, gradients
        if call.inputs is not None and not call.grad:
            self.record.inputs = [self._input_id(tensor) for tensor in call.inputs]
        self._open: dict[str, Step] = {}
        self._started: dict[str, float] = {}  # perf_counter as each node began, until it ends
        self._captured: dict[str, Step] = {}  # nodes where autograd.grad took its results
        self._inputs = call.inputs if call.grad else []
        self._handles: list[Any] = []
        # A gradient one node sends is often the very tensor the next node receives: summarise
        # it once. Holding the tensor keeps its id unique and stops the engine reusing it.
        self._seen: dict[int, tuple[torch.Tensor, TensorSummary]] = {}

    def _input_id(self, tensor: torch.Tensor) -> str | None:
        """The node an input's gradient goes to: its AccumulateGrad, or the node that made it."""
        node = root_node(tensor)
        return None if node is None else self.capture.known_id(node)

    def finish(self, call: BackwardCall) -> None:
        """After the pass ran: where its first NaN started, and where each of
        torch.autograd.grad's results went."""
        found = first_nonfinite(self.record)
        if found is not None:  # said here, where the graph holds every saved tensor
            found = replace(found, why=nonfinite.why(self.capture.graph, found))
        self.record.first_nonfinite = found
        if call.grad and call.inputs is not None and call.results is not None:
            self.record.results = [
                GradResult(self._input_id(tensor), None if grad is None else summarize(grad))
                for tensor, grad in zip(call.inputs, call.results, strict=True)
            ]

    def _summaries(self, grads: tuple[torch.Tensor | None, ...]) -> list[TensorSummary | None]:
        out: list[TensorSummary | None] = []
        for grad in grads:
            if grad is None:
                out.append(None)
                continue
            known = self._seen.get(id(grad))
            if known is None or known[0] is not grad:
                known = (grad, summarize(grad))
                self._seen[id(grad)] = known
            out.append(known[1])
        return out

    def __enter__(self) -> PassRecorder:
        for node_id, node in self.reached:
            if is_leaf_node(node):
                self._handles.append(node.register_prehook(self._leaf_reached(node_id, node)))
                if node.variable.requires_grad:
                    hook = self._accumulated(node_id)
                    self._handles.append(node.variable.register_post_accumulate_grad_hook(hook))
            else:
                # One hook after the node ran sees both what arrived and what it sent; the
                # CPU engine runs nodes one at a time, so hook order is execution order. The
                # one before it only starts the node's clock.
                self._handles.append(node.register_prehook(self._op_starts(node_id)))
                self._handles.append(node.register_hook(self._op_ran(node_id)))
        for tensor in self._inputs or ():
            node = root_node(tensor)
            node_id = None if node is None else self.capture.known_id(node)
            if node is not None and node_id is not None and tensor.requires_grad:
                slot = 0 if is_leaf_node(node) else tensor.output_nr
                hook = self._result_taken(node_id, slot, max(1, len(node._input_metadata)))
                self._handles.append(tensor.register_hook(hook))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._seen.clear()

    def _op_starts(self, node_id: str):
        def hook(grad_outputs: tuple) -> None:
            self._started[node_id] = time.perf_counter()  # last: the node runs next

        return hook

    def _op_ran(self, node_id: str):
        def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
            seconds = self._elapsed(node_id)  # first: the summaries below are ours, not its
            grad_in, grad_out = self._summaries(grad_outputs), self._summaries(grad_inputs)
            taken = self._captured.get(node_id)
            if taken is not None:  # a result was taken here, and the node is needed too
                taken.grad_in, taken.grad_out, taken.seconds = grad_in, grad_out, seconds
                return
            step = Step(node_id, grad_in=grad_in, grad_out=grad_out, seconds=seconds)
            self.record.steps.append(step)

        return hook

    def _elapsed(self, node_id: str) -> float | None:
        started = self._started.pop(node_id, None)
        return None if started is None else time.perf_counter() - started

    def _result_taken(self, node_id: str, slot: int, slots: int):
        """autograd.grad takes an input's gradient where the engine reaches the input's node,
        without running it (an AccumulateGrad never runs): a step that only received."""

        def hook(grad: torch.Tensor) -> None:
            step = self._captured.get(node_id)
            if step is None:
                step = self._captured[node_id] = Step(node_id, grad_in=[None] * slots)
                self.record.steps.append(step)
            if slot < len(step.grad_in):
                step.grad_in[slot] = self._summaries((grad,))[0]

        return hook

    def _leaf_reached(self, node_id: str, node: Node):
        leaf = node.variable

        def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            step = Step(node_id, grad_in=self._summaries(grad_outputs))
            if leaf.grad is not None:
                step.grad_before = summarize(leaf.grad)
            self._open[node_id] = step
            self.record.steps.append(step)
            self._started[node_id] = time.perf_counter()  # last: the accumulation runs next

        return hook

    def _accumulated(self, node_id: str):
        def hook(tensor: torch.Tensor) -> None:
            seconds = self._elapsed(node_id)
            step = self._open.get(node_id)
            if step is not None and tensor.grad is not None:
                step.seconds = seconds
                step.grad_after = summarize(tensor.grad)

        return hook
