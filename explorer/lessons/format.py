"""The lesson format: its data types, its schema (as data) and the check of a parsed file.

A lesson file is one JSON object:

    {"format": "autograd-explorer-lesson", "version": 1, "title": "The chain rule",
     "description": "one line for the gallery", "notes": ["# Markdown", "..."],
     "cells": [["x = torch.full((2,3), 4., requires_grad=True)", "y = 2*x**2+3"]],
     "bookmarks": [{"pass": 1, "step": 3, "caption": "PowBackward0 multiplies by 2x"}],
     "view": {"zoom": 1.0, "collapsed": [], "fold": false, "direction": "up"}}

Notes and cells are a string or a list of lines. Bookmarks count as the window does:
pass 1 is the first backward pass, step 1 its first step, step 0 before it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from explorer.lessons.cells import MARKER

FORMAT = "autograd-explorer-lesson"
VERSION = 1
MAX_PROBLEMS = 12  # a file wrong everywhere is reported by its first few problems

TEXT = "text"  # a schema type: a string, or a list of strings that are its lines
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "title", "cells"],
    "properties": {
        "format": {"type": "string", "const": FORMAT},
        "version": {"type": "integer", "minimum": 1},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 300},
        "notes": {"type": TEXT, "maxLength": 100_000},
        "cells": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {"type": TEXT, "maxLength": 50_000},
        },
        "bookmarks": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "required": ["pass", "step", "caption"],
                "properties": {
                    "pass": {"type": "integer", "minimum": 1, "maximum": 100_000},
                    "step": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
                    "caption": {"type": "string", "minLength": 1, "maxLength": 500},
                },
            },
        },
        "view": {
            "type": "object",
            "properties": {
                "zoom": {"type": "number", "minimum": 0.05, "maximum": 50},
                "collapsed": {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {"type": "string", "maxLength": 300},
                },
                "fold": {"type": "boolean"},
                "direction": {"type": "string", "enum": ["up", "right"]},
            },
        },
    },
}
MAX_TEXT_LINES = 20_000  # lines in one list-of-lines text


class LessonError(ValueError):
    """A lesson file that cannot be opened: every problem names the file and where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Bookmark:
    """A step of a backward pass worth stopping at, with what to say about it."""

    pass_number: int  # 1: the first backward pass, as the window counts them
    step: int  # 1: the pass's first step; 0: before it
    caption: str


@dataclass
class View:
    """How the graph is shown: zoom (1 fits the whole graph), collapsed calls, fold, direction."""

    zoom: float = 1.0
    collapsed: list[str] | None = None  # None: the window's own choice for the graph's size
    fold: bool = False
    direction: str | None = None  # "up" or "right"; None: as the user has it


@dataclass
class Lesson:
    title: str
    cells: list[str]
    notes: str = ""
    description: str = ""
    bookmarks: list[Bookmark] = field(default_factory=list)
    view: View = field(default_factory=View)


# -- checking ----------------------------------------------------------------------------
def check(data: Any) -> list[str]:
    """The problems of a parsed file, each as `$.json.path: what is wrong`; [] if none."""
    if not isinstance(data, dict):
        return [f"$: a lesson is a JSON object {{...}}, not {_kind(data)}"]
    if data.get("format") != FORMAT:
        return [f'$.format: not an Autograd Explorer lesson (format must be "{FORMAT}")']
    version = data.get("version")
    if _is_int(version) and version > VERSION:
        return [
            f"$.version: this lesson is format version {version}, made by a newer Autograd "
            f"Explorer; this one reads version {VERSION}"
        ]
    problems: list[str] = []
    for problem in _problems(data, SCHEMA, "$"):
        problems.append(problem)
        if len(problems) == MAX_PROBLEMS:
            break
    if not problems:
        problems.extend(_marker_problems(data["cells"]))
    return problems


