"""Run a script again with some of its leaves holding other values.

Gradient descent and the numerical gradient check both need the script's forward pass at
values the script did not write. The script is its own forward pass, so it runs again, from
the same random seed, and each such leaf is found again and given its value.

Finding a leaf again. A leaf is known by how the script first reached it: the k-th time a
name was bound, to the tensor itself or to a module holding it as a parameter (a LeafKey, such
as ("w", 1, "") or ("model", 1, "0.weight")). The same text run from the same seed binds the
same names in the same order, so the key finds the re-run's own tensor.

When the value is given. Not when the name is bound: the script may still set the leaf up
after that (`with torch.no_grad(): model.weight.fill_(0.5)`), and that set-up made the old
value, so it must not overwrite the new one. The value is copied in just before the first
operation autograd could record the leaf in: the first torch call that takes it while grad
mode is on and it requires grad (reading its shape or .grad, or requires_grad_, do not
count). A torch function mode sees every such call, those a module makes with its parameters
inside forward too, so the new value is what every use in the graph sees.

What is checked. Every key must be found and every value used. A leaf that changes after its
first use (the script updates it itself, as a training loop does) means the run is not one
forward pass at one value of the leaf: RerunMode.changed names those.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from explorer.lang.autograd_calls import BackwardCall
from explorer.lang.interpreter import Interpreter, NullObserver
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.lang.transcript import strip_prompts
from explorer.runs.session import FAILURES, Session, problem_of, recording

# Calls that read a tensor's metadata or flags: autograd records nothing for them.
_NOT_A_USE = frozenset(
    "__get__ __set__ requires_grad_ retain_grad numel element_size _is_view dim size stride "
    "is_floating_point is_complex data_ptr storage_offset is_contiguous __repr__ __format__ "
    "__str__ __len__ __hash__ _version".split()
)
_COPY_LIMIT = 1_000_000  # leaves up to this size are also compared by value after the run


@dataclass(frozen=True)
class LeafKey:
    """How a script first reached a leaf: the occurrence-th binding of name (1 for the first),
    to the tensor itself (path "") or to a module holding it at path."""

    name: str
    occurrence: int = 1
    path: str = ""

    @property
    def label(self) -> str:
        """The leaf as the script names it: w, model.0.weight."""
        return f"{self.name}.{self.path}" if self.path else self.name


@dataclass
class Tracked:
    """A leaf the mode watches: its new value, if any, and whether autograd saw it yet."""

    key: LeafKey
    tensor: torch.Tensor
    value: torch.Tensor | None = None  # copied in at its first use
    used: bool = False
    line: int = 0  # the script line of its first use
    version: int = -1  # its version counter just after its first use
    copy: torch.Tensor | None = None  # its values just after its first use
    problem: str = ""


class RerunMode(TorchFunctionMode):
    """Gives tracked leaves their new values at their first use, and watches every call.

    overrides: the new value of each leaf, by key (None: track it, keep its value).
    track_all: also track every other leaf the script binds, unchanged, to learn the keys of a
    first run.
    """

    def __init__(
        self, overrides: dict[LeafKey, torch.Tensor | None] | None = None, track_all: bool = False
    ) -> None:
        super().__init__()
        self.overrides = overrides or {}
        self.track_all = track_all
        self.tracked: dict[LeafKey, Tracked] = {}
        self._by_id: dict[int, Tracked] = {}
        self._waiting: dict[int, Tracked] = {}  # tracked, not used yet
        self._paused = 0
        self.line: Callable[[], int] = _no_line
        # Called after every call the script makes: (func, args, kwargs, result).
        self.watchers: list[Callable[[Any, tuple, dict, Any], None]] = []

    # -- tracking ------------------------------------------------------------------------
    def reached(self, key: LeafKey, tensor: torch.Tensor) -> None:
        """The script bound a leaf under key; track it if it is wanted and new."""
        if key not in self.overrides and not self.track_all:
            return
        known = self._by_id.get(id(tensor))
        if known is not None and known.tensor is tensor:
            return  # reached before under an earlier key: that one is how it is found
        entry = Tracked(key, tensor, self.overrides.get(key))
        self.tracked[key] = entry
        self._by_id[id(tensor)] = entry
        self._waiting[id(tensor)] = entry

    def entry_of(self, tensor: torch.Tensor) -> Tracked | None:
        entry = self._by_id.get(id(tensor))
        return entry if entry is not None and entry.tensor is tensor else None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made inside are the explorer's own, not the script's."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def problems(self) -> list[str]:
        """What kept this run from being the forward pass at the new values."""
        found = [e.problem for e in self.tracked.values() if e.problem]
        for key in self.overrides:
            entry = self.tracked.get(key)
            if entry is None:
                found.append(f"{key.label} was not made again when the script re-ran")
            elif not entry.used:
                found.append(f"{key.label} was not used when the script re-ran")
        return found

    def changed(self, entry: Tracked) -> bool:
        """Whether the leaf changed after its first use (by the script, or through .data)."""
        if not entry.used:
            return False
        tensor = entry.tensor
        if tensor._version != entry.version:
            return True
        if entry.copy is None:
            return False
        now = tensor.detach()
        return not torch.equal(now, entry.copy) and not bool(
            torch.all((now == entry.copy) | (now.isnan() & entry.copy.isnan()))
        )

    def finish(self) -> None:
        """Drop what links back to the interpreter, once the run is over."""
        self.line = _no_line
        self._waiting.clear()

    # -- the mode ------------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None):
        kwargs = kwargs or {}
        if self._paused:
            return func(*args, **kwargs)
        watching = self._waiting and torch.is_grad_enabled()
        if watching and getattr(func, "__name__", "") not in _NOT_A_USE:
            for tensor in tensors_in(args, kwargs):
                entry = self._waiting.get(id(tensor))
                if entry is not None and entry.tensor is tensor and tensor.requires_grad:
                    self._first_use(entry)
        result = self.call(func, args, kwargs)
        for watch in self.watchers:
            watch(func, args, kwargs, result)
        return result

    def call(self, func: Any, args: tuple, kwargs: dict) -> Any:
        """Make the call itself; a subclass may change how."""
        return func(*args, **kwargs)

    def _first_use(self, entry: Tracked) -> None:
        del self._waiting[id(entry.tensor)]
        tensor, value = entry.tensor, entry.value
        if value is not None:
            if tuple(value.shape) != tuple(tensor.shape):
                entry.problem = (
                    f"{entry.key.label} has shape {tuple(tensor.shape)} when the script re-runs, "
                    f"not {tuple(value.shape)}"
                )
            else:
                with torch.no_grad():
                    tensor.copy_(value)
        entry.used = True
        entry.line = self.line()
        entry.version = tensor._version
        if tensor.numel() <= _COPY_LIMIT:
            entry.copy = tensor.detach().clone()


def _no_line() -> int:
    return 0


def tensors_in(args: tuple, kwargs: dict) -> Iterator[torch.Tensor]:
    """The tensors among a call's arguments, and in lists of them (an LSTM's weights)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, list | tuple) and len(value) <= 256:
            for item in value:
                if isinstance(item, torch.Tensor):
                    yield item
                elif isinstance(item, list | tuple) and len(item) <= 256:
                    yield from (t for t in item if isinstance(t, torch.Tensor))


