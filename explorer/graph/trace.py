"""Record a real backward pass: the steps in the order the engine ran them.

Every reachable autograd Node gets a pre-hook (the gradients that arrived, in the
order the engine calls it) and a hook (what it sent along each next_functions slot);
every leaf gets a post-accumulate-grad hook (its .grad after accumulation). The hooks
only read, and they are removed when the pass ends.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.graph import Node, get_gradient_edge

from explorer.graph.capture import GraphCapture, is_leaf_node
from explorer.graph.summary import summarize
from explorer.snapshot import Pass, Step, TensorSummary


def _summaries(grads: tuple[torch.Tensor | None, ...]) -> list[TensorSummary | None]:
    return [None if g is None else summarize(g) for g in grads]


def root_node(tensor: torch.Tensor) -> Node | None:
    """The node backward starts from: grad_fn, or a leaf's AccumulateGrad."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if tensor.requires_grad:
        return get_gradient_edge(tensor).node
    return None


class PassRecorder:
    """Hooks on every node of one graph, recording one Pass while backward runs."""

    def __init__(self, capture: GraphCapture, root: Node, line: int, arguments: dict[str, Any]):
        self.reached = capture.add([root])
        gradient = arguments.get("gradient")
        self.record = Pass(
            root=self.reached[0][0],
            line=line,
            gradient=summarize(gradient) if isinstance(gradient, torch.Tensor) else None,
            retain_graph=bool(arguments.get("retain_graph") or arguments.get("create_graph")),
        )
        self._open: dict[str, Step] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> PassRecorder:
        for node_id, node in self.reached:
            self._handles.append(node.register_prehook(self._before(node_id, node)))
            self._handles.append(node.register_hook(self._after(node_id)))
            if is_leaf_node(node) and node.variable.requires_grad:
                hook = self._accumulated(node_id)
                self._handles.append(node.variable.register_post_accumulate_grad_hook(hook))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _before(self, node_id: str, node: Node):
        leaf = node.variable if is_leaf_node(node) else None

        def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            step = Step(node_id, grad_in=_summaries(grad_outputs))
            if leaf is not None and leaf.grad is not None:
                step.grad_before = summarize(leaf.grad)
            self._open[node_id] = step
            self.record.steps.append(step)

        return hook

    def _after(self, node_id: str):
        def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
            step = self._open.pop(node_id, None)
            if step is not None:
                step.grad_out = _summaries(grad_inputs)

        return hook

    def _accumulated(self, node_id: str):
        def hook(tensor: torch.Tensor) -> None:
            step = self._open.get(node_id)
            if step is not None and tensor.grad is not None:
                step.grad_after = summarize(tensor.grad)

        return hook
