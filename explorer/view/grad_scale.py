"""Gradient size as colour: each node by log10 of the norm of the gradient that arrived there.

The scale spans the pass's own smallest to largest gradient, so a pass whose first layers'
gradients vanish (1e-9 beside 1e-1) shows it from one end of the scale to the other. No Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from explorer.data.snapshot import Pass, Step, TensorSummary
from explorer.view.colours import Theme

LEVELS = 32  # colours a scale takes: few enough styles to cache, more than the eye tells apart
EDGE_BINS = 6  # colours an edge takes: each a layer of edges drawn at once


def edge_bin(norm: float, scale: Scale | None) -> int:
    """Which of EDGE_BINS colours an edge whose gradient had this norm is drawn in."""
    if scale is None or not math.isfinite(norm) or norm <= 0:
        return EDGE_BINS - 1 if not math.isfinite(norm) else 0
    return min(int(scale.position(norm) * EDGE_BINS), EDGE_BINS - 1)


def bin_colour(index: int, theme: Theme) -> str:
    """The colour of an edge bin: the scale's colour at the bin's middle, made stronger so that
    a line reads against the background."""
    return mix(theme.grad_edges, (index + 0.5) / EDGE_BINS)


@dataclass(frozen=True)
class Scale:
    """The range of log10 gradient norms in a pass."""

    low: float
    high: float

    def position(self, norm: float) -> float:
        """Where a (positive, finite) norm sits on the scale, from 0 to 1."""
        t = (math.log10(norm) - self.low) / (self.high - self.low)
        return min(max(t, 0.0), 1.0)


def summary_norm(summary: TensorSummary | None) -> float | None:
    if summary is None:
        return None
    return summary.statistics().get("norm", 0.0)


def arrived_norm(step: Step) -> float | None:
    """The norm of every gradient that arrived at the step together, None when none did."""
    norms = [n for n in (summary_norm(g) for g in step.grad_in) if n is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


def pass_norms(record: Pass) -> dict[str, float]:
    """Each node's arrived gradient norm in the pass."""
    out: dict[str, float] = {}
    for step in record.steps:
        norm = arrived_norm(step)
        if norm is not None:
            out[step.node] = norm
    return out


def scale_of(norms: dict[str, float]) -> Scale | None:
    """The range of the positive, finite norms, a decade wide at the least."""
    logs = [math.log10(n) for n in norms.values() if n > 0 and math.isfinite(n)]
    if not logs:
        return None
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    return Scale(low, max(high, low + 1))


def fill(norm: float, scale: Scale | None, theme: Theme) -> str:
    """The colour of a card whose arrived gradient had this norm."""
    if not math.isfinite(norm):
        return theme.nan_fill
    if norm == 0 or scale is None:
        return theme.const
    level = round(scale.position(norm) * (LEVELS - 1)) / (LEVELS - 1)
    return mix(theme.grad_scale, level)


def mix(stops: tuple[str, ...], t: float) -> str:
    """The colour at t (0 to 1) along evenly spaced stops, mixed in RGB."""
    where = t * (len(stops) - 1)
    k = min(int(where), len(stops) - 2)
    frac = where - k
    a, b = _rgb(stops[k]), _rgb(stops[k + 1])
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b, strict=True))


def ticks(
    scale: Scale, theme: Theme, count: int = 5, text: Callable[[int], str] | None = None
) -> list[tuple[str, str]]:
    """(colour, `1e-6`) at evenly spaced decades of the scale, for the legend; text writes a
    decade's exponent otherwise."""
    text = text or _decade
    span = scale.high - scale.low
    step = max(1, math.ceil(span / (count - 1)))
    decades = list(range(int(scale.low), int(scale.high) + 1, step))
    if decades[-1] != scale.high:
        decades.append(int(scale.high))
    return [(fill(10.0**d, scale, theme), text(d)) for d in decades]


def _decade(exponent: int) -> str:
    return "1" if exponent == 0 else f"1e{exponent}"


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
