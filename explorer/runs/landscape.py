"""What gradient descent is shown against: the loss surface around the path, and a line fit.

The surface is the loss re-computed (a re-run of the script each) on a grid around the path
the parameters took, for models of one or two numbers; the grid is as fine as a time budget
allows, at most 41×41. A line fit is found where the script compares a prediction with
one-dimensional data y and the prediction is a straight line in other data x.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer.data.reports import Surface

SURFACE_SECONDS = 1.0  # the time a surface may take; the grid is made coarser to fit
QUICK_SECONDS = 0.3  # before any step: the window may be about to run the script again
MAX_GRID = 41  # points along each axis, for two parameters
MAX_LINE = 101  # points along the axis, for one parameter
MIN_GRID = 7  # coarser than this says nothing: no surface
MAX_POINTS = 5_000  # data points sent for the line-fit plot


# -- the surface ---------------------------------------------------------------------------
OpenCall = list[tuple[float, float]]  # (low, high) along each axis


def box_around(path: Sequence[Sequence[float]]) -> OpenCall | None:
    """A box holding the path's finite points with room around them."""
    points = np.array([p for p in path if all(math.isfinite(v) for v in p)], dtype=np.float64)
    if points.size == 0:
        return None
    box: OpenCall = []
    for low, high in zip(points.min(axis=0), points.max(axis=0), strict=True):
        centre = (low + high) / 2
        half = max(0.75 * (high - low), 1.0, 0.25 * abs(centre))
        box.append((float(centre - half), float(centre + half)))
    return box


def covers(outer: OpenCall | None, path: Sequence[Sequence[float]]) -> bool:
    """Whether every finite point of path lies inside outer, off its edges."""
    if outer is None:
        return False
    inner = [(low + 0.05 * (high - low), high - 0.05 * (high - low)) for low, high in outer]
    for point in path:
        if not all(math.isfinite(v) for v in point):
            continue
        if any(not low <= v <= high for v, (low, high) in zip(point, inner, strict=True)):
            return False
    return True


def grid_size(dimensions: int, seconds_per_run: float, budget: float = SURFACE_SECONDS) -> int:
    """Points along each axis that fit the time budget; 0 when too few to be worth drawing."""
    runs = budget / max(seconds_per_run, 1e-4)
    size = int(runs) if dimensions == 1 else math.isqrt(max(int(runs), 0))
    size = min(size, MAX_LINE if dimensions == 1 else MAX_GRID)
    return size if size >= MIN_GRID else 0


def surface(box: OpenCall, size: int, loss_at: Callable[[tuple[float, ...]], float]) -> Surface:
    """loss_at on a size (×size) grid over box."""
    axes = [np.linspace(low, high, size) for low, high in box]
    if len(axes) == 1:
        values = np.array([loss_at((float(x),)) for x in axes[0]])
        return Surface(axes[0], None, values)
    values = np.array([[loss_at((float(x), float(y))) for x in axes[0]] for y in axes[1]])
    return Surface(axes[0], axes[1], values)


# -- the line fit --------------------------------------------------------------------------
@dataclass(frozen=True)
class LineSpec:
    """Where a line fit shows: the pair-th prediction meeting target y, a line in x."""

    pair: int
    x_name: str
    y_name: str


class PairWatch:
    """Notes every call where a tensor that requires grad meets a same-sized one that does not,
    both of one dimension (N or N×1): where a prediction meets its target."""

    def __init__(self) -> None:
        self.pairs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __call__(self, func: Any, args: tuple, kwargs: dict, result: Any) -> None:
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        if len(tensors) < 2:
            return
        for made in tensors:
            if not (made.requires_grad and is_column(made)):
                continue
            for data in tensors:
                target = data is not made and not data.requires_grad and is_column(data)
                if target and data.numel() == made.numel():
                    self.pairs.append((made, data))
                    return


def is_column(tensor: torch.Tensor) -> bool:
    """N or N×1 floating numbers, N ≥ 2."""
    shape = tuple(tensor.shape)
    one_d = len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)
    return tensor.is_floating_point() and one_d and tensor.numel() >= 2


def straight_line(made: torch.Tensor, x: torch.Tensor) -> tuple[float, float] | None:
    """(slope, intercept) when made = slope·x + intercept for every element, else None."""
    xs = x.detach().reshape(-1).double()
    ys = made.detach().reshape(-1).double()
    if not (torch.isfinite(xs).all() and torch.isfinite(ys).all()) or float(xs.std()) == 0.0:
        return None
    design = torch.stack([xs, torch.ones_like(xs)], dim=1)
    solution = torch.linalg.lstsq(design, ys.unsqueeze(1)).solution.reshape(-1)
    error = float((design @ solution - ys).abs().max())
    if error > 1e-4 * (1.0 + float(ys.abs().max())):
        return None
    return float(solution[0]), float(solution[1])


def find_line(env: dict[str, Any], watch: PairWatch) -> LineSpec | None:
    """The first prediction that meets named data y and is a straight line in named data x."""
    names = {id(v): k for k, v in env.items() if isinstance(v, torch.Tensor)}
    data = {
        k: v
        for k, v in env.items()
        if isinstance(v, torch.Tensor) and not v.requires_grad and is_column(v)
    }
    preferred = sorted(data, key=lambda k: k.lower() not in ("x", "xs", "inputs", "input"))
    for index, (made, target) in enumerate(watch.pairs):
        y_name = names.get(id(target))
        if y_name is None or env[y_name] is not target:
            continue
        for x_name in preferred:
            x = data[x_name]
            if x is target or x.numel() != target.numel():
                continue
            if straight_line(made, x) is not None:
                return LineSpec(index, x_name, y_name)
    return None


def line_now(env: dict[str, Any], watch: PairWatch, spec: LineSpec) -> tuple[float, float]:
    """The slope and intercept in this run (NaN when it cannot be read)."""
    x = env.get(spec.x_name)
    if spec.pair >= len(watch.pairs) or not isinstance(x, torch.Tensor):
        return math.nan, math.nan
    made = watch.pairs[spec.pair][0]
    found = straight_line(made, x)
    if found is None:  # no longer finite, or no longer a line: say so with NaN
        return math.nan, math.nan
    return found


def plotted(tensor: torch.Tensor) -> np.ndarray:
    """At most MAX_POINTS of a column's values, evenly spread, as float64."""
    values = tensor.detach().reshape(-1).double().numpy(force=True)
    if values.size > MAX_POINTS:
        values = values[np.linspace(0, values.size - 1, MAX_POINTS).astype(int)]
    return values.copy()
