"""Gradient descent on a script's loss, in the worker, one re-run of the script per step.

A step is what a student would write after the script:

    with torch.no_grad():
        for p in parameters:
            p -= lr * p.grad
    for p in parameters:
        p.grad.zero_()

and then the forward pass again. The forward pass is the script itself, so it runs again from
the same seed with every parameter given its new value just before autograd first sees it
(explorer/runs/rerun.py): the new loss, graph and gradients are the script's own at those values,
and set-up the script does after making a parameter (`weight.fill_(0.5)`) is not repeated on
top of the new value. A parameter that the script changes after using it (its own training
loop) is refused, as the script is then not one forward pass.

The loss is the tensor the script last called backward on, when that is one number, or else
the one-number tensor with a grad_fn that the script bound last. The parameters are the leaves
in the loss's graph that require grad and that the script named (an unnamed leaf cannot be
found again: it keeps its value, and the report lists it). When the script called backward on
the loss, p.grad is what it computed; otherwise a step runs loss.backward() first.

Steps re-run the script without recording a graph (the fast way). The graph the window shows
after a request comes from one more run, as a Session, at the same values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from explorer.data.reports import DescentReport, LineFit, Surface
from explorer.data.snapshot import Snapshot, shape_text
from explorer.lang.errors import ScriptError
from explorer.runs import landscape
from explorer.runs.rerun import LeafKey, Rerun, RerunMode, Script, Tracked, leaf_parameters
from explorer.runs.session import Session, Traced

MAX_STEPS = 1_000  # steps one request may take
MAX_RATE = 1e4  # a larger learning rate is a typing mistake, not an experiment
GROWTH_STEPS = 5  # the loss growing this many steps in a row means the rate is too large
CHUNK_SECONDS = 0.5  # a request of many steps answers after about this long
MAX_VALUES = 16  # parameter numbers sent to the window, when there are at most this many


class Untrainable(Exception):
    """Why this script cannot be trained by the panel, in words for the student."""


@dataclass(frozen=True)
class Loss:
    """Which tensor the loss is: the script's backward_call-th backward call, or a name."""

    label: str
    backward_call: int | None = None
    name: str | None = None


