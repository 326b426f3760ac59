"""Where a backward pass's gradients first stopped being finite, read from its recorded steps."""

from __future__ import annotations

import numpy as np

from explorer.data.snapshot import FirstNonFinite, Origin, Pass, TensorSummary


def is_finite(summary: TensorSummary | None) -> bool:
    """No NaN and no infinity: read from every value when they are kept, else from the
    statistics (a NaN or an infinity anywhere makes the norm one)."""
    if summary is None:
        return True
    if summary.values is not None:
        values = summary.values
        if values.dtype.kind not in "fc":
            return True
        return bool(np.isfinite(values).all())
    stats = summary.stats or {}
    return all(np.isfinite(stats.get(k, 0.0)) for k in ("min", "max", "norm"))


def first_nonfinite(record: Pass) -> FirstNonFinite | None:
    """The first step at which a gradient became NaN or infinite, None when none did.

    A pass whose starting gradient was already not finite has its origin there, at the step
    of that root."""
    steps = record.steps
    if not steps or _all_finite(record):
        return None
    gradients = record.gradients if record.roots else [record.gradient]
    for root, gradient in zip(record.root_ids(), gradients, strict=False):
        if not is_finite(gradient):
            at = next((k for k, s in enumerate(steps) if s.node == root), 0)
            return FirstNonFinite(at + 1, steps[at].node, "root")
    for k, step in enumerate(steps):
        if not all(is_finite(g) for g in step.grad_in):
            continue
        if not all(is_finite(g) for g in step.grad_out):
            return FirstNonFinite(k + 1, step.node, "op")
        if step.grad_after is not None and not is_finite(step.grad_after):
            origin: Origin = "grad" if not is_finite(step.grad_before) else "op"
            return FirstNonFinite(k + 1, step.node, origin)
    return None


def _all_finite(record: Pass) -> bool:
    """Whether every gradient of the pass is finite, read in one sweep of all their values:
    most passes are, and the walk step by step took half a second at 30,000 steps."""
    tensors: dict[int, TensorSummary] = {}
    for gradient in record.gradients if record.roots else [record.gradient]:
        if gradient is not None:
            tensors[id(gradient)] = gradient
    for step in record.steps:
        for summary in (*step.grad_in, *step.grad_out, step.grad_before, step.grad_after):
            if summary is not None:
                tensors[id(summary)] = summary
    flat = [
        s.values.reshape(-1)
        for s in tensors.values()
        if s.values is not None and s.values.dtype.kind in "fc"
    ]
    if flat and not np.isfinite(np.concatenate(flat)).all():
        return False
    return all(is_finite(s) for s in tensors.values() if s.values is None)
