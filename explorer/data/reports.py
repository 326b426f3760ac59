"""Plain data the worker sends back for gradient descent and the numerical gradient check.

The window draws these; like the snapshot, this module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Surface:
    """The loss on a grid around the path: a curve for one parameter, an image for two.

    values[i] (one parameter) or values[j, i] (two: j along ys, i along xs); NaN where the
    loss was not a finite number.
    """

    xs: np.ndarray
    ys: np.ndarray | None
    values: np.ndarray


@dataclass
class LineFit:
    """A straight-line fit to one-dimensional data: the points and the line now and at first."""

    x_name: str
    y_name: str
    xs: np.ndarray
    ys: np.ndarray
    slope: float
    intercept: float
    first_slope: float
    first_intercept: float


@dataclass
class DescentReport:
    """Where gradient descent on a script's loss stands after a request.

    problem is set (and the rest is empty) when the script cannot be trained here.
    """

    problem: str = ""
    loss_name: str = ""
    parameter_names: list[str] = field(default_factory=list)
    parameter_shapes: list[tuple[int, ...]] = field(default_factory=list)
    untrained: list[str] = field(default_factory=list)  # leaves in the loss with no name
    values: list[float] = field(default_factory=list)  # every parameter number, when few
    losses: list[float] = field(default_factory=list)  # the loss before any step, then per step
    learning_rates: list[float] = field(default_factory=list)  # the rate of each step taken
    path: list[tuple[float, ...]] = field(default_factory=list)  # with one or two numbers
    surface: Surface | None = None
    fit: LineFit | None = None
    steps_done: int = 0  # by this request
    message: str = ""  # why the steps stopped early, or a warning
    stopped: bool = False  # the steps stopped before the number asked for
    diverged: bool = False  # the loss is no longer finite: only Reset helps
    new_graph: bool = False  # the reply's snapshot is the graph after these steps

    @property
    def scalar_count(self) -> int:
        return sum(int(np.prod(shape)) for shape in self.parameter_shapes)


@dataclass
class GradCheck:
    """A leaf's autograd gradient beside central finite differences in float64."""

    leaf: str
    problem: str = ""  # set when the check could not be made; the rest is then empty
    indices: list[tuple[int, ...]] = field(default_factory=list)  # the elements checked
    autograd: list[float] = field(default_factory=list)
    numeric: list[float] = field(default_factory=list)
    numel: int = 0
    sampled: bool = False  # a random sample of the elements, not all of them
    eps: float = 0.0  # the largest perturbation used (relative to max(1, |value|))
    max_abs: float = 0.0
    max_rel: float = 0.0
    agree: bool = False
    verdict: str = ""
    notes: list[str] = field(default_factory=list)
