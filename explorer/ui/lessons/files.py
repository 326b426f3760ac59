"""The window's side of lessons: open one, save one, and apply or read its view settings.

Opening a lesson only puts its cells in the editor and runs them like any script (the
worker's `run` request, the safe language); everything else in the file is data. A file
that does not load leaves the window as it was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from explorer.lessons import Lesson, LessonError, View, program, read_lesson, split_cells
from explorer.lessons import write_lesson as write_lesson_file
from explorer.lessons.gallery import Example, examples, is_example
from explorer.ui.lessons.state import LessonState

LESSON_SUFFIX = ".json"
SCRIPT_FILTER = "Python scripts (*.py)"
LESSON_FILTER = "Lessons (*.json)"
OPEN_FILTER = f"Scripts and lessons (*.py *.json);;{SCRIPT_FILTER};;{LESSON_FILTER};;All files (*)"
ZOOM_RANGE = (0.05, 50.0)  # the format's bounds
NOTES_SHARE = 0.5  # of the window's height, for the Lesson pane when a lesson opens


def is_lesson(path: Path) -> bool:
    return path.suffix.lower() == LESSON_SUFFIX


def read_only(path: Path | None) -> bool:
    """A gallery lesson is never overwritten: Save asks for a file of the user's own."""
    return path is not None and is_example(path)


