"""One run of a script, from text to Snapshot: what the window, the command line and tests use."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from explorer import collector
from explorer.data.snapshot import Output, Problem, Snapshot, TensorSummary
from explorer.graph.recorder import Recorder
from explorer.graph.summary import summarize
from explorer.lang.errors import ScriptError
from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.lang.transcript import Code, strip_prompts
from explorer.layout.sugiyama import layered

SEED = 0  # every run starts from the same random numbers, so a re-run shows the same graph


class Traced:
    """A run whose tensors stay alive, so its graph can be captured and backward run on request.

    Subclasses provide `names` (the run's names, tensors and modules among them) and `outputs`
    (what it displayed); the recorder must be given the same `names`.
    """

    names: dict[str, Any]
    outputs: list[Output]

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.problem: Problem | None = None
        # Passes asked for after the run, (name, gradient): a re-run repeats them.
        self.requested: list[tuple[str, Any]] = []

    def backward(self, name: str, gradient: Any = None) -> Snapshot:
        """Run name.backward(gradient) now, as if it were the script's next line."""
        tensor = self.names.get(name)
        if not isinstance(tensor, torch.Tensor):
            self.problem = Problem(f"{name} is not a tensor of this script")
            return self.snapshot()
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
        return self.snapshot()

    def named_tensors(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.names.items() if isinstance(v, torch.Tensor)}

    def snapshot(self) -> Snapshot:
        with collector.paused():
            self.recorder.capture_tensors(list(self.named_tensors().values()))
        graph = self.recorder.capture.graph
        _mark_outputs(graph)
        layout = layered(graph)
        return Snapshot(
            outputs=list(self.outputs),
            graph=graph,
            passes=list(self.recorder.passes),
            grads=self.leaf_grads(),
            layout=layout.positions,
            routes=layout.routes,
            problem=self.problem,
        )

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
        super().__init__()
        self.text = text
        self.limits = limits or Limits()
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

    def run(self) -> Snapshot:
        self.execute()
        return self.snapshot()

    def execute(self) -> None:
        """Run the script from the same seed, keeping any problem; the graph is made later."""
        torch.manual_seed(SEED)
        try:
            with recording(self.recorder):
                tree = parse(self.code.text, self.limits)
                self.interpreter.run(tree)
        except ScriptError as error:
            self.problem = self._original_place(error.problem)
        except RecursionError:
            self.problem = self._at_current_line("the script is nested too deeply")
        except MemoryError:
            self.problem = self._at_current_line("the script ran out of memory")

    def _at_current_line(self, message: str) -> Problem:
        line = self.interpreter.current_line
        lines = self.text.splitlines()
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        return Problem(message, line=line, column=1 if line else 0, text=text)

    def _original_place(self, problem: Problem) -> Problem:
        """Report a transcript's error at the column and text the user pasted."""
        lines = self.text.splitlines()
        if 1 <= problem.line <= len(lines):
            problem.column = self.code.original_column(problem.line, problem.column)
            problem.text = lines[problem.line - 1]
        return problem


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """What every run happens inside: grad on, warnings quiet, module hooks, no cycle pauses."""
    with warnings.catch_warnings(), torch.enable_grad(), collector.paused(), recorder.modules:
        warnings.simplefilter("ignore")
        yield


def _mark_outputs(graph: Any) -> None:
    for node, degree in graph.out_degree():
        if degree == 0 and graph.nodes[node].get("kind") == "op":
            graph.nodes[node]["output"] = True


def run_script(text: str, limits: Limits | None = None) -> Snapshot:
    return Session(text, limits).run()
