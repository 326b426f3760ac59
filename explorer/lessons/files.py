"""Reading and writing lesson files, with every cap checked before the work it guards.

A lesson comes from someone else, so reading it trusts nothing: the size is checked
before reading (and the read itself is capped), the nesting depth before parsing, the
structure against the schema, and the cells against the script language, all before
anything runs. A file that fails gets one LessonError naming the file and where.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from explorer.data.text_files import MAX_TEXT_BYTES, FileRefused, read_bounded
from explorer.lang.errors import ScriptError
from explorer.lang.precheck import precheck
from explorer.lessons.cells import cell_position, program
from explorer.lessons.format import Lesson, LessonError, check, from_json, to_json

MAX_FILE_BYTES = MAX_TEXT_BYTES
MAX_DEPTH = 16  # the format needs 4 levels; deeper is a crafted file
MAX_INT_DIGITS = 30


def read_lesson(path: Path) -> Lesson:
    """The lesson in a file, or LessonError with a message naming the file."""
    name = path.name
    try:
        data = read_bounded(
            path, MAX_FILE_BYTES, "a lesson file"
        )  # a FIFO or device would block or never end
    except FileRefused as refused:
        raise LessonError([str(refused)]) from None
    except OSError as error:
        raise LessonError([f"{name}: cannot read it ({error.strerror or error})"]) from None
    return parse_lesson(data, name)


def _too_big(name: str, size: int) -> str:
    return f"{name}: {size:,} bytes; a lesson file may be at most {MAX_FILE_BYTES:,} bytes"


def parse_lesson(data: bytes, name: str = "lesson") -> Lesson:
    """The lesson in a file's bytes: checked for size, JSON, schema and script language."""
    if len(data) > MAX_FILE_BYTES:
        raise LessonError([_too_big(name, len(data))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LessonError([f"{name}: not UTF-8 text (byte {error.start + 1:,})"]) from None
    raw = _parse_json(text, name)
    problems = check(raw)
    if problems:
        raise LessonError([f"{name}: {problem}" for problem in problems])
    lesson = from_json(raw)
    check_cells(lesson, name)
    return lesson


def _parse_json(text: str, name: str) -> Any:
    deep = _too_deep(text)
    if deep is not None:
        line, column = deep
        raise LessonError(
            [f"{name}: line {line}, column {column}: nested more than {MAX_DEPTH} levels deep"]
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_repeated_keys,
            parse_constant=_no_constant,
            parse_int=_short_int,
        )
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise LessonError([f"{name}: {where}: not valid JSON ({error.msg})"]) from None
    except _Refused as error:
        raise LessonError([f"{name}: {error}"]) from None
    except RecursionError:  # the depth scan should have caught it; never a traceback
        raise LessonError([f"{name}: nested too deeply"]) from None


class _Refused(ValueError):
    pass


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f'the key "{key[:40]}" is given twice in one object')
        result[key] = value
    return result


def _no_constant(word: str) -> Any:
    raise _Refused(f"{word} is not a JSON number")


def _short_int(digits: str) -> int:
    # Python refuses to convert integers past 4,300 digits with a message about sys; no
    # field of a lesson needs more than a few.
    if len(digits) > MAX_INT_DIGITS:
        raise _Refused(f"a whole number of {len(digits):,} digits is far too large")
    return int(digits)


def _too_deep(text: str) -> tuple[int, int] | None:
    """(line, column) where brackets outside strings nest deeper than MAX_DEPTH, else None.

    Python's JSON parser recurses once per level, so a file of a million [ would raise
    RecursionError deep inside it; this scan finds it first, in one pass.
    """
    depth = 0
    in_string = escaped = False
    line, column = 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, column
        elif char in "]}":
            depth -= 1
    return None


def check_cells(lesson: Lesson, name: str) -> None:
    """Refuse cells the script language would refuse, before any of them runs."""
    text = program(lesson.cells)
    try:
        precheck(text)
    except ScriptError as error:
        problem = error.problem
        place = cell_position(text, problem.line)
        cell, line = place if place else (1, problem.line)
        where = f"$.cells[{cell - 1}] (cell {cell}), line {line}, column {problem.column}"
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        raise LessonError([f"{name}: {where}: {problem.message}{hint}"]) from None


def lesson_text(lesson: Lesson) -> str:
    """The file's text for a lesson; LessonError if it would not open again."""
    data = to_json(lesson)
    problems = check(data)
    if problems:
        raise LessonError(problems)
    check_cells(lesson, "the script")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_lesson(path: Path, lesson: Lesson) -> None:
    """Write a lesson file whole or not at all (a temporary file, then a rename).

    LessonError if the lesson would not open again; OSError if the file cannot be written.
    """
    text = lesson_text(lesson)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise LessonError([_too_big(path.name, len(text.encode("utf-8")))])
    temporary = path.with_name(f".{path.name}.saving")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