class Descent:
    """Gradient descent on one script, from its own values; raises Untrainable if it cannot."""

    def __init__(self, text: str) -> None:
        try:
            self.script = Script(text)
        except ScriptError as error:
            raise Untrainable(f"the script has an error: {error.problem.one_line()}") from None
        self.watch = landscape.PairWatch()
        mode = RerunMode(track_all=True)
        mode.watchers.append(self.watch)
        first = self.script.run(mode)
        if first.problem:
            raise Untrainable(f"the script has an error: {first.problem}")
        self.loss = find_loss(first)
        parameters = _parameters(first, self.loss_of(first))
        self.keys = [entry.key for entry in parameters]
        self.shapes = [tuple(entry.tensor.shape) for entry in parameters]
        self.untrained = _untrained(first, self.loss_of(first), parameters)
        self.line = landscape.find_line(first.env, self.watch)
        self.first_line = self._line_of(first, self.watch)
        self.line_now = self.first_line
        self.overrides: dict[LeafKey, torch.Tensor] = {}
        self.current = first
        self.losses = [self._loss_value(first)]
        self.rates: list[float] = []
        self.path: list[tuple[float, ...]] = []
        if self.scalar_count <= 2:
            self.path.append(self._point(first))
        self.seconds_per_run = first.seconds
        self.surface: Surface | None = None
        self.surface_box: landscape.OpenCall | None = None
        self.surface_budget = 0.0  # the seconds the surface was given
        self.broken = "" if math.isfinite(self.losses[0]) else _not_finite(self.losses[0], 0)

    @property
    def scalar_count(self) -> int:
        return sum(math.prod(shape) for shape in self.shapes)

    # -- one run's loss and parameters ---------------------------------------------------
    def loss_of(self, run: Rerun) -> torch.Tensor:
        if self.loss.backward_call is not None:
            calls = run.binder.backward_calls
            if self.loss.backward_call < len(calls):
                return calls[self.loss.backward_call][0]
        elif isinstance(run.env.get(self.loss.name or ""), torch.Tensor):
            return run.env[self.loss.name or ""]
        raise Untrainable(f"the loss {self.loss.label} was not made when the script re-ran")

    def _loss_value(self, run: Rerun) -> float:
        return float(self.loss_of(run).detach().reshape(-1)[0])

    def parameters_of(self, run: Rerun) -> list[torch.Tensor]:
        return [run.mode.tracked[key].tensor for key in self.keys]

    def _point(self, run: Rerun) -> tuple[float, ...]:
        flat = [p.detach().reshape(-1).double() for p in self.parameters_of(run)]
        return tuple(float(v) for v in torch.cat(flat))

    def _line_of(self, run: Rerun, watch: landscape.PairWatch) -> tuple[float, float]:
        if self.line is None:
            return math.nan, math.nan
        return landscape.line_now(run.env, watch, self.line)

    def _gradients(self, run: Rerun) -> list[torch.Tensor]:
        parameters = self.parameters_of(run)
        if self.loss.backward_call is None or any(p.grad is None for p in parameters):
            for p in parameters:
                p.grad = None
            with torch.enable_grad():
                self.loss_of(run).backward()
        return [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]

    # -- steps ---------------------------------------------------------------------------
    def step(self, rate: float, count: int, seconds: float = CHUNK_SECONDS) -> DescentReport:
        """Up to count steps at rate, answering after about `seconds` with what was done."""
        refusal = check_rate(rate) or self.broken
        if refusal:
            return self.report(message=refusal, stopped=True)
        count = max(1, min(int(count), MAX_STEPS))
        started = time.perf_counter()
        done = 0
        message = ""
        while done < count:
            message = self._one_step(rate)
            if not message:
                done += 1
                message = self.broken or self._growth_message()
            if message or time.perf_counter() - started > seconds:
                break
        return self.report(message=message, stopped=bool(message), steps_done=done)

    def _one_step(self, rate: float) -> str:
        """One step; a message when it could not be taken (the state is then unchanged)."""
        run = self.current
        parameters = self.parameters_of(run)
        gradients = self._gradients(run)
        for key, grad in zip(self.keys, gradients, strict=True):
            if not bool(torch.isfinite(grad).all()):
                self.broken = f"the gradient of {key.label} is not a finite number; press Reset"
                return self.broken
        new: dict[LeafKey, torch.Tensor] = {}
        with torch.no_grad():
            for key, p, grad in zip(self.keys, parameters, gradients, strict=True):
                p -= rate * grad
                new[key] = p.detach().clone()
                p.grad = None  # zeroed: the next run's leaves start with none
        watch = landscape.PairWatch()
        mode = RerunMode(new)
        if self.line is not None:
            mode.watchers.append(watch)
        following = self.script.run(mode)
        trouble = following.problem or "; ".join(mode.problems())
        if trouble:
            self.broken = f"the script could not be run again with the new values: {trouble}"
            return self.broken
        try:
            loss = self._loss_value(following)
        except Untrainable as why:
            self.broken = str(why)
            return self.broken
        self.overrides, self.current = new, following
        self.seconds_per_run = following.seconds
        self.losses.append(loss)
        self.rates.append(rate)
        if self.scalar_count <= 2:
            self.path.append(self._point(following))
        self.line_now = self._line_of(following, watch)
        if not math.isfinite(loss):
            self.broken = _not_finite(loss, len(self.losses) - 1)
        return ""

    def _growth_message(self) -> str:
        grew = 0
        for before, after in zip(self.losses[-2::-1], self.losses[::-1], strict=False):
            if not after > before:
                break
            grew += 1
        if grew < GROWTH_STEPS:
            return ""
        return f"the loss grew for {grew} steps in a row: the learning rate is too large"

    # -- what is sent back ---------------------------------------------------------------
    def report(self, message: str = "", stopped: bool = False, steps_done: int = 0):
        values: list[float] = []
        if self.scalar_count <= MAX_VALUES:
            flat = [p.detach().reshape(-1).double() for p in self.parameters_of(self.current)]
            values = [float(v) for v in torch.cat(flat)]
        return DescentReport(
            loss_name=self.loss.label,
            parameter_names=[key.label for key in self.keys],
            parameter_shapes=list(self.shapes),
            untrained=list(self.untrained),
            values=values,
            losses=list(self.losses),
            learning_rates=list(self.rates),
            path=list(self.path),
            surface=self.surface,
            fit=self._fit(),
            steps_done=steps_done,
            message=message,
            stopped=stopped,
            diverged=bool(self.broken),
        )

    def _fit(self) -> LineFit | None:
        if self.line is None:
            return None
        slope, intercept = self.line_now
        env = self.current.env
        return LineFit(
            x_name=self.line.x_name,
            y_name=self.line.y_name,
            xs=landscape.plotted(env[self.line.x_name]),
            ys=landscape.plotted(env[self.line.y_name]),
            slope=slope,
            intercept=intercept,
            first_slope=self.first_line[0],
            first_intercept=self.first_line[1],
        )

    def update_surface(self, budget: float = landscape.SURFACE_SECONDS) -> None:
        """Compute the loss surface again when the path has left the one drawn, or when that
        one was drawn in a hurry and there is more time now."""
        dimensions = self.scalar_count
        if dimensions not in (1, 2):
            return
        if landscape.covers(self.surface_box, self.path) and self.surface_budget >= budget:
            return
        box = landscape.box_around(self.path)
        size = landscape.grid_size(dimensions, self._seconds_per_point(), budget)
        if box is None or size == 0:
            return
        self.surface = landscape.surface(box, size, self._loss_at)
        self.surface_box = box
        self.surface_budget = budget

    def _seconds_per_point(self) -> float:
        """The median of three runs made as the grid's are: what sizes the grid."""
        times = []
        for _ in range(3):
            started = time.perf_counter()
            self._loss_at(self.path[-1])
            times.append(time.perf_counter() - started)
        return sorted(times)[1]

    def _loss_at(self, point: tuple[float, ...]) -> float:
        values = torch.tensor(point, dtype=torch.float64)
        overrides: dict[LeafKey, torch.Tensor] = {}
        start = 0
        for key, shape, p in zip(
            self.keys, self.shapes, self.parameters_of(self.current), strict=True
        ):
            size = math.prod(shape)
            overrides[key] = values[start : start + size].reshape(shape).to(p.dtype)
            start += size
        mode = RerunMode(overrides)
        run = self.script.run(mode)
        if run.problem or mode.problems():
            return math.nan
        try:
            return self._loss_value(run)
        except Untrainable:
            return math.nan

    def session(self) -> Rerun:
        """A run as a Session at the current values, for the window's graph."""
        return self.script.session(RerunMode(dict(self.overrides)))


