"""Check a leaf's autograd gradient against central finite differences computed in float64.

What a leaf's .grad holds is ∂f/∂leaf for f = Σ ⟨gradient, root⟩ over the backward passes that
filled it: a pass from a scalar loss adds ∂loss/∂leaf, y.backward(v) adds vᵀ·∂y/∂leaf. So f is
rebuilt from the same passes (the script's own backward calls, then those asked for after the
run), and each checked element i gets (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h with h = 1e-6·max(1, |xᵢ|).
Each f is a re-run of the script (explorer/runs/rerun.py) with the leaf shifted from its first use
on and all arithmetic in float64 (explorer/runs/float64.py); every re-run starts from the same seed,
so a script that draws random numbers draws the same ones each time.

Before comparing, the check makes sure it is comparing like with like: a plain float32 re-run
must give the leaf the very gradient it holds (else the script does not repeat), and the
float64 re-run must give the same f to float32 accuracy (else its numbers depend on precision).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.data.reports import GradCheck
from explorer.lang.errors import ScriptError
from explorer.runs.float64 import Float64Mode
from explorer.runs.rerun import LeafKey, Rerun, RerunMode, Script, Tracked
from explorer.runs.session import Session, Traced

SAMPLE = 20  # elements checked; a larger leaf gets a random sample of this many
SECONDS = 20.0  # fewer elements are checked when the script is too slow for SAMPLE in this time
STEP = 1e-6  # h = STEP · max(1, |x|): float64 rounding and the O(h²) error are both tiny
RTOL = 1e-3  # autograd's float32 gradient against float64 differences
ATOL = 1e-5  # times max(1, largest difference): for elements whose gradient is near 0


class Unchecked(Exception):
    """Why the check cannot be made, in words for the student."""


def check_leaf(
    session: Traced, node_id: str, overrides: dict[LeafKey, torch.Tensor] | None = None
) -> GradCheck:
    """Check the leaf at graph node node_id of session; overrides: its parameters' values."""
    label = _label(session, node_id)
    try:
        return _check(session, node_id, label, overrides or {})
    except Unchecked as why:
        return GradCheck(label, problem=str(why))


def _label(session: Traced, node_id: str) -> str:
    graph = session.recorder.capture.graph
    if node_id in graph:
        attrs = graph.nodes[node_id]
        return str(attrs.name or attrs.label or node_id)
    return node_id


def _check(
    session: Traced, node_id: str, label: str, overrides: dict[LeafKey, torch.Tensor]
) -> GradCheck:
    leaf = _live_leaf(session, node_id, label)
    if not isinstance(session, Session):
        raise Unchecked("the numerical check works on scripts, not on model files")
    if leaf.grad is None:
        raise Unchecked(
            f"{label} has no gradient yet: run backward first (Backward, below the graph)"
        )
    name = session.recorder.leaf_name(leaf)
    if name is None:
        raise Unchecked(
            "this leaf has no name in the script, so a re-run cannot find it; "
            "give it one (w = ...) to check it"
        )
    script = _script(session.text)
    first, entry = _reproduce(script, session, name, leaf, overrides)
    key = entry.key
    f32 = _objective(first, session.requested)
    started = time.perf_counter()
    zero = torch.zeros(leaf.shape, dtype=torch.float64)
    f64 = _objective(_run64(script, overrides, key, zero), session.requested)
    seconds_per_run = time.perf_counter() - started
    if not _close(f32, f64):
        raise Unchecked(
            f"the script does not repeat in float64: re-run in float64 it gives "
            f"{f64[0]:.9g} where float32 gives {f32[0]:.9g} (random numbers drawn differently, "
            "or state that changes as it runs), so finite differences would measure something else"
        )
    affordable = max(1, int((SECONDS - seconds_per_run) / (2 * seconds_per_run)))
    indices, sampled = _sample(leaf.numel(), min(SAMPLE, affordable))
    values = leaf.detach().reshape(-1).double()
    grad = leaf.grad.detach().reshape(-1).double()
    autograd, numeric = [], []
    for index in indices:
        h = STEP * max(1.0, abs(float(values[index])))
        ends = []
        for sign in (1.0, -1.0):
            shift = torch.zeros(leaf.numel(), dtype=torch.float64)
            shift[index] = sign * h
            run = _run64(script, overrides, key, shift.reshape(leaf.shape))
            ends.append(_objective(run, session.requested)[0])
        numeric.append((ends[0] - ends[1]) / (2 * h))
        autograd.append(float(grad[index]))
    check = _verdict(label, leaf, indices, sampled, autograd, numeric)
    if len(indices) < min(SAMPLE, leaf.numel()):
        check.notes.append(
            f"only {len(indices)} element{'s' if len(indices) > 1 else ''}: each run of the "
            f"script takes {seconds_per_run:.2g} s"
        )
    return check


def _live_leaf(session: Traced, node_id: str, label: str) -> torch.Tensor:
    node = session.recorder.capture.node(node_id)
    leaf = getattr(node, "variable", None)
    if not isinstance(leaf, torch.Tensor):
        raise Unchecked(f"{label} is not a leaf tensor: only leaves are checked")
    if not leaf.is_floating_point():
        kind = "complex" if leaf.is_complex() else str(leaf.dtype).removeprefix("torch.")
        raise Unchecked(
            f"{label} is a {kind} tensor: only real floating-point tensors (float32, float64) "
            "are checked"
        )
    return leaf


def _script(text: str) -> Script:
    try:
        return Script(text)
    except ScriptError as error:
        raise Unchecked(f"the script has an error: {error.problem.one_line()}") from None


