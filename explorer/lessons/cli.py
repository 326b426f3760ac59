"""What the command line needs of lessons: a lesson's script, and where a problem is in it."""

from __future__ import annotations

from pathlib import Path

from explorer.data.text_files import read_text
from explorer.lessons.cells import cell_position, program
from explorer.lessons.files import read_lesson

LESSON_SUFFIX = ".json"


def read_source(path: Path, trusted: bool = False) -> str:
    """A script's text, or a lesson's cells as one script (LessonError if it is refused)."""
    if path.suffix.lower() == LESSON_SUFFIX and not trusted:
        return program(read_lesson(path).cells)
    return read_text(path)  # a regular file, its size capped before reading


def problem_place(path: Path, text: str, line: int, column: int) -> str:
    """`script.py:3:5`, or `lesson.json: cell 2, line 1, column 5` in a lesson of cells; the
    file alone for a problem of the whole run (line 0), such as a graph past the node limit."""
    if line < 1:
        return str(path)
    place = cell_position(text, line)
    if place is None:
        return f"{path}:{line}:{column}"
    return f"{path}: cell {place[0]}, line {place[1]}, column {column}"
