"""The window's state as data with signals: the snapshot, the selection, the replay cursor."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.snapshot import Snapshot
from explorer.ui.replay import Cursor, Replay, StepView
from explorer.ui.theme import LIGHT, Theme

START = Cursor(0, -1)


class ExplorerModel(QObject):
    """What every view paints; views only restyle when it signals."""

    snapshot_changed = Signal()  # a run finished: new graph, outputs, passes
    selection_changed = Signal(object)  # the selected node id, or None
    cursor_changed = Signal()  # the replay moved to another step
    playing_changed = Signal(bool)  # playback started or stopped
    running_changed = Signal(bool)  # a script started or finished running
    theme_changed = Signal()  # the colours changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.snapshot: Snapshot | None = None
        self.replay: Replay | None = None
        self.selected: str | None = None
        self.cursor = START
        self.running = False
        self.theme: Theme = LIGHT
        self._view: StepView | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.set_speed(2.0)

    # -- runs ----------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot, cursor: Cursor = START) -> None:
        self.stop()
        self.snapshot = snapshot
        self.replay = Replay(snapshot)
        if self.selected is not None and self.selected not in snapshot.graph:
            self.selected = None
        self.cursor = cursor
        self._view = None
        self.snapshot_changed.emit()
        self.cursor_changed.emit()

    def set_running(self, running: bool) -> None:
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.theme_changed.emit()

    # -- selection -----------------------------------------------------------------------
    def select(self, node: str | None) -> None:
        if node != self.selected:
            self.selected = node
            self.selection_changed.emit(node)

    # -- replay --------------------------------------------------------------------------
    @property
    def pass_count(self) -> int:
        return len(self.snapshot.passes) if self.snapshot else 0

    def step_count(self, pass_index: int | None = None) -> int:
        if self.replay is None:
            return 0
        return self.replay.step_count(self.cursor.pass_index if pass_index is None else pass_index)

    def step_view(self) -> StepView:
        if self._view is None:
            self._view = self.replay.view(self.cursor) if self.replay else StepView()
        return self._view

    def move_to(self, cursor: Cursor) -> None:
        if cursor != self.cursor:
            self.cursor = cursor
            self._view = None
            self.cursor_changed.emit()

    def step_forward(self) -> bool:
        """One step on, into the next pass after a pass's last step; False at the very end."""
        pass_index, step = self.cursor.pass_index, self.cursor.step_index
        if step + 1 < self.step_count():
            self.move_to(Cursor(pass_index, step + 1))
            return True
        if pass_index + 1 < self.pass_count:
            self.move_to(Cursor(pass_index + 1, 0 if self.step_count(pass_index + 1) else -1))
            return True
        return False

    def step_back(self) -> bool:
        pass_index, step = self.cursor.pass_index, self.cursor.step_index
        if step >= 0:
            self.move_to(Cursor(pass_index, step - 1))
            return True
        if pass_index > 0:
            self.move_to(Cursor(pass_index - 1, self.step_count(pass_index - 1) - 1))
            return True
        return False

    def to_start(self) -> None:
        self.move_to(Cursor(self.cursor.pass_index, -1))

    def to_end(self) -> None:
        self.move_to(Cursor(self.cursor.pass_index, self.step_count() - 1))

    def choose_pass(self, pass_index: int) -> None:
        if 0 <= pass_index < self.pass_count:
            self.move_to(Cursor(pass_index, -1))

    # -- playback ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_speed(self, steps_per_second: float) -> None:
        self._timer.setInterval(max(10, int(1000 / steps_per_second)))

    def play(self) -> None:
        if self.playing or not self.pass_count:
            return
        if self.cursor.step_index >= self.step_count() - 1:
            self.to_start()
        self._timer.start()
        self.playing_changed.emit(True)

    def stop(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        self.stop() if self.playing else self.play()

    def _tick(self) -> None:
        if not self.step_forward():
            self.stop()