def check_rate(rate: Any) -> str:
    """Why rate cannot be a learning rate here, or "" when it can."""
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not math.isfinite(rate):
        return "the learning rate must be a finite number, such as 0.01"
    if rate <= 0:
        return "the learning rate must be above 0: a step goes against the gradient, downhill"
    if rate > MAX_RATE:
        return f"a learning rate above {MAX_RATE:,.0f} is too large to mean anything here"
    return ""


def find_loss(run: Rerun) -> Loss:
    """The last scalar the script called backward on, else the last scalar it bound."""
    names = {id(v): k for k, v in run.env.items() if isinstance(v, torch.Tensor)}
    calls = run.binder.backward_calls
    for index in range(len(calls) - 1, -1, -1):
        tensor = calls[index][0]
        if _is_scalar_loss(tensor):
            label = names.get(id(tensor), "the tensor backward was called on")
            return Loss(label, backward_call=index)
    bound = [
        (run.binder.last_bound.get(name, 0), name)
        for name, value in run.env.items()
        if isinstance(value, torch.Tensor) and value.grad_fn is not None and _is_scalar_loss(value)
    ]
    if bound:
        name = max(bound)[1]
        return Loss(name, name=name)
    raise Untrainable(
        "the script has no scalar loss: gradient descent needs one number to make smaller, "
        "such as loss = ((w*x + b - y)**2).mean()"
    )


