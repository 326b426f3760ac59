"""One run of a script, from text to Snapshot; and the seed, context and problems all runs share."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch
from torch import nn

from explorer import collector
from explorer.data.nodes import AutogradGraph
from explorer.data.snapshot import (
    Output,
    PassesAdded,
    Problem,
    Snapshot,
    TensorSummary,
    opens_collapsed,
)
from explorer.graph.recorder import Recorder
from explorer.graph.release import consumers_first, graph_roots, let_go, tensors_in
from explorer.graph.summary import summarize
from explorer.lang.errors import ScriptError
from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.lang.transcript import Code, strip_prompts
from explorer.layout.background import Background
from explorer.layout.sugiyama import Layout, layered

SEED = 0  # every run starts from the same random numbers, so a re-run shows the same graph
# How a script's run can end short: its own error, or Python's stack or memory running out.
FAILURES = (ScriptError, RecursionError, MemoryError)


class Traced:
    """A run whose tensors stay alive, so its graph can be captured and backward run on request.

    Subclasses provide `names` (the run's names, tensors and modules among them) and `outputs`
    (what it displayed); the recorder must be given the same `names`.
    """

    names: dict[str, Any]
    outputs: list[Output]

    def __init__(self, max_graph_nodes: int = Limits.max_graph_nodes) -> None:
        self.recorder = Recorder(max_graph_nodes)
        self.problem: Problem | None = None
        # Passes asked for after the run, (name, gradient): a re-run repeats them.
        self.requested: list[tuple[str, Any]] = []
        self._layout: Layout | None = None
        self._laid_out_size = (-1, -1)  # the graph's nodes and edges when _layout was made
        self._sent_size = (-1, -1)  # the same, when the last snapshot was made
        self._ahead: tuple[tuple[int, int], Background] | None = None  # lay_out_ahead's

    def backward(self, name: str, gradient: Any = None) -> Snapshot:
        """Run name.backward(gradient) now, as if it were the script's next line; the run."""
        self.run_backward(name, gradient)
        return self.snapshot()

    def backward_on_request(self, name: str, gradient: Any = None) -> PassesAdded:
        """The same, answered with only what the pass added to the run on screen."""
        known = len(self.recorder.passes)
        self.run_backward(name, gradient)
        if self._capture_or_none() != self._sent_size:
            return PassesAdded(snapshot=self.snapshot(layout=False))  # it reached new nodes
        added = self.recorder.passes[known:]
        return PassesAdded(added, self.leaf_grads(), self.problem)

    def run_backward(self, name: str, gradient: Any = None) -> None:
        tensor = self.names.get(name)
        if not isinstance(tensor, torch.Tensor):
            self.problem = Problem(f"{name} is not a tensor of this script")
            return
        if gradient is None and tensor.numel() != 1:
            gradient = torch.ones_like(tensor)
        arguments = {"gradient": gradient, "retain_graph": True}
        self.problem = None
        try:
            with collector.paused():
                self.recorder.record_backward(tensor, arguments, line=0)
            self.requested.append((name, gradient))
        except ScriptError as error:
            self.problem = error.problem

    def named_tensors(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.names.items() if isinstance(v, torch.Tensor)}

    def snapshot(self, layout: bool = True) -> Snapshot:
        """The run as plain data. Without layout, a graph the window opens collapsed to its
        module calls is sent without places: the window lays out only what it shows."""
        size = self._sent_size = self._capture_or_none()
        if size is None:  # refused: too large to draw, so nothing of it is sent
            return Snapshot(outputs=list(self.outputs), problem=self.problem)
        graph = self.recorder.capture.graph
        if size != self._laid_out_size and (layout or not opens_collapsed(graph)):
            # The graph only grows, so the same size is the same graph: lay it out once.
            ahead, self._ahead = self._ahead, None
            self._layout = ahead[1].result() if ahead and ahead[0] == size else layered(graph)
            self._laid_out_size = size
            if ahead and ahead[0] != size:
                ahead[1].close()
        laid_out = self._layout if size == self._laid_out_size else None
        return Snapshot(
            outputs=list(self.outputs),
            graph=graph,
            passes=list(self.recorder.passes),
            grads=self.leaf_grads(),
            layout=laid_out.positions if laid_out else {},
            routes=laid_out.routes if laid_out else {},
            problem=self.problem,
        )

    def lay_out_ahead(self) -> None:
        """Start laying out the graph of the last snapshot in a process of its own, for the
        next snapshot that needs it: an export runs its backward pass meanwhile."""
        size = self._sent_size
        if size != self._laid_out_size and size[0] > 0:
            self._ahead = (size, Background(self.recorder.capture.graph))

    def _capture_or_none(self) -> tuple[int, int] | None:
        """The graph's size, or None when it is past the node limit (the run's problem then)."""
        try:
            return self._capture()
        except ScriptError as error:
            self.problem = self.problem or error.problem
            return None

    def _capture(self) -> tuple[int, int]:
        """Capture every named tensor's graph; its size, in nodes and edges."""
        with collector.paused():
            self.recorder.capture_tensors(list(self.named_tensors().values()))
        capture = self.recorder.capture
        _mark_outputs(capture.graph)
        return capture.graph.number_of_nodes(), capture.edge_count

    def release(self) -> None:
        """Free the run's tensors and graph now, outputs first (see explorer.graph.release).

        Called when the run is dropped: freed in the order of the references, a deep graph
        would crash the process."""
        nodes = consumers_first(
            graph_roots(tensors_in(list(self.names.values()))), self.recorder.capture.closed()
        )
        # Drop this run's hold on its names, not the names: whoever kept them keeps them.
        self.recorder.forget()
        self._forget_names()
        let_go(nodes)

    def _forget_names(self) -> None:
        self.names = {}

    def __del__(self) -> None:
        try:
            self.names  # noqa: B018
        except AttributeError:  # a run whose construction failed holds no graph
            return
        self.release()

    def leaf_grads(self) -> dict[str, TensorSummary | None]:
        """.grad of every named leaf that requires grad, and every parameter of a named module."""
        grads: dict[str, TensorSummary | None] = {}
        for name, value in self.names.items():
            if isinstance(value, torch.Tensor) and value.is_leaf:
                if value.requires_grad or value.grad is not None:
                    grads[name] = None if value.grad is None else summarize(value.grad)
            elif isinstance(value, nn.Module):
                for path, parameter in value.named_parameters():
                    grad = parameter.grad
                    grads[f"{name}.{path}"] = None if grad is None else summarize(grad)
        return grads


class Session(Traced):
    """A script that has run, kept alive so a backward pass can be requested afterwards."""

    def __init__(self, text: str, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        super().__init__(self.limits.max_graph_nodes)
        self.text = text
        # An over-long text is left as it is: parse refuses it before any work.
        long = len(text) > self.limits.max_source_chars
        self.code: Code = Code(text, []) if long else strip_prompts(text)
        self.interpreter = Interpreter(self.code.text, self.limits, self.recorder)
        self.recorder.names = self.interpreter.env

    @property
    def names(self) -> dict[str, Any]:
        return self.interpreter.env

    @property
    def outputs(self) -> list[Output]:
        return self.interpreter.outputs

    def _forget_names(self) -> None:
        self.interpreter.forget_names()

    def run(self, layout: bool = True) -> Snapshot:
        self.execute()
        return self.snapshot(layout)

    def execute(self) -> None:
        """Run the script from the same seed, keeping any problem; the graph is made later."""
        self.interpreter.place = self._problem  # at the pasted text's columns, too
        try:
            with recording(self.recorder):
                tree = parse(self.code.text, self.limits)
                self.interpreter.run(tree)
        except FAILURES as error:
            self.problem = self._problem(error)
        finally:
            self.interpreter.place = None  # no cycle through the interpreter

    def _problem(self, error: BaseException) -> Problem:
        problem = problem_of(error, self.interpreter.current_line, self.text.splitlines())
        return self._original_place(problem) if isinstance(error, ScriptError) else problem

    def _original_place(self, problem: Problem) -> Problem:
        """Report a transcript's error at the column and text the user pasted."""
        lines = self.text.splitlines()
        if 1 <= problem.line <= len(lines):
            problem.column = self.code.original_column(problem.line, problem.column)
            problem.text = lines[problem.line - 1]
        return problem


def seed() -> None:
    """Start the random numbers from SEED, so that a re-run draws what the run it repeats drew.

    A script draws only from the CPU generator (the language refuses devices), and seeding it
    alone is fast; torch.manual_seed also queues seeds for absent accelerators, with a traceback
    each time, which is most of a small re-run's time. A trusted model file may draw on an
    accelerator, so on a machine that has one every device is seeded. The CPU generator gets
    the same seed either way, so every run draws the same numbers as with torch.manual_seed.
    """
    if torch.accelerator.is_available():
        torch.manual_seed(SEED)
    else:
        torch.default_generator.manual_seed(SEED)


@contextmanager
def recording(recorder: Recorder | None = None) -> Iterator[None]:
    """What every run happens inside: seeded, grad on, warnings quiet, no cycle pauses, and
    the recorder's module hooks when the run is recorded."""
    seed()
    hooks: AbstractContextManager[Any] = nullcontext() if recorder is None else recorder.modules
    with warnings.catch_warnings(), torch.enable_grad(), collector.paused(), hooks:
        warnings.simplefilter("ignore")
        yield


def problem_of(error: BaseException, line: int = 0, lines: Sequence[str] = ()) -> Problem:
    """The problem a run that raised one of FAILURES ended in.

    A ScriptError carries its own. Running out of stack or memory has no place of its own: it
    is put at line, the statement running then (0: at no line), whose text lines gives.
    """
    if isinstance(error, ScriptError):
        return error.problem
    if isinstance(error, RecursionError):
        message = "the script is nested too deeply"
    else:
        message = "the script ran out of memory"
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return Problem(message, line=line, column=1 if line else 0, text=text)


def _mark_outputs(graph: AutogradGraph) -> None:
    succ = graph.succ  # per node, its consumers: nodes with none are the graph's ends
    for node, record in graph.nodes(data=True):
        if record.kind == "op" and not succ[node]:
            record.output = True


def run_script(text: str, limits: Limits | None = None) -> Snapshot:
    return Session(text, limits).run()
