"""The Gradient Descent dock: a learning rate, Step, Run N, Stop and Reset, and the plots.

Every step happens in the worker (explorer/runs/descent.py), which re-runs the script at the new
values; the panel sends requests and draws the DescentReports that come back. A Run goes in
chunks of about half a second, so the curve grows as it runs and Stop answers between chunks;
when it ends, the worker sends the graph at the new values and the window shows it.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.data.reports import DescentReport
from explorer.data.snapshot import Snapshot
from explorer.ui.descent.plots import DescentPlots
from explorer.ui.model import ExplorerModel
from explorer.ui.worker_bridge import WorkerRequest
from explorer.view import descent_inputs
from explorer.worker.protocol import Descended

DEFAULT_RATE = "0.01"
DEFAULT_STEPS = "50"
CHUNK_SECONDS = 0.5  # how long each request of a Run may take before it reports back


class DescentPanel(QWidget):
    """Views the model's snapshot; asks the worker for steps; draws what they did."""

    message = Signal(str)  # something to say in the status bar

    def __init__(self, model: ExplorerModel, worker: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.worker = worker
        self.report: DescentReport | None = None
        self._pending: WorkerRequest | None = None  # our request in the worker
        self._remaining = 0  # steps still to go in a Run
        self._rate = 0.0
        self._stop = False
        self._run_message = ""  # why the last Run stopped, kept past the request that shows it
        self._own: Snapshot | None = None  # the last graph we put on screen
        self._stale = True  # the worker's descent has not been asked about this snapshot
        self._blocked = "Run a script first."
        self._build()
        model.snapshot_changed.connect(self._on_snapshot)
        model.running_changed.connect(lambda running: self._update_buttons())
        model.theme_changed.connect(self._on_theme)
        self._on_theme()
        self._on_snapshot()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel()
        self.header.setWordWrap(True)
        column.addWidget(self.header)
        # Two short rows, so the dock fits beside the inspector on a laptop screen.
        row = QHBoxLayout()
        row.addWidget(QLabel("Learning rate"))
        self.rate = QLineEdit(DEFAULT_RATE)
        self.rate.setMaximumWidth(90)
        self.rate.setToolTip("How far each step goes against the gradient: p -= rate · p.grad")
        # Enter here only ends the typing: a step changes the parameters, so it takes Step.
        row.addWidget(self.rate)
        self.step_button = self._button("Step", "One gradient-descent step", row, self.step)
        row.addStretch(1)
        column.addLayout(row)
        row = QHBoxLayout()
        self.run_button = self._button("Run", "Run this many steps", row, self.run)
        self.steps = QLineEdit(DEFAULT_STEPS)
        self.steps.setMaximumWidth(60)
        self.steps.setToolTip(f"Steps for Run (at most {descent_inputs.MAX_STEPS:,})")
        self.steps.textChanged.connect(self._on_steps_text)
        self.steps.returnPressed.connect(self.run)
        row.addWidget(self.steps)
        self.stop_button = self._button("Stop", "Stop the Run after this chunk", row, self.stop)
        self.reset_button = self._button(
            "Reset", "Back to the script's own values", row, self.reset
        )
        row.addStretch(1)
        column.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.plots = DescentPlots()
        column.addWidget(self.plots, 1)
        self._on_steps_text(self.steps.text())

    def _button(self, text: str, tip: str, row: QHBoxLayout, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda checked=False: slot())
        row.addWidget(button)
        return button

    # -- actions ---------------------------------------------------------------------------
    def step(self) -> None:
        """One step at the rate typed."""
        rate = self._read_rate()
        if rate is not None and self._can_send():
            self._run_message = ""
            self._send(action="step", rate=rate, steps=1, graph=True, surface=True)

    def run(self) -> None:
        """The number of steps typed, in chunks, until done, stopped or diverging."""
        rate = self._read_rate()
        steps, note = descent_inputs.parse_steps(self.steps.text())
        if rate is None:
            return
        if steps is None:
            self._say(note, error=True)
            return
        if not self._can_send():
            return
        self._remaining, self._rate, self._stop, self._run_message = steps, rate, False, note
        self._say(note, error=bool(note))
        self._send_chunk()

    def busy(self) -> bool:
        """Steps are being taken, or still to come in a Run."""
        return self._pending is not None or self._remaining > 0

    def stop(self) -> None:
        """End a Run once the chunk in the worker is done."""
        if self._remaining:
            self._stop = True
            self._say("Stopping…")

    def reset(self) -> None:
        """Back to the script's own values, and its own graph."""
        if self._can_send():
            self._run_message = ""
            self._send(action="reset")

    def _read_rate(self) -> float | None:
        rate, why = descent_inputs.parse_rate(self.rate.text())
        if rate is None:
            self._say(why, error=True)
        return rate

    def _can_send(self) -> bool:
        return not self._blocked and self._pending is None and not self.model.running

    def _send_chunk(self) -> None:
        self._send(
            action="step", rate=self._rate, steps=self._remaining, seconds=CHUNK_SECONDS,
            graph=False, surface=False,
        )  # fmt: skip

    def _send(self, **options: Any) -> None:
        request = self.worker.descent(**options)
        request.answered.connect(self._on_answer)
        request.cancelled.connect(lambda: self._on_stopped("", error=False))
        request.failed.connect(lambda words: self._on_stopped(words, error=True))
        self._pending = request
        self._stale = False
        self._update_buttons()

    def prepare(self) -> None:
        """Ask for the descent so far of the run on screen (its plots before any step)."""
        if self._stale and self._can_send():
            self._send(action="prepare")

    # -- replies ---------------------------------------------------------------------------
    def _on_answer(self, answer: Descended) -> None:
        self._pending = None
        report = answer.report
        if report.problem:
            self._remaining = 0
            self._block(report.problem[:1].upper() + report.problem[1:] + ".")
        else:
            self._take(report, answer.snapshot)
        self._update_buttons()

    def _on_stopped(self, words: str, error: bool) -> None:
        """Cancelled (words empty), or the worker could not answer."""
        self._pending = None
        self._remaining = 0
        why = "the worker was interrupted (Cancel, or the script ran again)"
        self._say(words or f"Stopped: {why}.", error=error)
        self._update_buttons()

    def _take(self, report: DescentReport, snapshot: Snapshot | None) -> None:
        self.report = report
        self.plots.show_report(report)
        self.header.setText(_header(report))
        if report.new_graph and snapshot is not None:
            self._own = snapshot
            self.model.set_snapshot(snapshot)
        if self._remaining:
            self._remaining -= report.steps_done
            self._run_message = report.message or self._run_message
            if report.stopped or self._remaining <= 0 or self._stop:
                self._remaining = 0
                self._send(action="show", graph=True, surface=True)  # the graph at the end
            else:
                self._send_chunk()
        message = report.message or self._run_message
        self._say(message, error=bool(message))  # the worker speaks only of trouble
        if report.new_graph:
            steps = len(report.losses) - 1
            self.message.emit(f"Gradient descent: the graph after {steps:,} steps is shown")

    # -- the snapshot on screen ----------------------------------------------------------------
    def _on_snapshot(self) -> None:
        snapshot = self.model.snapshot
        if snapshot is not None and snapshot is self._own:
            return  # the graph our own steps made
        self._remaining = 0
        self._stale = True
        self._blocked = descent_inputs.blocker(snapshot)
        if self._blocked:
            self._block(self._blocked)
            return
        self.header.setText("Press Step or Run to make the loss smaller by gradient descent.")
        self._say("")
        self.report = None  # the last script's curve and surface are not this one's
        self.plots.clear()
        self.plots.setEnabled(True)
        if self.in_view():
            self.prepare()
        self._update_buttons()

    def _block(self, why: str) -> None:
        self._blocked = why
        self.report = None
        self.header.setText(why)
        self._say("")
        self.plots.clear()
        self.plots.setEnabled(False)
        self._update_buttons()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.prepare()  # the dock came into view: fill it in

    def in_view(self) -> bool:
        """Shown and not behind another tab. A preparation no one sees would keep the worker
        busy, and the next run would then cost a fresh worker's start."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    # -- appearance ------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        idle = self._can_send()
        for button in (self.step_button, self.run_button, self.reset_button):
            button.setEnabled(idle)
        self.stop_button.setEnabled(bool(self._remaining) and not self._stop)
        self.plots.setEnabled(not self._blocked)

    def _on_steps_text(self, text: str) -> None:
        steps, _ = descent_inputs.parse_steps(text)
        self.run_button.setText(f"Run {steps:,}" if steps else "Run")

    def _say(self, text: str, error: bool = False) -> None:
        theme = self.model.theme
        self.status.setStyleSheet(f"color: {theme.error if error else theme.muted};")
        self.status.setText(text[:1].upper() + text[1:] if text else "")

    def _on_theme(self) -> None:
        self.plots.set_theme(self.model.theme)
        if self.report is not None:
            self.plots.show_report(self.report)


def _header(report: DescentReport) -> str:
    """The loss and the parameters, now."""
    steps = len(report.losses) - 1
    loss = report.losses[-1]
    value = f"{loss:.6g}" if math.isfinite(loss) else str(loss)
    after = f"after {steps:,} step{'s' if steps != 1 else ''}" if steps else "before any step"
    lines = [f"<b>{report.loss_name}</b> = {value} {after}"]
    count = report.scalar_count
    names = ", ".join(report.parameter_names)
    lines.append(f"Parameters: {names} ({count:,} number{'s' if count != 1 else ''})")
    if report.values and len(report.parameter_names) == len(report.values):
        pairs = zip(report.parameter_names, report.values, strict=True)
        lines.append(", ".join(f"{name} = {v:.4g}" for name, v in pairs))
    if report.untrained:
        lines.append(f"Not trained: {'; '.join(report.untrained)}")
    return "<br>".join(lines)
