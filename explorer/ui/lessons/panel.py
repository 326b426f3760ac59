"""The Lesson dock: the gallery as a start page, or the open lesson's notes and bookmarks."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.lessons.gallery import Example
from explorer.ui.lessons.notes_view import NotesView
from explorer.ui.lessons.state import STALE_WHY, LessonState, bookmark_for, cursor_of
from explorer.ui.model import ExplorerModel

EXAMPLE_SCHEME = "example"  # start-page links: example:N opens the N-th gallery lesson


class LessonPanel(QWidget):
    """Views the lesson state and the replay cursor; a bookmark click moves the cursor."""

    example_chosen = Signal(object)  # the Path of a gallery lesson the user clicked
    message = Signal(str)  # something to say in the status bar

    def __init__(
        self,
        state: LessonState,
        model: ExplorerModel,
        examples: tuple[Example, ...],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.model = model
        self.examples = examples
        self.pages = QStackedWidget()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.pages)
        self.start_page = NotesView()
        self.start_page.link_clicked.connect(self._on_start_link)
        self.start_page.show_html(start_html(examples))
        self.pages.addWidget(self.start_page)
        self.pages.addWidget(self._build_lesson_page())
        state.opened.connect(self._on_opened)
        state.notes_changed.connect(self._show_notes)
        state.bookmarks_changed.connect(self._fill_bookmarks)
        state.staleness_changed.connect(self._fill_bookmarks)
        model.snapshot_changed.connect(self._fill_bookmarks)
        model.cursor_changed.connect(self._follow_cursor)
        self._on_opened()

    def _build_lesson_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a lesson's words, never HTML
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        column.addWidget(self.title)
        self.notes = NotesView()
        self.notes.link_clicked.connect(self._on_notes_link)
        marks = QWidget()
        marks_column = QVBoxLayout(marks)
        marks_column.setContentsMargins(0, 0, 0, 0)
        marks_column.addWidget(QLabel("<b>Bookmarks</b> (click one to go to its step)"))
        self.bookmarks = QListWidget()
        self.bookmarks.setWordWrap(True)
        self.bookmarks.itemClicked.connect(self._on_bookmark_clicked)
        self.bookmarks.itemActivated.connect(self._on_bookmark_clicked)
        marks_column.addWidget(self.bookmarks, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add Bookmark…")
        self.add_button.setToolTip("Bookmark the current step of the backward pass")
        self.add_button.clicked.connect(self.add_bookmark)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_bookmark)
        self.edit_button = QPushButton("Edit Notes…")
        self.edit_button.clicked.connect(self.edit_notes)
        for button in (self.add_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.edit_button)
        marks_column.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.notes)
        split.addWidget(marks)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        column.addWidget(split, 1)
        return page

    # -- showing -------------------------------------------------------------------------
    def _on_opened(self) -> None:
        self.pages.setCurrentIndex(0 if self.state.lesson is None else 1)
        self._show_notes()
        self._fill_bookmarks()

    def _show_notes(self) -> None:
        lesson = self.state.lesson
        self.title.setText(lesson.title if lesson else "")
        self.notes.show_markdown(lesson.notes if lesson else "")

    def _fill_bookmarks(self) -> None:
        self.bookmarks.clear()
        for bookmark in self.state.bookmarks:
            item = QListWidgetItem(f"{place_text(bookmark)} — {bookmark.caption}")
            if self.state.stale:
                item.setText(f"{item.text()} (script edited)")
                item.setForeground(self.palette().placeholderText())
                item.setToolTip(STALE_WHY)
            elif self.model.snapshot is not None and not self._exists(bookmark):
                item.setForeground(self.palette().placeholderText())
                item.setToolTip("This run has no such step")
            self.bookmarks.addItem(item)
        self._follow_cursor()

    def _follow_cursor(self) -> None:
        """Select the bookmark the replay is on, so the list shows where the class is."""
        marks = self.state.bookmarks
        row = next(
            (i for i, b in enumerate(marks) if cursor_of(b) == self.model.cursor),
            -1,
        )
        self.bookmarks.blockSignals(True)
        self.bookmarks.setCurrentRow(row)
        self.bookmarks.blockSignals(False)

    def _exists(self, bookmark: Any) -> bool:
        cursor = cursor_of(bookmark)
        return (
            0 <= cursor.pass_index < self.model.pass_count
            and -1 <= cursor.step_index < self.model.step_count(cursor.pass_index)
        )

    # -- acting --------------------------------------------------------------------------
    def go_to(self, index: int) -> bool:
        """Move the replay to the bookmark at index; False if this run has no such step."""
        marks = self.state.bookmarks
        if not 0 <= index < len(marks):
            return False
        if not self._exists(marks[index]):
            self.message.emit(f"This run has no {place_text(marks[index]).lower()}")
            return False
        self.model.stop()
        self.model.move_to(cursor_of(marks[index]))
        if self.state.stale:
            self.message.emit(STALE_WHY)
        return True

    def _on_bookmark_clicked(self, item: QListWidgetItem) -> None:
        self.go_to(self.bookmarks.row(item))

    def add_bookmark(self) -> None:
        if not self.model.pass_count:
            self.message.emit("Run a backward pass first: a bookmark marks one of its steps")
            return
        cursor = self.model.cursor
        where = place_text(bookmark_for(cursor, ""))
        caption, ok = QInputDialog.getText(self, "Add Bookmark", f"Caption for {where}:")
        if ok and caption.strip():
            self.state.add_bookmark(bookmark_for(cursor, caption.strip()[:500]))

    def remove_bookmark(self) -> None:
        self.state.remove_bookmark(self.bookmarks.currentRow())

    def edit_notes(self) -> None:
        lesson = self.state.lesson
        if lesson is None:
            return
        dialog = NotesDialog(lesson.title, lesson.notes, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            title, notes = dialog.values()
            self.state.set_notes(title or lesson.title, notes)

    def _on_start_link(self, url: QUrl) -> None:
        if url.scheme() == EXAMPLE_SCHEME and url.path().isdigit():
            index = int(url.path())
            if index < len(self.examples):
                self.example_chosen.emit(self.examples[index].path)

    def _on_notes_link(self, url: QUrl) -> None:
        # Nothing is opened from a lesson's text; the address is shown to copy if wanted.
        self.message.emit(f"Link: {url.toString()[:300]}")


def place_text(bookmark: Any) -> str:
    step = f"step {bookmark.step}" if bookmark.step else "start"
    return f"Pass {bookmark.pass_number}, {step}"


def start_html(examples: tuple[Example, ...]) -> str:
    """The start page: the gallery, one line each, as links the panel handles itself."""
    items = "".join(
        f"<li><a href='{EXAMPLE_SCHEME}:{i}'><b>{html.escape(e.title)}</b></a><br>"
        f"{html.escape(e.description)}</li>"
        for i, e in enumerate(examples)
    )
    gallery = f"<ol>{items}</ol>" if items else "<p><i>No lessons are installed.</i></p>"
    return (
        "<h2>Lessons</h2>"
        "<p>Each lesson has short notes, a script, and bookmarks at the interesting steps of "
        "its backward pass. They follow the gradient-descent notes; start with the first.</p>"
        f"{gallery}"
        "<p>Open a lesson of your own with File → Open, or drop it on the window. "
        "File → Save As… with the Lessons filter saves the script, notes and bookmarks "
        "as one.</p>"
    )


class NotesDialog(QDialog):
    """Edit a lesson's title and its Markdown notes."""

    def __init__(self, title: str, notes: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit Notes")
        self.resize(640, 480)
        column = QVBoxLayout(self)
        column.addWidget(QLabel("Title"))
        self.title = QLineEdit(title)
        self.title.setMaxLength(200)
        column.addWidget(self.title)
        column.addWidget(QLabel("Notes (Markdown)"))
        self.notes = QPlainTextEdit(notes)
        column.addWidget(self.notes, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

    def values(self) -> tuple[str, str]:
        return self.title.text().strip(), self.notes.toPlainText()[:100_000]
