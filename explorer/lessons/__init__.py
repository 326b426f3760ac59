"""Lessons: a script in cells with notes, bookmarks of backward steps and view settings.

Plain data, no torch and no Qt: the window, the command line and the tests all use it.
"""

from __future__ import annotations

from explorer.lessons.cells import cell_position, program, split_cells, where
from explorer.lessons.files import MAX_FILE_BYTES, parse_lesson, read_lesson, write_lesson
from explorer.lessons.format import Bookmark, Lesson, LessonError, View

__all__ = [
    "MAX_FILE_BYTES",
    "Bookmark",
    "Lesson",
    "LessonError",
    "View",
    "cell_position",
    "parse_lesson",
    "program",
    "read_lesson",
    "split_cells",
    "where",
    "write_lesson",
]
