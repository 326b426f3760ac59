"""What the gradient-descent panel reads: the learning rate and step count the student typed, and
whether the snapshot on screen has a loss and parameters to train at all."""

from __future__ import annotations

import math

import networkx as nx

from explorer.data.nodes import AutogradGraph
from explorer.data.snapshot import Snapshot

MAX_STEPS = 1_000  # one Run; the worker caps a request at the same number
MAX_RATE = 1e4


def parse_rate(text: str) -> tuple[float | None, str]:
    """(the learning rate, "") or (None, why it is not one)."""
    try:
        rate = float(text.strip().replace(",", "."))
    except ValueError:
        return None, f"the learning rate {text.strip()!r} is not a number; type one, such as 0.01"
    if not math.isfinite(rate):
        return None, "the learning rate must be a finite number, such as 0.01"
    if rate <= 0:
        return None, "the learning rate must be above 0: a step goes against the gradient, downhill"
    if rate > MAX_RATE:
        return None, f"a learning rate above {MAX_RATE:,.0f} is too large to mean anything here"
    return rate, ""


def parse_steps(text: str) -> tuple[int | None, str]:
    """(the number of steps, a note when capped) or (None, why it is not a number of steps)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.removeprefix("-").isdigit():
        return None, f"{text.strip()!r} is not a whole number of steps; type one, such as 50"
    steps = int(cleaned)
    if steps < 1:
        return None, "Run needs at least 1 step"
    if steps > MAX_STEPS:
        return MAX_STEPS, f"one Run takes at most {MAX_STEPS:,} steps; running {MAX_STEPS:,}"
    return steps, ""


def blocker(snapshot: Snapshot | None, model_file: bool = False) -> str:
    """Why the snapshot on screen cannot be trained, or "" when it looks as if it can.

    A quick look at the graph, so the panel can say so at once; the worker decides for sure.
    """
    if snapshot is None:
        return "Run a script first."
    if model_file:
        return "Gradient descent works on scripts, not on model files."
    if snapshot.problem is not None:
        return "The script has an error: fix it and run it again."
    graph = snapshot.graph
    losses = [p.root for p in snapshot.passes if _is_scalar(graph, p.root)]
    losses += [n for n, a in graph.nodes(data=True) if a.name and _is_scalar(graph, n)]
    if not losses:
        return (
            "No scalar loss: gradient descent needs one number to make smaller, "
            "such as loss = ((w*x + b - y)**2).mean()."
        )
    for loss in losses[-3:]:  # the last ones: a script's loss comes late
        if any(graph.nodes[n].kind == "leaf" for n in nx.ancestors(graph, loss)):
            return ""
    return (
        "No parameters: gradient descent changes leaves that require grad, "
        "such as w = torch.zeros(1, requires_grad=True)."
    )


def _is_scalar(graph: AutogradGraph, node: str) -> bool:
    if node not in graph:
        return False
    attrs = graph.nodes[node]
    return attrs.kind == "op" and attrs.shape is not None and math.prod(attrs.shape) == 1
