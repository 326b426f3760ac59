"""Lesson files: the format, broken and hostile files refused before anything runs, the cells.

Every refused file must give one LessonError whose message names the file and where the
problem is (a JSON path, or a line and column), and must write nothing. The loader never
runs a script; the window tests (test_lessons_ui.py) check that no worker run starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.data import text_files
from explorer.lessons import (
    MAX_FILE_BYTES,
    Bookmark,
    Lesson,
    LessonError,
    View,
    cell_position,
    parse_lesson,
    program,
    read_lesson,
    split_cells,
    where,
    write_lesson,
)
from explorer.lessons.format import SCHEMA, check, to_json
from tests.hostile_lessons import HOSTILE, VALID, lesson_bytes


def test_the_hostile_corpus_is_large() -> None:
    assert len(HOSTILE) >= 60
    assert len({name for name, _, _ in HOSTILE}) == len(HOSTILE)


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("name", "data", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_broken_or_hostile_lesson_is_refused_with_one_clear_message(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(data)
    before = files_in(tmp_path)
    with pytest.raises(LessonError) as refused:
        read_lesson(path)
    message = str(refused.value)
    assert message.startswith(f"{name}.json: "), message
    assert expected in message, message
    assert "Traceback" not in message
    assert len(refused.value.problems) <= 12
    assert files_in(tmp_path) == before  # nothing written, nothing changed


def test_each_problem_gets_its_own_line_with_its_path(tmp_path: Path) -> None:
    data = lesson_bytes(title=7, notes=False, bookmarks=[{"pass": 1, "step": "x"}])
    with pytest.raises(LessonError) as refused:
        parse_lesson(data, "wrong.json")
    assert refused.value.problems == [
        "wrong.json: $.title: must be a string, not the number 7",
        "wrong.json: $.notes: must be a string or a list of lines, not false",
        "wrong.json: $.bookmarks[0].caption: missing",
        'wrong.json: $.bookmarks[0].step: must be a whole number, not the string "x"',
    ]


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(lesson_bytes(notes=" " * MAX_FILE_BYTES))

    def no_reading(*args, **kwargs):
        raise AssertionError("a file over the cap was opened")

    monkeypatch.setattr(text_files.os, "fdopen", no_reading)
    with pytest.raises(LessonError, match=r"big\.json: 1,000,\d{3} bytes; a lesson file may be"):
        read_lesson(path)


def test_special_files_and_missing_files_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.json"
    folder.mkdir()
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    for path, expected in (
        (folder, "folder.json: not a regular file"),
        (fifo, "pipe.json: not a regular file"),
        (tmp_path / "missing.json", "missing.json: cannot read it"),
    ):
        with pytest.raises(LessonError, match=expected):
            read_lesson(path)


def test_a_valid_lesson_loads_with_its_texts_joined_and_its_defaults() -> None:
    data = dict(VALID, cells=[["x = 1", "y = 2", ""], "z = 3\n"], notes=["# Hi", "there"])
    data["bookmarks"] = [{"pass": 2, "step": 0, "caption": "start"}]
    lesson = parse_lesson(json.dumps(data).encode("utf-8-sig"), "ok.json")  # a BOM is fine
    assert lesson.cells == ["x = 1\ny = 2", "z = 3"]
    assert lesson.notes == "# Hi\nthere"
    assert lesson.bookmarks == [Bookmark(2, 0, "start")]
    assert lesson.view == View(zoom=1.0, collapsed=None, fold=False, direction=None)
    assert lesson.description == ""


def test_write_and_read_give_the_same_lesson(tmp_path: Path) -> None:
    lesson = Lesson(
        title="Mine",
        cells=["x = torch.ones(2, requires_grad=True)", "", "y = (x * 3).sum()\ny.backward()"],
        notes="Some *notes*\n\nwith ∂ and ²",
        description="one line",
        bookmarks=[Bookmark(1, 0, "before"), Bookmark(1, 2, "after")],
        view=View(zoom=2.5, collapsed=["model.0"], fold=True, direction="right"),
    )
    path = tmp_path / "mine.json"
    write_lesson(path, lesson)
    assert read_lesson(path) == lesson
    assert json.loads(path.read_text(encoding="utf-8"))["cells"][2] == [
        "y = (x * 3).sum()",
        "y.backward()",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]  # no temporary file left


def test_a_lesson_that_would_not_open_again_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("old contents")
    for lesson, expected in (
        (Lesson("t", ["x = open('f')"]), "open is not available"),
        (Lesson("", ["x = 1"]), "$.title: must not be empty"),
        (Lesson("t", ["x = 1"], view=View(zoom=500)), "$.view.zoom: must be at most 50"),
    ):
        with pytest.raises(LessonError, match=expected.replace("$", r"\$").replace(".", r"\.")):
            write_lesson(path, lesson)
    assert path.read_text() == "old contents"


def test_the_schema_is_data_that_names_every_field() -> None:
    assert set(SCHEMA["properties"]) == {
        "format", "version", "title", "description", "notes", "cells", "bookmarks", "view",
    }  # fmt: skip
    assert check(to_json(Lesson("t", ["x = 1"]))) == []


# -- cells ---------------------------------------------------------------------------------
def test_cells_join_with_markers_and_split_back_the_same() -> None:
    for cells in (["x = 1"], ["x = 1\ny = 2", "", "z = 3"], ["", "a"], [""], ["  x = 1"]):
        text = program(cells)
        assert split_cells(text) == cells
    assert program(["a = 1", "b = 2"]) == "# %% cell 1\na = 1\n# %% cell 2\nb = 2\n"
    assert program(["a = 1"]) == "a = 1\n"


def test_a_line_of_the_joined_script_is_named_by_its_cell() -> None:
    text = program(["a = 1\nb = 2", "c = 3"])
    assert [cell_position(text, line) for line in range(1, 6)] == [
        None, (1, 1), (1, 2), None, (2, 1),
    ]  # fmt: skip
    assert where(text, 5, 3) == "Cell 2, line 1, column 3: "
    assert where("x = 1\ny = 2\n", 2, 1) == "Line 2, column 1: "
    assert where(text, 0, 0) == ""


def test_text_typed_above_the_first_marker_is_a_cell_of_its_own() -> None:
    text = "z = 0\n" + program(["a = 1", "b = 2"])
    assert split_cells(text) == ["z = 0", "a = 1", "b = 2"]
    assert cell_position(text, 1) == (1, 1)
    assert cell_position(text, 5) == (3, 1)


# -- layers --------------------------------------------------------------------------------
def test_the_lesson_format_loads_without_torch_or_qt() -> None:
    code = (
        "import sys\nimport explorer.lessons, explorer.lessons.gallery\n"
        "explorer.lessons.gallery.examples()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