def _is_scalar_loss(tensor: torch.Tensor) -> bool:
    return tensor.numel() == 1 and tensor.requires_grad and tensor.is_floating_point()


def _parameters(run: Rerun, loss: torch.Tensor) -> list[Tracked]:
    entries = [run.mode.entry_of(p) for p in leaf_parameters(loss)]
    found = [e for e in entries if e is not None and e.used]
    if not found:
        raise Untrainable(
            "the loss has no parameters: gradient descent changes leaves that require grad, "
            "such as w = torch.zeros(1, requires_grad=True)"
        )
    order = list(run.mode.tracked)
    found.sort(key=lambda e: order.index(e.key))
    for entry in found:
        if run.mode.changed(entry):
            raise Untrainable(
                f"the script changes {entry.key.label} after using it (from line {entry.line}), "
                "as a training loop does; take its update out and let the panel step"
            )
    return found


def _untrained(run: Rerun, loss: torch.Tensor, trained: list[Tracked]) -> list[str]:
    ids = {id(e.tensor) for e in trained}
    return [
        f"a leaf of shape {shape_text(p.shape)} with no name"
        for p in leaf_parameters(loss)
        if id(p) not in ids
    ]


def _not_finite(loss: float, step: int) -> str:
    what = "nan" if math.isnan(loss) else "inf"
    when = f"at step {step}" if step else "before any step"
    return (
        f"the loss became {what} {when}: the learning rate is too large; "
        "press Reset and try a smaller one"
    )


class Trainer:
    """The worker's gradient descent on its current run: prepare, step, show, reset."""

    def __init__(self) -> None:
        self.descent: Descent | None = None
        self.refusal = ""  # why the current run cannot be trained, once known
        self.shown: Session | None = None  # the Session made for the window, and its values
        self.shown_overrides: dict[LeafKey, torch.Tensor] = {}

    def forget(self) -> None:
        """A new run replaced the one trained: start again from it when asked."""
        self.descent, self.refusal, self.shown, self.shown_overrides = None, "", None, {}

    def overrides_for(self, session: Traced | None) -> dict[LeafKey, torch.Tensor]:
        """The values session's parameters were given, if it is a graph made here."""
        return dict(self.shown_overrides) if session is not None and session is self.shown else {}

    def handle(
        self, session: Traced | None, options: dict[str, Any]
    ) -> tuple[Snapshot | None, DescentReport]:
        """Answer one request; a snapshot when it made a new graph (now in self.shown)."""
        action = options.get("action", "prepare")
        if action == "reset":
            self.forget()
        refusal = self._prepare(session)
        if refusal or self.descent is None:
            return None, DescentReport(problem=refusal)
        descent = self.descent
        if action == "step":
            report = descent.step(
                options.get("rate", math.nan),
                options.get("steps", 1),
                options.get("seconds", CHUNK_SECONDS),
            )
        else:
            report = descent.report()
        if options.get("surface", True):
            # Before any step, quickly: a window with the panel open asks after every run.
            quick = action == "prepare" and not descent.rates
            descent.update_surface(landscape.QUICK_SECONDS if quick else landscape.SURFACE_SECONDS)
            report.surface = descent.surface
        if action == "reset" or (action in ("step", "show") and options.get("graph", True)):
            return self._show(descent, report)
        return None, report

    def _prepare(self, session: Traced | None) -> str:
        if self.descent is not None or self.refusal:
            return self.refusal
        if session is None:
            self.refusal = "there is no script run to train: run one first"
        elif not isinstance(session, Session):
            self.refusal = "gradient descent works on scripts, not on model files"
        elif session.problem is not None:
            self.refusal = "the script has an error: fix it and run it first"
        else:
            try:
                self.descent = Descent(session.text)
            except Untrainable as why:
                self.refusal = str(why)
        return self.refusal

    def _show(self, descent: Descent, report: DescentReport) -> tuple[Snapshot | None, Any]:
        run = descent.session()
        if run.problem or run.session is None:
            report.message = report.message or f"the new graph could not be made: {run.problem}"
            return None, report
        self.shown, self.shown_overrides = run.session, dict(descent.overrides)
        report.new_graph = True
        return run.session.snapshot(), report
