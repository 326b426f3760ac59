"""The stepper bar: the step's caption and pass, then Backward, step, play, slider and speed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.model import ExplorerModel
from explorer.view import captions
from explorer.view.replay import Cursor

PLAY, PAUSE = "Play", "Pause"
SPEEDS = [0.5, 1.0, 2.0, 4.0, 8.0, 30.0]


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" where it is too narrow; `text()` stays whole."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """The text as painted: whole, or cut to the label's width with "…"."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def is_elided(self) -> bool:
        return self.shown_text() != self.text()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.style().drawItemText(
            painter, self.contentsRect(), align, self.palette(), self.isEnabled(),
            self.shown_text(), QPalette.ColorRole.WindowText,
        )  # fmt: skip


class StepperBar(QWidget):
    """Controls for the replay; the model's cursor is the only state it changes."""

    backward_requested = Signal()  # the user pressed Backward

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        # The caption has a row of its own above the controls: beside them it had what the
        # slider and the speed box left over, too little for a step's words.
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 2, 6, 4)
        column.setSpacing(2)
        words = QHBoxLayout()
        row = QHBoxLayout()
        column.addLayout(words)
        column.addLayout(row)
        self.caption = ElidedLabel()
        self.caption.setMinimumWidth(120)
        words.addWidget(self.caption, 1)
        self.passes = QComboBox()
        self.passes.setToolTip("Backward pass to replay")
        self.passes.currentIndexChanged.connect(self._on_pass)
        words.addWidget(self.passes)
        self.backward = QPushButton("Backward")
        self.backward.setToolTip("Replay the script's backward pass, or run one from the output")
        self.backward.setDefault(True)
        self.backward.clicked.connect(self.backward_requested)
        row.addWidget(self.backward)
        # Text glyphs, not the style's icons: they take the theme's text colour.
        # ◀ and ▶ each take one step, as ← and → do; playing is a button of its own, in words.
        self.first = self._button("⇤", "First step (Home)", row, model.to_start)
        self.back = self._button("◀", "Step back (←)", row, model.step_back)
        self.forward = self._button("▶", "Step forward (→)", row, model.step_forward)
        self.last = self._button("⇥", "Last step (End)", row, model.to_end)
        self.play = self._button(PLAY, "Play or pause (Space)", row, model.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(60)
        self.slider.valueChanged.connect(self._on_slider)
        row.addWidget(self.slider, 1)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed, steps per second")
        for value in SPEEDS:
            self.speed.addItem(f"{value:g} steps/s", value)
        self.speed.setCurrentIndex(SPEEDS.index(2.0))
        self.speed.currentIndexChanged.connect(self._on_speed)
        row.addWidget(self.speed)
        model.snapshot_changed.connect(self._on_snapshot)
        model.cursor_changed.connect(self._on_cursor)
        model.playing_changed.connect(self._on_playing)
        self._on_snapshot()

    def _button(self, text: str, tip: str, row: QHBoxLayout, slot: Any = None) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setMinimumWidth(34)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if slot is not None:
            button.clicked.connect(lambda: slot())
        row.addWidget(button)
        return button

    def _on_snapshot(self) -> None:
        snapshot = self.model.snapshot
        self.passes.blockSignals(True)
        self.passes.clear()
        for i, p in enumerate(snapshot.passes if snapshot else []):
            where = f"line {p.line}" if p.line else "on request"
            self.passes.addItem(f"pass {i + 1} ({where})")
        self.passes.setVisible(self.passes.count() > 1)
        self.passes.blockSignals(False)
        self._on_cursor()

    def _on_cursor(self) -> None:
        model = self.model
        count = model.step_count()
        has_steps = count > 0
        for widget in (self.first, self.back, self.play, self.forward, self.last, self.slider):
            widget.setEnabled(has_steps)
        self.slider.blockSignals(True)
        self.slider.setRange(0, count)
        self.slider.setValue(model.cursor.step_index + 1)
        self.slider.blockSignals(False)
        if self.passes.currentIndex() != model.cursor.pass_index:
            self.passes.blockSignals(True)
            self.passes.setCurrentIndex(model.cursor.pass_index)
            self.passes.blockSignals(False)
        self.caption.setText(self.caption_text())
        self.caption.setToolTip(self.caption.text())

    def caption_text(self) -> str:
        model = self.model
        if not model.pass_count:
            return captions.NO_PASS
        step = model.step_view().step
        count = model.step_count()
        if step is None:
            return captions.before(count)
        attrs = model.snapshot.graph.nodes[step.node]
        return captions.step(attrs, model.cursor.step_index, count)

    def _on_slider(self, value: int) -> None:
        self.model.move_to(Cursor(self.model.cursor.pass_index, value - 1))

    def _on_speed(self, index: int) -> None:
        self.model.set_speed(SPEEDS[index])

    def _on_pass(self, index: int) -> None:
        self.model.choose_pass(index)

    def _on_playing(self, playing: bool) -> None:
        self.play.setText(PAUSE if playing else PLAY)