class Binder:
    """The interpreter's observer in a re-run: tells the mode of every leaf the script binds,
    notes backward calls, and passes everything on to the real observer."""

    def __init__(self, inner: Any, mode: RerunMode) -> None:
        self.inner = inner
        self.mode = mode
        self.counts: dict[str, int] = {}
        self.sequence = 0
        self.last_bound: dict[str, int] = {}  # name -> sequence number of its last binding
        self.backward_calls: list[tuple[torch.Tensor, Any]] = []  # (tensor, gradient)

    def bound(self, name: str, value: Any) -> None:
        with self.mode.paused():
            self.inner.bound(name, value)
        occurrence = self.counts[name] = self.counts.get(name, 0) + 1
        self.sequence += 1
        self.last_bound[name] = self.sequence
        for path, tensor in _leaves_of(value):
            self.mode.reached(LeafKey(name, occurrence, path), tensor)

    def produced(self, value: Any) -> None:
        with self.mode.paused():
            self.inner.produced(value)

    def inputs(self, result: Any, given: Any) -> None:
        with self.mode.paused():
            self.inner.inputs(result, given)

    def backward_pass(self, call: BackwardCall, line: int) -> Any:
        if not call.grad:  # a pass that fills .grad; torch.autograd.grad's fill none
            self.backward_calls.extend(zip(call.roots, call.gradients, strict=True))
        return self.inner.backward_pass(call, line)


def _leaves_of(value: Any) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        return [("", value)] if value.grad_fn is None else []
    if isinstance(value, nn.Module):
        return list(value.named_parameters())
    return []


@dataclass
class Rerun:
    """A finished re-run: its names, its backward calls, and what went wrong, if anything."""

    env: dict[str, Any]
    binder: Binder
    mode: RerunMode
    problem: str = ""
    seconds: float = 0.0
    session: Session | None = None  # when run as a Session, for its graph
    extra: dict[str, Any] = field(default_factory=dict)


class Script:
    """A script's text, parsed once, to be run again and again."""

    def __init__(self, text: str, limits: Limits | None = None) -> None:
        self.text = text
        self.limits = limits or Limits()
        self.code = strip_prompts(text)
        self.tree = parse(self.code.text, self.limits)  # ScriptError if it does not parse

    def run(self, mode: RerunMode) -> Rerun:
        """One run from the seed under mode, with no graph recorded: the fast way."""
        started = time.perf_counter()
        interpreter = Interpreter(self.code.text, self.limits)
        binder = Binder(NullObserver(), mode)
        interpreter.observer = binder
        mode.line = lambda: interpreter.current_line
        problem = ""
        try:
            with recording(), mode:  # seeded as every run is; no recorder: no module hooks
                interpreter.run(self.tree)
        except FAILURES as error:
            problem = problem_of(error).one_line()
        finally:
            mode.finish()
        seconds = time.perf_counter() - started
        return Rerun(interpreter.env, binder, mode, problem, seconds)

    def session(self, mode: RerunMode) -> Rerun:
        """One run as a Session, whose graph and backward passes the window can show."""
        session = Session(self.text, self.limits)
        binder = Binder(session.recorder, mode)
        session.interpreter.observer = binder
        interpreter = session.interpreter
        mode.line = lambda: interpreter.current_line
        started = time.perf_counter()
        try:
            with mode:
                session.execute()
        finally:
            mode.finish()
        problem = session.problem.one_line() if session.problem is not None else ""
        seconds = time.perf_counter() - started
        return Rerun(session.names, binder, mode, problem, seconds, session=session)


def leaf_parameters(loss: torch.Tensor) -> list[torch.Tensor]:
    """The leaves that require grad in loss's graph, in the order a walk from loss meets them."""
    found: list[torch.Tensor] = []
    seen_nodes: set[Any] = set()
    seen_leaves: set[int] = set()
    stack = [loss.grad_fn] if loss.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if node is None or node in seen_nodes:
            continue
        seen_nodes.add(node)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor) and id(variable) not in seen_leaves:
            seen_leaves.add(id(variable))
            found.append(variable)
        stack.extend(child for child, _ in reversed(node.next_functions))
    return found
