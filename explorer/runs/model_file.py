"""A user's own model file: trusted Python, run for real, its graph captured like a script's.

The file defines `model` (an nn.Module) and either `example_input` (a tensor, or a tuple of
tensors passed as model(*example_input)) or `loss` (a function of no arguments, or of the
model, returning a scalar tensor). The root is named `output` or `loss`, so the window's
Backward button asks for it by name just as it does for a script's tensors.

Unlike a script, the file is ordinary Python with the user's own permissions: only run it when
the user has said they trust it.
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from explorer.data.snapshot import Output, Problem, Snapshot, shape_text
from explorer.data.text_files import read_text
from explorer.graph.trace import root_node
from explorer.runs.session import Traced, recording

# Not "__main__": a file's `if __name__ == "__main__":` block (training, say) should not run.
MODULE_NAME = "__model__"
MAX_MESSAGE = 300  # characters of an exception's first line kept in a problem


class ModelFileError(Exception):
    """Why a model file cannot be shown, and the line (and column) of the file to look at."""

    def __init__(self, message: str, hint: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message, self.hint, self.line, self.column = message, hint, line, column


class ModelFileSession(Traced):
    """A model file that has run, kept alive so a backward pass can follow, as a script's can."""

    def __init__(self, path: str | Path, text: str) -> None:
        super().__init__()
        self.filename = str(path)  # exactly as compiled, so traceback frames can be matched
        self.path = Path(path)
        self.text = text
        self.lines = text.splitlines()
        self.names: dict[str, Any] = {}
        self.recorder.names = self.names
        self.outputs: list[Output] = [Output(0, f"Model file {self.filename}")]
        self.root_name = ""  # "output" or "loss", once the root has been computed
        self._tree: ast.Module | None = None

    def run(self, layout: bool = True) -> Snapshot:
        try:
            with recording(self.recorder), _importable_from(self.path.parent), _no_input():
                self._run_file()
        except ModelFileError as error:
            self.problem = self._problem(error)
        return self.snapshot(layout)

    # -- the steps of a run --------------------------------------------------------------
    def _run_file(self) -> None:
        namespace = self._execute()
        model = namespace.get("model")
        if model is None:
            raise ModelFileError(
                "the file defines no `model`",
                "assign your network to a top-level name: model = nn.Sequential(...)",
                line=1,
                column=1,
            )
        if not isinstance(model, nn.Module):
            raise ModelFileError(
                f"`model` is {_a(model)}, not an nn.Module",
                "assign your network (an nn.Module) to model",
                *self._defined("model"),
            )
        # Named before its forward runs, so the module hooks give nodes paths like model.0.
        self.recorder.bound("model", model)
        if "loss" in namespace:
            self.root_name = "loss"
            root = self._loss(namespace["loss"], model)
        elif "example_input" in namespace:
            self.root_name = "output"
            root = self._output(model, namespace["example_input"])
        else:
            raise ModelFileError(
                "the file defines neither `example_input` nor `loss`",
                "add example_input = torch.randn(...) shaped for your model, "
                "or def loss(): returning a scalar tensor",
                line=1,
                column=1,
            )
        # The root is named first, so a top-level name for the same tensor does not take it.
        self.recorder.bound(self.root_name, root)
        self.names.update({self.root_name: root, "model": model})
        self._name_the_rest(namespace, model)
        shown = f"{self.root_name} = {self._call_text()}\n{root!r}"
        self.outputs.append(Output(self._root_line(), shown))

    def _execute(self) -> dict[str, Any]:
        """Run the file as a module of its own; its top-level names."""
        try:
            self._tree = compile(self.text, self.filename, "exec", ast.PyCF_ONLY_AST)
            code = compile(self._tree, self.filename, "exec")
        except SyntaxError as error:
            # A file-wide error (null bytes, say) has no line: the first is the place to look.
            column = (error.offset or 1) if error.lineno else 1
            raise ModelFileError(
                f"SyntaxError: {error.msg}", line=error.lineno or 1, column=column
            ) from None
        except (ValueError, RecursionError, MemoryError) as error:  # null bytes, deep nesting
            message = _first_line(str(error)) or type(error).__name__
            raise ModelFileError(
                f"the file cannot be compiled: {message}", line=1, column=1
            ) from None
        module = types.ModuleType(MODULE_NAME)
        module.__file__ = self.filename
        with self._failures("", line=0), _installed(module):
            exec(code, module.__dict__)
        return module.__dict__

    def _loss(self, loss: Any, model: nn.Module) -> torch.Tensor:
        where = self._defined("loss")
        if not callable(loss):
            raise ModelFileError(
                f"`loss` is {_a(loss)}, not a function",
                "define it as a function returning the loss: def loss(): return ...",
                *where,
            )
        arguments = self._loss_arguments(loss, model, where)
        with self._failures("loss() failed: ", *where):
            value = loss(*arguments)
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(
                f"loss() returned {_a(value)}, not a tensor",
                "return the loss as a tensor, such as ((model(x) - y) ** 2).mean()",
                *where,
            )
        if value.numel() != 1:
            raise ModelFileError(
                f"loss() returned a tensor of shape {shape_text(value.shape)}, not a scalar",
                "reduce it to one number, such as with .mean() or .sum()",
                *where,
            )
        if root_node(value) is None:
            raise ModelFileError(
                "the loss does not require grad, so there is no graph to show",
                "compute it from the model's parameters, outside torch.no_grad()",
                *where,
            )
        return value

    @staticmethod
    def _loss_arguments(loss: Any, model: nn.Module, where: tuple[int, int]) -> tuple:
        try:
            parameters = inspect.signature(loss).parameters.values()
        except (TypeError, ValueError):  # a builtin without a signature: try it bare
            return ()
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [p for p in parameters if p.kind in positional and p.default is p.empty]
        if not required:
            return ()
        if len(required) == 1:
            return (model,)
        raise ModelFileError(
            f"loss takes {len(required)} arguments; it should take none, or only the model",
            "compute the inputs inside it: def loss(): return criterion(model(x), y)",
            *where,
        )

    def _output(self, model: nn.Module, example: Any) -> torch.Tensor:
        if isinstance(example, torch.Tensor):
            arguments: tuple = (example,)
        elif isinstance(example, tuple) and all(isinstance(a, torch.Tensor) for a in example):
            arguments = example
        else:
            raise ModelFileError(
                f"`example_input` is {_a(example)}, not a tensor or a tuple of tensors",
                "make it a tensor shaped for your model, such as torch.randn(3, 4), or a tuple "
                "of tensors for a model that takes several",
                *self._defined("example_input"),
            )
        with self._failures(f"{self._call_text()} failed: ", *self._defined("example_input")):
            value = model(*arguments)
        where = self._defined("model")
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(
                f"{self._call_text()} returned {_a(value)}, not a tensor",
                "define loss() instead, returning the tensor to go backward from",
                *where,
            )
        if root_node(value) is None:
            raise ModelFileError(
                f"{self._call_text()} does not require grad, so there is no graph to show",
                "give the model parameters that require grad, and do not run it under "
                "torch.no_grad()",
                *where,
            )
        return value

    def _name_the_rest(self, namespace: dict[str, Any], model: nn.Module) -> None:
        """Name the file's other tensors and modules, so the graph and grads use its names.

        Modules inside the model are left out, so no parameter is listed twice.
        """
        inside = {id(m) for m in model.modules()}
        for name, value in namespace.items():
            if name.startswith("_") or name in self.names:
                continue
            if isinstance(value, torch.Tensor):
                self.recorder.bound(name, value)
                self.names[name] = value  # Backward from it, when its node is selected
            elif isinstance(value, nn.Module) and id(value) not in inside:
                self.recorder.bound(name, value)
                self.names[name] = value

    def named_tensors(self) -> dict[str, torch.Tensor]:
        """The graph's roots: the root and the file's leaves.

        The file's other tensors are named where the root's graph passes through them, but
        are not roots of their own: the root stays the one output Backward starts from.
        """
        tensors = super().named_tensors()
        return {k: v for k, v in tensors.items() if k == self.root_name or v.is_leaf}

    # -- where things are in the file ----------------------------------------------------
    def _call_text(self) -> str:
        return "loss()" if self.root_name == "loss" else "model(example_input)"

    def _root_line(self) -> int:
        return self._defined("loss" if self.root_name == "loss" else "example_input")[0]

    def _defined(self, name: str) -> tuple[int, int]:
        """Line and column of the top-level statement that last bound name; (1, 1) if none."""
        found = (1, 1)
        for statement in _top_level(self._tree.body if self._tree else []):
            if name in _bound_names(statement):
                found = (statement.lineno, statement.col_offset + 1)
        return found

    @contextmanager
    def _failures(self, prefix: str, line: int, column: int = 0) -> Iterator[None]:
        """Turn an exception from the user's code into a problem at its line in the file.

        The innermost frame of the file is where it went wrong; with none (an error inside
        torch on the file's input, say) the given line is the best place to look.
        """
        try:
            yield
        except (Exception, SystemExit) as error:
            frame = self._innermost_frame(error)
            if frame is not None:
                line, column = frame
            text = _first_line(str(error))
            name = type(error).__name__
            if isinstance(error, MemoryError):
                message = "the model file ran out of memory"
            elif isinstance(error, SystemExit):
                message = "the model file called exit()"
            else:
                message = f"{prefix}{name}: {text}" if text else f"{prefix}{name}"
            raise ModelFileError(message, line=line, column=column) from None

    def _innermost_frame(self, error: BaseException) -> tuple[int, int] | None:
        stack = traceback.extract_tb(error.__traceback__)
        frames = [f for f in stack if f.filename == self.filename]
        if not frames or not frames[-1].lineno:
            return None
        frame = frames[-1]
        column = 0
        if frame.colno is not None and 1 <= frame.lineno <= len(self.lines):
            # Frames count columns in UTF-8 bytes; the editor and people count characters.
            line = self.lines[frame.lineno - 1].encode("utf-8")
            column = len(line[: frame.colno].decode("utf-8", errors="replace")) + 1
        return frame.lineno, column

    def _problem(self, error: ModelFileError) -> Problem:
        line = error.line if 1 <= error.line <= max(len(self.lines), 1) else 0
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        column = error.column if line else 0
        return Problem(error.message, line=line, column=column, text=text, hint=error.hint)


