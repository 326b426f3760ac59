"""Broken and hostile lesson files, each with the part of the message that must refuse it."""

from __future__ import annotations

import json

from explorer.lessons.format import FORMAT

VALID = {"format": FORMAT, "version": 1, "title": "A lesson", "cells": ["x = 1"]}


def lesson_bytes(**changes: object) -> bytes:
    """VALID with some keys changed (a value of ... removes the key), as file bytes."""
    data = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data).encode()


def with_cells(*cells: str) -> bytes:
    return lesson_bytes(cells=list(cells))


def bookmark(**changes: object) -> bytes:
    mark: dict[str, object] = {"pass": 1, "step": 1, "caption": "here"}
    mark.update(changes)
    mark = {k: v for k, v in mark.items() if v is not ...}
    return lesson_bytes(bookmarks=[mark])


# (name, file bytes, a part of the message: the JSON path or line/column and what is wrong)
BROKEN: list[tuple[str, bytes, str]] = [
    ("not-json", b"this is not json", "line 1, column 1: not valid JSON"),
    ("truncated", b'{"format": "autograd-explorer-lesson", "version": 1,', "not valid JSON"),
    ("empty-file", b"", "line 1, column 1: not valid JSON"),
    ("invalid-utf8", b'{"title": "caf\xe9"}', "not UTF-8 text (byte 15)"),
    ("top-level-list", b"[]", "$: a lesson is a JSON object"),
    ("top-level-string", b'"a lesson"', "$: a lesson is a JSON object {...}, not the string"),
    ("null", b"null", "not null"),
    ("no-format", lesson_bytes(format=...), "$.format: not an Autograd Explorer lesson"),
    ("other-format", lesson_bytes(format="jupyter"), "$.format: not an Autograd Explorer"),
    ("future-version", lesson_bytes(version=2), "$.version: this lesson is format version 2"),
    ("version-string", lesson_bytes(version="1"), "$.version: must be a whole number, not the"),
    ("version-bool", lesson_bytes(version=True), "$.version: must be a whole number, not true"),
    ("version-zero", lesson_bytes(version=0), "$.version: must be at least 1"),
    ("no-title", lesson_bytes(title=...), "$.title: missing"),
    ("title-number", lesson_bytes(title=42), "$.title: must be a string, not the number 42"),
    ("title-empty", lesson_bytes(title=""), "$.title: must not be empty"),
    ("huge-title", lesson_bytes(title="x" * 10_000), "$.title: is 10,000 characters long"),
    ("no-cells", lesson_bytes(cells=...), "$.cells: missing"),
    ("cells-empty", lesson_bytes(cells=[]), "$.cells: needs at least 1 item"),
    ("cells-string", lesson_bytes(cells="x = 1"), "$.cells: must be a list [...]"),
    ("cell-number", lesson_bytes(cells=[42]), "$.cells[0]: must be a string or a list of lines"),
    ("cell-line-number", lesson_bytes(cells=[["x = 1", 7]]), "$.cells[0][1]: a line must be"),
    ("too-many-cells", lesson_bytes(cells=["x = 1"] * 51), "$.cells: has 51 items; at most 50"),
    ("huge-cell", with_cells("x = 1\n" * 20_000), "$.cells[0]: is 120,000 characters long"),
    ("huge-notes", lesson_bytes(notes="a" * 200_000), "$.notes: is 200,000 characters long"),
    ("notes-object", lesson_bytes(notes={}), "$.notes: must be a string or a list of lines"),
    ("bookmarks-object", lesson_bytes(bookmarks={}), "$.bookmarks: must be a list"),
    ("bookmark-no-caption", bookmark(caption=...), "$.bookmarks[0].caption: missing"),
    ("bookmark-step-word", bookmark(step="two"), "$.bookmarks[0].step: must be a whole number"),
    ("bookmark-pass-zero", bookmark(**{"pass": 0}), "$.bookmarks[0].pass: must be at least 1"),
    ("bookmark-step-negative", bookmark(step=-1), "$.bookmarks[0].step: must be at least 0"),
    ("bookmark-step-fraction", bookmark(step=1.5), "$.bookmarks[0].step: must be a whole number"),
    ("bookmark-unknown-key", bookmark(run="x"), '$.bookmarks[0]: unknown key "run"'),
    (
        "many-bookmarks",
        lesson_bytes(bookmarks=[{"pass": 1, "step": 1, "caption": "c"}] * 500),
        "$.bookmarks: has 500 items; at most 200",
    ),
    ("zoom-word", lesson_bytes(view={"zoom": "big"}), "$.view.zoom: must be a number"),
    ("zoom-infinite", b'{"view": {"zoom": 1e400}, ' + lesson_bytes()[1:], "must be a finite"),
    ("zoom-zero", lesson_bytes(view={"zoom": 0}), "$.view.zoom: must be at least 0.05"),
    ("direction", lesson_bytes(view={"direction": "sideways"}), '$.view.direction: must be "up"'),
    ("fold-word", lesson_bytes(view={"fold": "yes"}), "$.view.fold: must be true or false"),
    (
        "huge-collapsed",
        lesson_bytes(view={"collapsed": ["m"] * 5000}),
        "$.view.collapsed: has 5,000 items",
    ),
    ("unknown-key", lesson_bytes(run="rm -rf /"), '$: unknown key "run"'),
    ("repeated-key", b'{"title": "a", "title": "b"}', 'the key "title" is given twice'),
    ("nan", b'{"view": {"zoom": NaN}}', "NaN is not a JSON number"),
    ("deep-nesting", b"[" * 100_000 + b"]" * 100_000, "line 1, column 17: nested more than 16"),
    ("deep-in-notes", lesson_bytes(notes=json.loads("[" * 30 + "]" * 30)), "nested more than 16"),
    ("huge-integer", b'{"version": 1' + b"0" * 5000 + b"}", "a whole number of 5,001 digits"),
    ("wide-list", b'{"cells": [' + b"0," * 400_000 + b"0]}", "$.format: not an Autograd"),
    (
        "wide-list-in-lesson",
        lesson_bytes(cells=[0] * 100_000),
        "$.cells: has 100,000 items; at most 50",
    ),
    ("lone-surrogate", b'{"title": "\\ud800", ' + lesson_bytes(title=...)[1:], "lone surrogate"),
    ("marker-in-cell", with_cells("x = 1\n# %% cell 2\ny = 2"), "$.cells[0]: line 2 starts with"),
]