def _reproduce(
    script: Script, session: Session, name: str, leaf: torch.Tensor, overrides: dict
) -> tuple[Rerun, Tracked]:
    """A float32 re-run that gives the leaf the gradient it holds, and the leaf's entry in it."""
    mode = RerunMode(overrides, track_all=True)
    run = script.run(mode)
    trouble = run.problem or "; ".join(mode.problems())
    if trouble:
        raise Unchecked(f"the script failed when run again: {trouble}")
    entry = _find(run, mode, name)
    if entry is None or not entry.used:
        raise Unchecked(f"{name} could not be found again when the script re-ran")
    if mode.changed(entry):
        raise Unchecked(
            f"the script changes {name} after using it (from line {entry.line}), as a training "
            "loop does: its .grad is not the derivative of one forward pass"
        )
    with torch.enable_grad():
        for root_name, gradient in session.requested:
            root = run.env.get(root_name)
            if not isinstance(root, torch.Tensor):
                raise Unchecked(f"{root_name} was not made when the script re-ran")
            root.backward(gradient, retain_graph=True)
    again = entry.tensor.grad
    held = leaf.grad
    if again is None or again.shape != held.shape or not _same_gradient(again, held):
        difference = math.inf if again is None else float((again - held).abs().max())
        raise Unchecked(
            f"the script does not repeat: run again from the same seed it gives {name} a "
            f"different gradient (largest difference {difference:.3g}), so there is no one "
            "function to differentiate numerically"
        )
    return run, entry


def _find(run: Rerun, mode: RerunMode, name: str) -> Tracked | None:
    """The re-run's leaf that the live run called name."""
    named = [e for e in mode.tracked.values() if e.key.label == name and e.tensor.requires_grad]
    if len(named) == 1:
        return named[0]
    head, _, path = name.partition(".")
    value = run.env.get(head)
    if isinstance(value, nn.Module):
        value = dict(value.named_parameters()).get(path)
    if isinstance(value, torch.Tensor):
        return mode.entry_of(value)
    return named[0] if named else None


def _run64(script: Script, overrides: dict, key: LeafKey, shift: torch.Tensor) -> Rerun:
    mode = Float64Mode(overrides, {key: shift})
    run = script.run(mode)
    trouble = run.problem or "; ".join(mode.problems())
    if trouble:
        raise Unchecked(f"the script failed when re-run in float64: {trouble}")
    return run


def _objective(run: Rerun, requested: list[tuple[str, Any]]) -> tuple[float, float]:
    """f = Σ ⟨gradient, root⟩ over the run's passes, in float64, and Σ |gradient·root| (its
    scale, for judging rounding)."""
    roots = list(run.binder.backward_calls)
    roots += [(run.env.get(name), gradient) for name, gradient in requested]
    total, scale = 0.0, 0.0
    with torch.no_grad():
        for root, gradient in roots:
            if not isinstance(root, torch.Tensor):
                continue
            terms = root.detach().double()
            if isinstance(gradient, torch.Tensor):
                terms = terms * gradient.detach().double()
            total += float(terms.sum())
            scale += float(terms.abs().sum())
    return total, scale


def _close(f32: tuple[float, float], f64: tuple[float, float]) -> bool:
    """Equal within float32 rounding of the sum's terms."""
    return abs(f32[0] - f64[0]) <= 1e-5 * max(f32[1], f64[1]) + 1e-6


def _same_gradient(a: torch.Tensor, b: torch.Tensor) -> bool:
    scale = max(1.0, float(b.detach().abs().max())) if b.numel() else 1.0
    return bool(
        torch.allclose(a.detach(), b.detach(), rtol=1e-5, atol=1e-6 * scale, equal_nan=True)
    )


def _sample(numel: int, count: int) -> tuple[list[int], bool]:
    if numel <= count:
        return list(range(numel)), False
    # A fixed generator of its own: the same elements every time, and torch's seed untouched.
    return sorted(random.Random(0).sample(range(numel), count)), True


def _verdict(
    label: str,
    leaf: torch.Tensor,
    indices: list[int],
    sampled: bool,
    autograd: list[float],
    numeric: list[float],
) -> GradCheck:
    a, n = np.array(autograd), np.array(numeric)
    difference = np.abs(a - n)
    largest = float(np.abs(n).max()) if n.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(difference > 0, difference / np.maximum(np.abs(a), np.abs(n)), 0.0)
    allowed = ATOL * max(1.0, largest) + RTOL * np.abs(n)
    agree = bool(np.all(difference <= allowed)) and bool(np.all(np.isfinite(n)))
    max_abs = float(difference.max()) if difference.size else 0.0
    max_rel = float(relative.max()) if relative.size else 0.0
    shape = tuple(leaf.shape)
    if agree:
        verdict = (
            f"They agree: the largest difference is {max_abs:.2g} "
            f"(relative {max_rel:.2g}), within float32 rounding."
        )
    else:
        verdict = (
            f"They differ: the largest difference is {max_abs:.3g} (relative {max_rel:.3g}). "
            "At a kink (relu or abs at 0, max, clamp) the two can honestly differ; "
            "elsewhere this is worth a closer look."
        )
    notes = [f"central differences in float64, h = {STEP:g}·max(1, |x|)"]
    if sampled:
        notes.append(f"{len(indices)} of {leaf.numel():,} elements, chosen at random")
    return GradCheck(
        leaf=label,
        indices=[tuple(int(i) for i in np.unravel_index(k, shape)) for k in indices],
        autograd=autograd,
        numeric=numeric,
        numel=leaf.numel(),
        sampled=sampled,
        eps=STEP,
        max_abs=max_abs,
        max_rel=max_rel,
        agree=agree,
        verdict=verdict,
        notes=notes,
    )
