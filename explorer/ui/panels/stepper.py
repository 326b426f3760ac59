"""The stepper bar: Backward, step back and forth, play with a speed, a step slider, passes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from explorer.ui.model import ExplorerModel
from explorer.view import captions
from explorer.view.replay import Cursor

SPEEDS = [0.5, 1.0, 2.0, 4.0, 8.0, 30.0]


class StepperBar(QWidget):
    """Controls for the replay; the model's cursor is the only state it changes."""

    backward_requested = Signal()  # the user pressed Backward

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        self.backward = QPushButton("Backward")
        self.backward.setToolTip("Replay the script's backward pass, or run one from the output")
        self.backward.setDefault(True)
        self.backward.clicked.connect(self.backward_requested)
        row.addWidget(self.backward)
        # Text glyphs, not the style's icons: they take the theme's text colour.
        self.first = self._button("⇤", "First step (Home)", row, model.to_start)
        self.back = self._button("◀", "Step back (←)", row, model.step_back)
        self.play = self._button("▶", "Play or pause (Space)", row, model.toggle_play)
        self.forward = self._button("▶|", "Step forward (→)", row, model.step_forward)
        self.last = self._button("⇥", "Last step (End)", row, model.to_end)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(120)
        self.slider.valueChanged.connect(self._on_slider)
        row.addWidget(self.slider, 1)
        self.caption = QLabel()
        self.caption.setMinimumWidth(120)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.caption, 2)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed, steps per second")
        for value in SPEEDS:
            self.speed.addItem(f"{value:g} steps/s", value)
        self.speed.setCurrentIndex(SPEEDS.index(2.0))
        self.speed.currentIndexChanged.connect(self._on_speed)
        row.addWidget(self.speed)
        self.passes = QComboBox()
        self.passes.setToolTip("Backward pass to replay")
        self.passes.currentIndexChanged.connect(self._on_pass)
        row.addWidget(self.passes)
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
        self.play.setText("❚❚" if playing else "▶")