def run_model_file(path: str | Path, text: str | None = None) -> ModelFileSession:
    """Run a model file (read from path unless text is given); the session, run."""
    session = ModelFileSession(path, read_text(Path(path)) if text is None else text)
    session.run()
    return session


def export_model_file(path: str | Path, text: str) -> Snapshot:
    """A model file's snapshot with a backward pass from its root, for `export --trusted`.

    A script's export carries the passes the script ran; a model file runs none that are
    recorded, so one is run from the root, as the window's Backward button would.
    """
    session = ModelFileSession(path, text)
    session.run(layout=False)
    if session.problem is not None:
        return session.snapshot()
    session.lay_out_ahead()  # on the other core, while the pass runs
    return session.backward(session.root_name)


def _a(value: Any) -> str:
    """A value's type with its article: an int, a list, a Tensor."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _top_level(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside if, try, with and for blocks."""
    for statement in statements:
        yield statement
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _top_level(getattr(statement, field, []) or [])
        for handler in getattr(statement, "handlers", []) or []:
            yield from _top_level(handler.body)


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a statement binds itself (not those bound in blocks inside it)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For):
        targets = [statement.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


@contextmanager
def _installed(module: types.ModuleType) -> Iterator[None]:
    """The module in sys.modules while it runs, as runpy does (dataclasses look it up)."""
    previous = sys.modules.get(module.__name__)
    sys.modules[module.__name__] = module
    try:
        yield
    finally:
        if previous is None:
            sys.modules.pop(module.__name__, None)
        else:
            sys.modules[module.__name__] = previous


@contextmanager
def _no_input() -> Iterator[None]:
    """An empty stdin while the file runs: in the worker, stdin carries the window's requests,
    and an input() or breakpoint() left in the file must fail rather than read them."""
    previous = sys.stdin
    sys.stdin = io.StringIO()
    try:
        yield
    finally:
        sys.stdin = previous


@contextmanager
def _importable_from(folder: Path) -> Iterator[None]:
    """Modules beside the file can be imported, as when it is run with `python FILE.py`."""
    entry = str(folder.resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)
