"""The open lesson as state with signals: its title, notes and bookmarks."""

from __future__ import annotations

import ast
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from explorer.lessons import Bookmark, Lesson, program
from explorer.view.replay import Cursor


def cursor_of(bookmark: Bookmark) -> Cursor:
    """Where a bookmark points, as the replay counts: pass and step from 0, -1 before."""
    return Cursor(bookmark.pass_number - 1, bookmark.step - 1)


def bookmark_for(cursor: Cursor, caption: str) -> Bookmark:
    return Bookmark(cursor.pass_index + 1, cursor.step_index + 1, caption)


def same_program(a: str, b: str) -> bool:
    """Whether two scripts say the same: comments, blank lines and spacing aside."""
    if a == b:
        return True
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


STALE_WHY = (
    "The script was edited after the lesson's bookmarks were made: a bookmark's step may now "
    "show another node. Save the lesson to keep the bookmarks with this script."
)


class LessonState(QObject):
    """The lesson the window shows (None: a plain script); views paint it."""

    opened = Signal()  # another lesson, or none, is open
    bookmarks_changed = Signal()  # a bookmark was added or removed
    notes_changed = Signal()  # the title or notes were edited
    edited = Signal()  # any change the file does not have yet
    staleness_changed = Signal()  # the script came to differ from the lesson's, or back

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson: Lesson | None = None
        self.stale = False  # the editor's script is no longer the one the bookmarks are of

    def open(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self._set_stale(False)
        self.opened.emit()

    def script_changed(self, text: str) -> None:
        """The editor's script is now text: are the bookmarks still of its graph?"""
        if self.lesson is not None:
            self._set_stale(not same_program(text, program(self.lesson.cells)))

    def _set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.staleness_changed.emit()

    def close(self) -> None:
        if self.lesson is not None:
            self.lesson = None
            self._set_stale(False)
            self.opened.emit()

    @property
    def bookmarks(self) -> list[Bookmark]:
        return self.lesson.bookmarks if self.lesson else []

    def bookmark_at(self, cursor: Cursor) -> Bookmark | None:
        return next((b for b in self.bookmarks if cursor_of(b) == cursor), None)

    def add_bookmark(self, bookmark: Bookmark) -> None:
        if self.lesson is None:
            return
        marks = [b for b in self.lesson.bookmarks if cursor_of(b) != cursor_of(bookmark)]
        marks.append(bookmark)
        marks.sort(key=lambda b: (b.pass_number, b.step))
        self.lesson.bookmarks = marks
        self.bookmarks_changed.emit()
        self.edited.emit()

    def remove_bookmark(self, index: int) -> None:
        if self.lesson is not None and 0 <= index < len(self.lesson.bookmarks):
            del self.lesson.bookmarks[index]
            self.bookmarks_changed.emit()
            self.edited.emit()

    def set_notes(self, title: str, notes: str) -> None:
        if self.lesson is not None and (title, notes) != (self.lesson.title, self.lesson.notes):
            self.lesson = replace(self.lesson, title=title, notes=notes)
            self.notes_changed.emit()
            self.edited.emit()