# Scripts that reach outside the language: refused before they run, at their cell and line.
ESCAPES: list[tuple[str, bytes, str]] = [
    ("dunder-import", with_cells("__import__('os').system('echo hi')"), "underscore (__import__)"),
    ("dunder-attribute", with_cells("x = torch.ones(1)\nx.__class__"), "(cell 1), line 2"),
    ("open", with_cells("open('/etc/passwd').read()"), "open is not available"),
    ("eval", with_cells("eval('1+1')"), "eval is not available"),
    ("exec", with_cells("exec('import os')"), "exec is not available"),
    ("getattr", with_cells("f = getattr(torch, 'load')"), "getattr is not available"),
    ("torch-save", with_cells("torch.save(torch.ones(1), 'f.pt')"), "torch.save is not avail"),
    ("torch-load-alias", with_cells("import torch as t\nt.load('f.pt')"), "torch.load is not"),
    ("from-torch-load", with_cells("from torch import load"), "torch.load is not available"),
    ("import-os", with_cells("import os\nos.remove('x')"), "import os is not available"),
    ("import-subprocess", with_cells("import subprocess"), "import subprocess is not"),
    ("generator", with_cells("def f():\n    yield 1"), "yield (generator functions) is not"),
    ("dunder-method", with_cells("class A:\n    def __del__(self):\n        pass"), "(__del__)"),
    ("metaclass", with_cells("class A(metaclass=print):\n    pass"), "metaclasses are not"),
    ("breakpoint", with_cells("breakpoint()"), "breakpoint is not available"),
    ("compile", with_cells("compile('1', 'f', 'exec')"), "compile is not available"),
    ("globals-cell-2", with_cells("x = 1", "globals()['x']"), "$.cells[1] (cell 2), line 1"),
    ("nul", with_cells("x = 1\x00"), "cannot contain null bytes"),
    ("deep-brackets", with_cells("[" * 200 + "]" * 200), "nested more than 100 levels"),
]

HOSTILE = BROKEN + ESCAPES
