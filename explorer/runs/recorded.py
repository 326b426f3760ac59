"""Your own code, recorded: the backward passes run inside `with explorer.record()`, or one
from `explorer.capture(loss)`, through the capture, trace, layout and Snapshot that scripts go
through, so a recording is the same plain data as a script's run.

Inside the block, `Tensor.backward`, `torch.autograd.backward` and `torch.autograd.grad` are
routed through the recorder (and put back when the block ends); nothing else of the user's
code is touched, and the recording keeps no tensor of it once it is made.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import torch
from torch import nn

import explorer
from explorer import collector
from explorer.app import PAGE, PICTURE_FLAG, PICTURES, RECORDING_FLAG
from explorer.data import export
from explorer.data.snapshot import Snapshot
from explorer.lang.autograd_calls import BackwardCall, make_call
from explorer.lang.errors import ScriptError
from explorer.page import fragment, write_page
from explorer.runs.session import Traced

_TORCH = str(Path(torch.__file__).parent)
_OURS = str(Path(explorer.__file__).parent)


class Recording:
    """What `record()` or `capture()` recorded: the graph, its backward passes in the order
    the engine ran them, and the leaves' `.grad`, as plain data.

    >>> with explorer.record() as rec:
    ...     loss = model(x).pow(2).mean()
    ...     loss.backward()
    >>> rec.save("step.json")
    """

    def __init__(self, origin: tuple[str, int]) -> None:
        self.origin = origin  # (file, line) of the with statement or of the capture call
        self.snapshot = Snapshot()

    @property
    def passes(self) -> int:
        return len(self.snapshot.passes)

    def to_json(self, *, values: str = "small") -> dict[str, Any]:
        """A JSON-ready dict in the export format (as `python main.py export` writes; its
        "outputs" is empty): `json.dumps(rec.to_json(), allow_nan=False)` works. values:
        "small" (every value of tensors up to 64 elements, a summary of larger ones) or "all"
        (every value the recording keeps)."""
        data = self.snapshot.to_dict(values)
        data["outputs"] = []
        return data

    def save(self, path: str | Path, *, values: str = "small") -> Path:
        """Write the recording to path, in the format its suffix names: .json, .dot, .gv or
        .graphml (data; `values` as to_json takes it), .png, .svg or .pdf (the graph as the
        window draws it), .gif (the last pass, a frame a step) or .html (a page that steps
        through the passes in any browser, with nothing to install); the path written.
        Pictures are drawn in a process of their own, so no Qt runs in yours.

        >>> rec.save("step.html")  # open it in a browser; step.html#step=3 opens step 3
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix in PICTURES:
            _draw(self.snapshot, target)
        elif suffix == PAGE:
            write_page(self.snapshot, target, title=target.stem, origin=self.where())
        elif suffix in export.FORMATS:
            export.write(self.snapshot, target, values)
        else:
            formats = ", ".join((*export.FORMATS, *PICTURES, PAGE))
            raise ValueError(f"cannot save a recording as {target.suffix!r}; use {formats}")
        return target

    def place(self) -> str:
        """Where the recording was made: `train.py:12`, or `a notebook cell, line 3`."""
        file, line = self.origin
        if "ipykernel_" in file or file.startswith("<"):
            return f"a notebook cell, line {line}"
        return f"{Path(file).name}:{line}"

    def where(self) -> str:
        return f"Recording from {self.place()}"

    def _repr_html_(self) -> str:
        """The HTML stepper, inline in Jupyter, VS Code or Colab: click it, then ← → Space."""
        return fragment(self.snapshot, title="Backward pass", origin=self.where())

    def show(self) -> subprocess.Popen:
        """Open the desktop window on this recording, in a process of its own (no Qt event loop
        here, in your process or notebook kernel); returns at once, with that process."""
        data = pickle.dumps((self.snapshot, self.place()), pickle.HIGHEST_PROTOCOL)
        command = "import sys; from explorer.app import main; sys.exit(main(sys.argv[1:]))"
        process = subprocess.Popen(
            [sys.executable, "-c", command, RECORDING_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the window lives on if this kernel stops
        )
        threading.Thread(target=_hand_over, args=(process, data), daemon=True).start()
        return process

    def __repr__(self) -> str:
        nodes = self.snapshot.graph.number_of_nodes()
        count = f"{self.passes} backward pass{'' if self.passes == 1 else 'es'}"
        return f"<Recording of {count}, {nodes:,} nodes, from {self.place()}>"


def _draw(snapshot: Snapshot, target: Path) -> None:
    command = "import sys; from explorer.app import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", command, PICTURE_FLAG, str(target)],
        input=pickle.dumps(snapshot, pickle.HIGHEST_PROTOCOL),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        words = done.stderr.decode(errors="replace").strip().splitlines()
        raise OSError(words[-1] if words else f"drawing {target.name} failed")