def save_target(path: str, chosen_filter: str) -> Path:
    """The file Save As writes: the chosen filter's suffix when the name has none."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(LESSON_SUFFIX if chosen_filter == LESSON_FILTER else ".py")
    return target


class LessonFiles(QObject):
    """Opens and saves lessons for a MainWindow, and applies a lesson's view once it ran."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.state = LessonState(self)
        self.examples: tuple[Example, ...] = examples()
        self._pending_view: View | None = None  # applied when the lesson's run is shown
        self.state.edited.connect(lambda: window.document.set_modified(True))
        # After the graph view's own handler (it was connected first), which fits the graph.
        window.model.snapshot_changed.connect(self._on_snapshot)
        # Whether the bookmarks still belong to the script: checked a moment after typing.
        self._check = QTimer(self, singleShot=True, interval=300)
        self._check.timeout.connect(lambda: self.state.script_changed(window.editor.toPlainText()))
        window.editor.textChanged.connect(self._check.start)
        # The editor and the graph take drops of their own (text, scene items): a file
        # dropped on them goes to the window instead.
        self._drops = FileDrops(window, [window.editor.viewport(), window.graph.viewport()])

    # -- opening -------------------------------------------------------------------------
    def open(self, path: Path) -> bool:
        """Open a lesson file: its cells in the editor and run; False (and a message) if not."""
        window = self.window
        try:
            lesson = read_lesson(path)
        except LessonError as error:
            QMessageBox.warning(window, "Cannot open lesson", str(error))
            return False
        window.editor.setPlainText(program(lesson.cells))
        window.document.opened(path)
        self.state.open(lesson)
        self._pending_view = lesson.view
        self._show_dock()
        window.run_script()
        if read_only(path):
            window.statusBar().showMessage(
                "An example lesson: File → Save As… keeps a copy of your own"
            )
        return True

    def _show_dock(self) -> None:
        """Bring the Lesson pane forward, tall enough to read the notes in."""
        window = self.window
        dock, editor = window.docks["lesson"], window.docks["editor"]
        dock.show()
        dock.raise_()
        height = window.height()
        if dock.height() < NOTES_SHARE * height and not dock.isFloating():
            window.resizeDocks(
                [editor, dock],
                [int((1 - NOTES_SHARE) * height), int(NOTES_SHARE * height)],
                Qt.Orientation.Vertical,
            )

    def close(self) -> None:
        """A script, not a lesson, is open now."""
        self._pending_view = None
        self.state.close()

    def _on_snapshot(self) -> None:
        view, self._pending_view = self._pending_view, None
        if view is not None:
            self.apply_view(view)

    # -- saving --------------------------------------------------------------------------
    def save(self, path: Path) -> bool:
        """Write the editor's script (its cells), notes, bookmarks and view as a lesson."""
        window = self.window
        lesson = self.current_lesson(path)
        try:
            write_lesson_file(path, lesson)
        except LessonError as error:
            QMessageBox.warning(
                window, "Cannot save lesson", f"Cannot save {path.name} as a lesson:\n{error}"
            )
            return False
        except OSError as error:
            QMessageBox.warning(window, "Cannot save", f"Cannot save {path}:\n{error}")
            return False
        window.document.opened(path)
        self.state.open(lesson)
        window.statusBar().showMessage(f"Saved the lesson {path}")
        return True

    def current_lesson(self, path: Path) -> Lesson:
        base = self.state.lesson or Lesson(title=path.stem, cells=[])
        return replace(
            base,
            cells=split_cells(self.window.editor.toPlainText()),
            bookmarks=list(base.bookmarks),
            view=self.current_view(),
        )

    # -- view settings -------------------------------------------------------------------
    def current_view(self) -> View:
        window = self.window
        model = window.model
        return View(
            zoom=self._zoom(),
            collapsed=sorted(model.collapsed),
            fold=model.fold,
            direction="up" if window.upward_action.isChecked() else "right",
        )

    def _zoom(self) -> float:
        """How much closer than 'fit' the graph is shown (1: the whole graph fits)."""
        graph = self.window.graph
        if graph.geometry_ is None:
            return 1.0
        shown = graph.view.viewRect()
        graph.fit()
        fitted = graph.view.viewRect()
        graph.view.setRange(shown, padding=0)
        if shown.width() <= 0:
            return 1.0
        low, high = ZOOM_RANGE
        return round(min(high, max(low, fitted.width() / shown.width())), 3)

    def apply_view(self, view: View) -> None:
        window = self.window
        model = window.model
        if view.direction is not None:
            window.upward_action.setChecked(view.direction == "up")
        window.fold_action.setChecked(view.fold)
        if view.collapsed is not None and model.call_tree is not None:
            model.set_collapsed(set(view.collapsed) & set(model.call_tree.all_calls))
        if abs(view.zoom - 1.0) > 1e-3:
            window.graph.fit()
            window.graph.view.scaleBy((1 / view.zoom, 1 / view.zoom))
        else:  # as any graph opens: whole when its cards can be read, else on its output
            window.graph.open_view()

    # -- the Examples menu ---------------------------------------------------------------
    def fill_examples_menu(self, menu: Any) -> None:
        for example in self.examples:
            action = menu.addAction(example.title)
            action.setStatusTip(example.description)
            action.triggered.connect(lambda checked=False, p=example.path: self.open_example(p))
        menu.setEnabled(bool(self.examples))

    def open_example(self, path: Path) -> bool:
        window = self.window
        return window._confirm_discard() and window.open_path(path)


def dropped_file(mime: Any) -> Path | None:
    """The script or lesson file a drag carries, if it carries exactly such a local file."""
    if not mime.hasUrls():
        return None
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    wanted = [p for p in paths if p.suffix.lower() in (".py", LESSON_SUFFIX)]
    return wanted[0] if len(wanted) == 1 else None


def accept_drop(event: Any) -> None:
    if dropped_file(event.mimeData()) is not None:
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
    else:
        event.ignore()


class FileDrops(QObject):
    """Hands a dragged script or lesson file from the panes it passes over to the window."""

    DRAGS = (QEvent.Type.DragEnter, QEvent.Type.DragMove)

    def __init__(self, window: Any, widgets: list[Any]) -> None:
        super().__init__(window)
        self.window = window
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        kind = event.type()
        if kind not in (*self.DRAGS, QEvent.Type.Drop):
            return False
        if dropped_file(event.mimeData()) is None:
            return False  # text and anything else: the pane's own business
        if kind == QEvent.Type.Drop:
            self.window.dropEvent(event)
        else:
            accept_drop(event)
        return True
