"""The window's runs in the worker: a script, a model file, a backward pass, and their answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from explorer.data.snapshot import MAX_DRAWN_NODES, PassesAdded, Problem, Snapshot
from explorer.lessons import where as script_place
from explorer.ui.window import model_files
from explorer.ui.worker_bridge import WorkerRequest
from explorer.view.replay import Cursor


class Runner(QObject):
    """Asks the worker for the graph on screen; one request at a time, the latest one wins."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.model = window.model
        self.worker = window.worker
        self.model_file: Path | None = None  # the model file the graph shows, if any
        self._asked: WorkerRequest | None = None  # the request whose answer we wait for
        self._asked_run = False  # whether it is a run, whose graph would replace the one shown

    # -- requests --------------------------------------------------------------------------
    def run_script(self, text: str) -> None:
        self._replace_running()
        request = self.worker.run(text)
        request.answered.connect(lambda snapshot: self._on_run(request, snapshot, None))
        self._wait_for(request, run=True)

    def run_model_file(self, path: Path, text: str) -> None:
        """Run a model file the user trusts; the graph, output and status bar become its."""
        self._replace_running()
        request = self.worker.open_model_file(str(path), text)
        request.answered.connect(lambda snapshot: self._on_run(request, snapshot, path))
        self._wait_for(request, run=True)

    def backward(self, name: str) -> None:
        """name.backward() on the run shown; its pass plays once it arrives."""
        request = self.worker.backward(name)
        request.answered.connect(lambda added: self._on_backward(request, added))
        self._wait_for(request)

    def show_recording(self, snapshot: Snapshot, origin: str) -> None:
        """A recording of the user's own code (explorer.record()), in place of any run."""
        self._replace_running()
        self.model_file = None
        self._show(snapshot, 0.0, play=False)
        self._show_status(f"Recording from {origin} · {graph_counts(snapshot)}")

    def cancel(self) -> None:
        if self.worker.busy:
            self.worker.cancel()

    def _replace_running(self) -> None:
        # A run replaces whatever the worker is doing; the cancelled answer is not ours to show.
        self._forget()
        self.cancel()

    def _wait_for(self, request: WorkerRequest, run: bool = False) -> None:
        self._forget()
        self._asked = request
        self._asked_run = run
        request.cancelled.connect(self._on_cancelled)
        request.failed.connect(self._on_failed)
        self.model.set_running(True)

    def _forget(self) -> None:
        if self._asked is not None:
            self._asked.drop()
            self._asked = None

    # -- answers ---------------------------------------------------------------------------
    def _done(self) -> None:
        # Not running before the new graph shows: its viewers may ask the worker at once.
        self._asked = None
        self.model.set_running(False)

    def _on_run(self, request: WorkerRequest, snapshot: Snapshot, model_file: Path | None) -> None:
        self._done()
        self.model_file = model_file  # a run, not a backward pass: it decides what is shown
        self._show(snapshot, request.seconds, play=False)

    def _on_backward(self, request: WorkerRequest, added: PassesAdded) -> None:
        self._done()
        # The graph on screen stays, and so does its drawing: only the passes are new.
        shown = self.model.snapshot or Snapshot()
        snapshot = added.snapshot or shown.with_passes(added)
        self._show(snapshot, request.seconds, play=True)

    def _on_cancelled(self) -> None:
        run = self._asked_run
        self._done()
        self.window.statusBar().showMessage("Cancelled.")
        if run:  # a cancelled backward pass leaves the graph the script's; a cancelled run not
            self.window.graph.mark_not_current()

    def _on_failed(self, words: str) -> None:
        self._done()
        self.show_problem(Problem(words))
        self.window.statusBar().showMessage(words)

    def _show(self, snapshot: Snapshot, seconds: float, play: bool) -> None:
        snapshot = _drawable(snapshot)
        keep_pass = play and bool(snapshot.passes)
        cursor = Cursor(len(snapshot.passes) - 1, -1) if keep_pass else Cursor(0, -1)
        self.model.set_snapshot(snapshot, cursor)
        self.show_problem(snapshot.problem)
        self._show_status(f"Ran in {seconds:.2f} s · {graph_counts(snapshot)}")
        if keep_pass:
            self.model.play()

    def show_problem(self, problem: Problem | None) -> None:
        """The problem under the editor, and its place marked in the script when it has one."""
        editor, label = self.window.editor, self.window.error_label
        if problem is None:
            editor.clear_error()
            label.clear()
            label.setVisible(False)
            return
        if self.model_file is not None:  # its line is in the model file, not in the editor
            editor.clear_error()
            label.setText(model_files.problem_text(self.model_file, problem))
        else:
            editor.mark_error(problem.line, problem.column)
            where = script_place(editor.toPlainText(), problem.line, problem.column)
            hint = f"\nHint: {problem.hint}" if problem.hint else ""
            label.setText(f"{where}{problem.message}{hint}")
        label.setStyleSheet(f"color: {self.model.theme.error}; padding: 4px;")
        label.setVisible(True)

    def _show_status(self, message: str) -> None:
        if self.model_file is not None:
            message = model_files.status_text(self.model_file, message)
        self.window.statusBar().showMessage(message)


def counted(count: int, one: str, many: str) -> str:
    """`1 backward pass`, `2 backward passes`: the count with its noun in agreement."""
    return f"{count:,} {one if count == 1 else many}"


def graph_counts(snapshot: Snapshot) -> str:
    """What the status bar says of a graph: its nodes, edges and backward passes."""
    graph = snapshot.graph
    return " · ".join((
        counted(graph.number_of_nodes(), "node", "nodes"),
        counted(graph.number_of_edges(), "edge", "edges"),
        counted(len(snapshot.passes), "backward pass", "backward passes"),
    ))  # fmt: skip


def _drawable(snapshot: Snapshot) -> Snapshot:
    """snapshot, or its outputs and a problem when its graph is too large to draw."""
    nodes = snapshot.graph.number_of_nodes()
    if nodes <= MAX_DRAWN_NODES:
        return snapshot
    return Snapshot(
        outputs=snapshot.outputs,
        problem=Problem(
            f"the graph has {nodes:,} nodes; the window draws graphs of up to {MAX_DRAWN_NODES:,}",
            hint="use fewer loop iterations, fewer layers, or whole-tensor operations",
        ),
    )