def _hand_over(process: subprocess.Popen, data: bytes) -> None:
    """Write the recording to the window process, which reads it all before it starts."""
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        process.stdin.write(data)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()


class _Run(Traced):
    """The recorded code's run: the names it was given, no outputs of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, Any] = {}
        self.recorder.names = self.names
        self.outputs = []

    def name(self, names: Mapping[str, Any], before: set[int] | None = None) -> None:
        """Give tensors and modules their names; the first name a value gets stays. A result
        whose node is in before (made before the block) is not named: naming it would draw
        its graph, from an earlier step, beside the one recorded."""
        for key, value in names.items():
            if key.startswith("_") or not isinstance(value, torch.Tensor | nn.Module):
                continue
            made = getattr(value, "grad_fn", None)
            if before is not None and made is not None and id(made) in before:
                continue
            self.names.setdefault(key, value)
            self.recorder.bound(key, value)

    def forget_user_state(self) -> None:
        """Drop every reference to the user's tensors and autograd nodes; the data stays."""
        self.recorder.forget()
        self.names.clear()


class record:
    """Record every backward pass run inside the block.

    names maps names to tensors and modules (`{"model": model, "x": x}`); by default the
    names of the code around the `with` name them, as a script's names do. A module's
    parameters are named NAME.PARAM and its calls NAME.CHILD.
    """

    def __init__(self, names: Mapping[str, Any] | None = None) -> None:
        self._names = names
        self._frame: FrameType | None = None
        self._run: _Run | None = None
        self._restore: list[tuple[Any, str, Any]] = []
        self._depth = 0
        self.recording: Recording | None = None
        # the nodes of results the code around held when the block began (kept alive only
        # while it runs, so that their ids stay theirs)
        self._earlier: list[Any] = []

    def __enter__(self) -> Recording:
        frame = sys._getframe(1)
        self._frame = frame
        self.recording = Recording((frame.f_code.co_filename, frame.f_lineno))
        self._run = _Run()
        if self._names is None:
            self._earlier = [
                value.grad_fn
                for scope in (frame.f_locals, frame.f_globals)
                for value in scope.values()
                if isinstance(value, torch.Tensor) and value.grad_fn is not None
            ]
        self._name_now()
        self._run.recorder.modules.__enter__()
        self._patch()
        return self.recording

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType
    ) -> None:
        run, recording = self._run, self.recording
        assert run is not None and recording is not None
        try:
            self._unpatch()
            run.recorder.modules.__exit__(kind, error, trace)
            self._name_now()
            with collector.paused():
                recording.snapshot = run.snapshot()
        finally:
            run.forget_user_state()
            self._frame = self._run = None
            self._earlier = []

    # -- names -----------------------------------------------------------------------------
    def _name_now(self) -> None:
        assert self._run is not None
        if self._names is not None:
            self._run.name(self._names)
        elif self._frame is not None:
            before = {id(node) for node in self._earlier}
            self._run.name(self._frame.f_locals, before)
            self._run.name(self._frame.f_globals, before)

    # -- the engine's three doors ----------------------------------------------------------
    def _patch(self) -> None:
        autograd = torch.autograd
        tensor_backward, backward, grad = torch.Tensor.backward, autograd.backward, autograd.grad
        self._restore = [
            (torch.Tensor, "backward", tensor_backward),
            (autograd, "backward", backward),
            (autograd, "grad", grad),
        ]
        # Tensor.backward calls torch.autograd.backward: the outer door records, the inner
        # one lets the call through (self._depth).
        torch.Tensor.backward = self._door(tensor_backward, "backward")  # type: ignore[method-assign]
        autograd.backward = self._door(backward, "torch.autograd.backward")  # type: ignore[assignment]
        autograd.grad = self._door(grad, "torch.autograd.grad")  # type: ignore[assignment]

    def _unpatch(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore = []

    def _door(self, original: Callable[..., Any], name: str) -> Callable[..., Any]:
        def door(*args: Any, **kwargs: Any) -> Any:
            call = None if self._depth else _call_or_none(name, args, kwargs)
            if call is None:  # inside a recorded pass (BackwardCall.run), or not recordable
                return original(*args, **kwargs)
            self._record(call)
            return call.results if call.grad else None

        return door

    def _record(self, call: BackwardCall) -> None:
        run = self._run
        assert run is not None
        self._name_now()
        self._depth += 1
        try:
            with collector.paused():
                run.recorder.backward_pass(call, _user_line())
        except ScriptError as error:
            # The user's own code: the error of the kind torch raised, in its own words.
            raise error.kind(error.problem.message) from None
        finally:
            self._depth -= 1


def capture(
    tensor: torch.Tensor,
    gradient: torch.Tensor | None = None,
    params: Mapping[str, Any] | None = None,
    names: Mapping[str, Any] | None = None,
) -> Recording:
    """Record one backward pass from tensor, leaving your state as it was: every leaf's
    `.grad` is put back, the graph stays usable (as with retain_graph=True), and the hooks
    the recording used are removed.

    >>> view = explorer.capture(loss, params=dict(model.named_parameters()))
    """
    given: dict[str, Any] = {**(params or {}), **(names or {})}
    if not given:
        frame = sys._getframe(1)
        given = {**frame.f_globals, **frame.f_locals}
    leaves = _leaves(tensor)
    kept = [(leaf, leaf.grad) for leaf in leaves]
    for leaf, grad in kept:
        if grad is not None:  # accumulated into a copy: the user's own tensor is not touched
            leaf.grad = grad.detach().clone()
    rec = record(names=given)
    recording = rec.__enter__()
    recording.origin = _user_place()
    try:
        tensor.backward(gradient, retain_graph=True)
    finally:
        rec.__exit__(None, None, None)  # type: ignore[arg-type]
        for leaf, grad in kept:
            leaf.grad = grad
    return recording


def _leaves(tensor: torch.Tensor) -> list[torch.Tensor]:
    """The leaves whose .grad a pass from tensor can change."""
    found: list[torch.Tensor] = []
    seen: set[Any] = set()
    stack = [tensor.grad_fn] if tensor.grad_fn is not None else []
    if tensor.grad_fn is None and tensor.requires_grad:
        return [tensor]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            found.append(variable)
        stack.extend(child for child, _ in node.next_functions)
    return found


def _call_or_none(name: str, args: tuple, kwargs: dict) -> BackwardCall | None:
    """The pass the user's call asks for, as scripts' calls are read (autograd_calls.py); None
    for a call torch should answer as it is (its own error, or is_grads_batched=True)."""
    try:
        return make_call(name, args, kwargs)
    except ScriptError:
        return None


def _user_place() -> tuple[str, int]:
    """(file, line) of the first frame outside torch and the explorer: the user's code."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        file = frame.f_code.co_filename
        if not (file.startswith(_TORCH) or file.startswith(_OURS)):
            return file, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


def _user_line() -> int:
    return _user_place()[1]