def _problems(value: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    kind = schema["type"]
    if not _has_type(value, kind):
        yield f"{path}: must be {_TYPE_NAMES[kind]}, not {_kind(value)}"
        return
    if kind == "object":
        yield from _object_problems(value, schema, path)
    elif kind == "array":
        yield from _array_problems(value, schema, path)
    elif kind in ("string", TEXT):
        yield from _text_problems(value, schema, path)
    elif kind in ("integer", "number"):
        yield from _number_problems(value, schema, path)


def _object_problems(value: dict, schema: dict[str, Any], path: str) -> Iterator[str]:
    properties = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            yield f"{path}.{key}: missing"
    for key, item in value.items():
        if key not in properties:
            known = ", ".join(properties)
            yield f"{path}: unknown key {_short(key)} (the keys here are {known})"
        else:
            yield from _problems(item, properties[key], f"{path}.{key}")


def _array_problems(value: list, schema: dict[str, Any], path: str) -> Iterator[str]:
    if len(value) < schema.get("minItems", 0):
        yield f"{path}: needs at least {schema['minItems']} item(s)"
    if len(value) > schema.get("maxItems", math.inf):
        yield f"{path}: has {len(value):,} items; at most {schema['maxItems']:,} are allowed"
        return  # one message for a huge list, not one per item
    for index, item in enumerate(value):
        yield from _problems(item, schema["items"], f"{path}[{index}]")


def _text_problems(value: str | list, schema: dict[str, Any], path: str) -> Iterator[str]:
    if isinstance(value, list):
        if len(value) > MAX_TEXT_LINES:
            yield f"{path}: has {len(value):,} lines; at most {MAX_TEXT_LINES:,} are allowed"
            return
        for index, line in enumerate(value):
            if not isinstance(line, str):
                yield f"{path}[{index}]: a line must be a string, not {_kind(line)}"
                return
        value = "\n".join(value)
    if "const" in schema and value != schema["const"]:
        yield f'{path}: must be "{schema["const"]}"'
    if "enum" in schema and value not in schema["enum"]:
        choices = " or ".join(f'"{choice}"' for choice in schema["enum"])
        yield f"{path}: must be {choices}, not {_short(value)}"
    if len(value) < schema.get("minLength", 0):
        yield f"{path}: must not be empty"
    if len(value) > schema.get("maxLength", math.inf):
        yield (
            f"{path}: is {len(value):,} characters long; at most "
            f"{schema['maxLength']:,} are allowed"
        )
    elif not _encodable(value):
        yield f"{path}: holds a lone surrogate escape (such as \\ud800), which is not text"


def _number_problems(value: float, schema: dict[str, Any], path: str) -> Iterator[str]:
    if not math.isfinite(value):
        yield f"{path}: must be a finite number"
    elif value < schema.get("minimum", -math.inf):
        yield f"{path}: must be at least {schema['minimum']}, not {value}"
    elif value > schema.get("maximum", math.inf):
        yield f"{path}: must be at most {schema['maximum']:,}, not {value}"


def _marker_problems(cells: list) -> Iterator[str]:
    for index, cell in enumerate(cells):
        lines = cell if isinstance(cell, list) else cell.split("\n")
        for number, line in enumerate("\n".join(lines).split("\n"), 1):
            if line.startswith(MARKER):
                yield (
                    f"$.cells[{index}]: line {number} starts with {MARKER}, which marks where a "
                    "cell begins; make it a cell of its own"
                )
                return


_TYPE_NAMES = {
    "object": "an object {...}",
    "array": "a list [...]",
    "string": "a string",
    TEXT: "a string or a list of lines",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def _has_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == TEXT:
        return isinstance(value, str | list)
    if kind == "integer":
        return _is_int(value)
    if kind == "number":
        return _is_int(value) or isinstance(value, float)
    return isinstance(value, bool)  # "boolean"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """What a JSON value is, said briefly: `the string "two"`, `a list`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {_short(value)}"
    if isinstance(value, str):
        return f"the string {_short(value)}"
    return "a list" if isinstance(value, list) else "an object"


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else '"' + value + '"'
    return text if len(text) <= 40 else text[:37] + "…"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- converting --------------------------------------------------------------------------
def _text(value: str | list[str]) -> str:
    return "\n".join(value) if isinstance(value, list) else value


def from_json(data: dict[str, Any]) -> Lesson:
    """A checked file's data (check(data) == []) as a Lesson."""
    view = data.get("view", {})
    return Lesson(
        title=data["title"],
        cells=[_text(cell).rstrip("\n") for cell in data["cells"]],
        notes=_text(data.get("notes", "")),
        description=data.get("description", ""),
        bookmarks=[Bookmark(b["pass"], b["step"], b["caption"]) for b in data.get("bookmarks", [])],
        view=View(
            zoom=float(view.get("zoom", 1.0)),
            collapsed=list(view["collapsed"]) if "collapsed" in view else None,
            fold=view.get("fold", False),
            direction=view.get("direction"),
        ),
    )


def to_json(lesson: Lesson) -> dict[str, Any]:
    """The file's data for a lesson; texts as lists of lines, which read well in a diff."""
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "title": lesson.title}
    if lesson.description:
        data["description"] = lesson.description
    data["notes"] = lesson.notes.split("\n")
    data["cells"] = [cell.split("\n") for cell in lesson.cells]
    data["bookmarks"] = [
        {"pass": b.pass_number, "step": b.step, "caption": b.caption} for b in lesson.bookmarks
    ]
    view: dict[str, Any] = {"zoom": round(lesson.view.zoom, 3), "fold": lesson.view.fold}
    if lesson.view.collapsed is not None:
        view["collapsed"] = list(lesson.view.collapsed)
    if lesson.view.direction is not None:
        view["direction"] = lesson.view.direction
    data["view"] = view
    return data
