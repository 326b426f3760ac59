"""The window's state as data with signals: the snapshot, the selection, the replay cursor."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.data.health import FirstNonFinite
from explorer.data.snapshot import Snapshot
from explorer.ui.theme import LIGHT, Theme
from explorer.view import grad_scale
from explorer.view.calls import CallTree, Shown
from explorer.view.replay import Cursor, Replay, StepView

START = Cursor(0, -1)


class ExplorerModel(QObject):
    """What every view paints; views only restyle when it signals."""

    snapshot_changed = Signal()  # a run finished: new graph, outputs, passes
    selection_changed = Signal(object)  # the selected node id, or None
    cursor_changed = Signal()  # the replay moved to another step
    playing_changed = Signal(bool)  # playback started or stopped
    running_changed = Signal(bool)  # a script started or finished running
    theme_changed = Signal()  # the colours changed
    lens_changed = Signal()  # cards coloured by gradient size, or not
    # module calls were collapsed, expanded or folded; True: all at once, the view refits
    collapsed_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.snapshot: Snapshot | None = None
        self.replay: Replay | None = None
        self.selected: str | None = None
        self.cursor = START
        self.running = False
        self.theme: Theme = LIGHT
        # cards coloured by a measure instead of their step: "grad" (the gradient's size),
        # "memory" (held for backward), "time" (the step's duration), or None
        self.lens: str | None = None
        self._view: StepView | None = None
        self.call_tree: CallTree | None = None
        self.collapsed: set[str] = set()  # module calls drawn as one card
        self.fold = False  # repeated identical calls drawn as one card
        self.apart: frozenset[str] = frozenset()  # calls a folded card was opened into
        self.shown: Shown | None = None  # the graph as drawn
        # by pass: each card's first and last step; cleared whenever the cards change
        self._spans: dict[int, dict[str, tuple[int, int]]] = {}
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.set_speed(2.0)

    # -- runs ----------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot, cursor: Cursor = START) -> None:
        self.stop()
        self.snapshot = snapshot
        self.replay = Replay(snapshot)
        self.selected = self.selected if self.selected in snapshot.graph else None
        self.cursor = cursor
        self._view = None
        if self.call_tree is not None and self.call_tree.graph is snapshot.graph:
            self.call_tree.snapshot = (
                snapshot  # a pass was added: the same cards, drawn as they are
            )
            self._spans.clear()
        else:
            self._set_call_tree(CallTree(snapshot))
        self.snapshot_changed.emit()
        self.cursor_changed.emit()

    # -- module calls --------------------------------------------------------------------
    def _set_call_tree(self, tree: CallTree) -> None:
        same_calls = self.call_tree is not None and self.call_tree.all_calls == tree.all_calls
        self.call_tree = tree
        if not same_calls:  # a re-run of the same model keeps what was open
            self.collapsed = tree.initial_collapsed()
            self.fold = bool(self.collapsed)  # a large graph opens as an overview
            self.apart = frozenset()
        self._reshow()

    def _reshow(self) -> None:
        assert self.call_tree is not None
        self.shown = self.call_tree.shown(self.collapsed, self.fold, self.apart)
        self._spans.clear()
        if self.selected is not None and self.selected not in self.shown.graph:
            self.selected = None

    def set_collapsed(self, collapsed: set[str], whole: bool = False) -> None:
        if self.call_tree is not None and collapsed != self.collapsed:
            self.collapsed = set(collapsed)
            self._reshow()
            self.collapsed_changed.emit(whole)

    def expand(self, card: str) -> None:
        """Open a module card: a folded one into its calls, one card each; a call's card into
        what it contains."""
        if self.shown is None or self.call_tree is None or card not in self.shown.members:
            return
        depth = self.call_tree.depth[self.shown.graph.nodes[card].call]
        calls = {self.call_tree.chain_of[n][depth] for n in self.shown.members[card]}
        if len(calls) > 1:  # a fold
            self.apart = self.apart | calls
            self._reshow()
            self.collapsed_changed.emit(False)
        else:
            self.set_collapsed(self.collapsed - calls)

    def collapse(self, call: str) -> None:
        self.set_collapsed(self.collapsed | {call})

    def collapse_all(self) -> None:
        """A card per top-level call (a layer of the model), and the view refits."""
        if self.call_tree is not None:
            self.set_collapsed(self.call_tree.overview(), whole=True)

    def expand_all(self) -> None:
        self.set_collapsed(set(), whole=True)

    def set_fold(self, fold: bool) -> None:
        """Fold repeated blocks: collapse the calls that have identical siblings, and draw
        each run of them as one card. Opening such a card shows its calls one by one."""
        if fold != self.fold and self.call_tree is not None:
            self.fold = fold
            self.apart = frozenset()
            if fold:
                self.collapsed |= self.call_tree.repeated_calls()
            self._reshow()
            self.collapsed_changed.emit(True)

    def reveal(self, node: str) -> None:
        """Open the calls around a snapshot node so its own card is drawn."""
        if self.call_tree is not None:
            self.set_collapsed(self.collapsed - set(self.call_tree.chain_of.get(node, ())))

    def span(self, card: str) -> tuple[int, int] | None:
        """First and last step, in the current pass, of the nodes inside a module card."""
        if self.replay is None or self.shown is None:
            return None
        if not 0 <= self.cursor.pass_index < len(self.replay.passes):
            return None
        pass_index = self.cursor.pass_index
        spans = self._spans.get(pass_index)
        if spans is None:
            spans = self._spans[pass_index] = {}
            for card, members in self.shown.members.items():
                found = [self.replay.step_index(pass_index, n) for n in members]
                steps = [i for i in found if i is not None]
                if steps:
                    spans[card] = (min(steps), max(steps))
        return spans.get(card)

    def set_running(self, running: bool) -> None:
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)

    def set_lens(self, lens: str, on: bool) -> None:
        """Colour the cards by one measure (LENSES), or by their step again; one at a time."""
        chosen = lens if on else (None if self.lens == lens else self.lens)
        if chosen != self.lens:
            self.lens = chosen
            self.lens_changed.emit()

    def set_grad_lens(self, on: bool) -> None:
        """Colour the cards that ran by the size of the gradient that arrived there."""
        self.set_lens("grad", on)

    def set_memory_lens(self, on: bool) -> None:
        """Colour the cards by the memory their saved tensors hold for backward."""
        self.set_lens("memory", on)

    def set_time_lens(self, on: bool) -> None:
        """Colour the cards that ran by how long their step took."""
        self.set_lens("time", on)

    @property
    def grad_lens(self) -> bool:
        return self.lens == "grad"

    @property
    def memory_lens(self) -> bool:
        return self.lens == "memory"

    @property
    def time_lens(self) -> bool:
        return self.lens == "time"

    def memory_scale(self) -> grad_scale.Scale | None:
        """The range of the bytes the graph's nodes hold for backward."""
        if self.snapshot is None:
            return None
        held = {n: float(a.saved_bytes) for n, a in self.snapshot.graph.nodes(data=True)
                if a.saved_bytes}  # fmt: skip
        return grad_scale.scale_of(held)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.theme_changed.emit()

    # -- selection -----------------------------------------------------------------------
    def clear_selection(self) -> None:
        self.select(None)

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

    def first_nonfinite(self) -> tuple[int, FirstNonFinite] | None:
        """Where a NaN or infinity first started: in the pass shown, else the first pass that
        has one; as (pass index, where)."""
        if self.replay is None or not self.pass_count:
            return None
        current = self.cursor.pass_index
        order = [current, *(i for i in range(self.pass_count) if i != current)]
        for pass_index in order:
            found = self.replay.first_nonfinite(pass_index) if pass_index >= 0 else None
            if found is not None:
                return pass_index, found
        return None

    def go_to_first_nonfinite(self) -> bool:
        """Move to the step where the first NaN started and select its node; False: none."""
        located = self.first_nonfinite()
        if located is None:
            return False
        pass_index, found = located
        self.move_to(Cursor(pass_index, found.step - 1))
        self.reveal(found.node)
        self.select(found.node)
        return True

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
