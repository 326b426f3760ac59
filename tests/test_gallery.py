"""The built-in lessons: each loads, runs in the real pipeline, and its bookmarks exist.

Also: the check before a run accepts what the language runs, and the gallery is found
both in the source tree and where an installed wheel puts it.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from explorer.lang.errors import ScriptError
from explorer.lang.precheck import precheck
from explorer.lessons import gallery as gallery_module
from explorer.lessons import program, read_lesson
from explorer.lessons.gallery import examples, gallery_dir, is_example
from explorer.runs.session import Session
from tests.helpers import run_ok, texts, values

ROOT = Path(__file__).resolve().parents[1]
LESSON = {"format": "autograd-explorer-lesson", "version": 1, "title": "A lesson"}
GALLERY = sorted((ROOT / "resources" / "lessons").glob("*.json"))
TOPICS = [  # what the lessons teach, in order, and a word each title must have
    "requires_grad", "chain rule", "tracking off", "gradient descent", "zero_",
    "detach", "cross-entropy", "two-layer", "torch.where", "vanishing",
]  # fmt: skip


def test_the_gallery_has_the_eight_lessons_in_order() -> None:
    assert gallery_dir() == ROOT / "resources" / "lessons"
    # The order is the number each file name starts with, 1, 2, ... with none missing.
    by_number = {int(p.name.split("-", 1)[0]): p for p in GALLERY}
    assert sorted(by_number) == list(range(1, len(GALLERY) + 1))
    assert [e.path for e in examples()] == [by_number[n] for n in sorted(by_number)]
    assert len(GALLERY) >= 8
    for example, topic in zip(examples(), TOPICS, strict=False):
        assert topic.lower() in example.title.lower(), example.title
        assert 10 < len(example.description) <= 100


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_a_gallery_lesson_runs_and_every_bookmark_is_a_step(path: Path) -> None:
    lesson = read_lesson(path)
    assert lesson.notes.strip() and lesson.description and lesson.bookmarks
    assert 0 < len(lesson.notes) < 2500  # short enough to read before the class starts
    session = Session(program(lesson.cells))
    snapshot = session.run()
    assert snapshot.problem is None, snapshot.problem
    assert snapshot.passes, "a lesson about backward has a backward pass"
    assert not any(p.error for p in snapshot.passes)
    for mark in lesson.bookmarks:
        assert 1 <= mark.pass_number <= len(snapshot.passes), mark
        assert 0 <= mark.step <= len(snapshot.passes[mark.pass_number - 1].steps), mark
        assert mark.caption.strip()


def lesson_named(stem: str):
    (path,) = [p for p in GALLERY if stem in p.stem]
    lesson = read_lesson(path)
    return lesson, run_ok(program(lesson.cells))


def step_of(snapshot, mark):
    step = snapshot.passes[mark.pass_number - 1].steps[mark.step - 1]
    return snapshot.graph.nodes[step.node], step


def test_the_chain_rule_lesson_is_the_notes_example_with_grad_sixteen() -> None:
    lesson, snapshot = lesson_named("chain-rule")
    assert "y = 2*x**2+3" in lesson.cells[0]
    np.testing.assert_array_equal(values(snapshot.grads["x"]), np.full((2, 3), 16.0))
    ops = [step_of(snapshot, mark)[0]["op"] for mark in lesson.bookmarks]
    assert ops == ["AddBackward0", "MulBackward0", "PowBackward0", "AccumulateGrad"]
    for mark in lesson.bookmarks:  # each caption names the node the step runs
        attrs, _ = step_of(snapshot, mark)
        assert attrs["op"] in mark.caption or "x.grad" in mark.caption


def test_captions_quote_the_numbers_torch_computes() -> None:
    _, snapshot = lesson_named("gradient-descent")
    first = snapshot.passes[0].steps
    assert [float(s.grad_after.values) for s in first if s.grad_after is not None] == [-12, -35]
    _, snapshot = lesson_named("detach")
    assert texts(snapshot)[0] == "tensor(18.)" and texts(snapshot)[1] == "tensor(36.)"
    _, snapshot = lesson_named("accumulation")
    after = [values(s.grad_after).tolist() for p in snapshot.passes for s in p.steps[-1:]]
    assert after == [[2, 4, 6], [4, 8, 12], [3, 3, 3]]
    _, snapshot = lesson_named("cross-entropy")
    grad = values(snapshot.grads["logits"])
    np.testing.assert_allclose(grad, [[-0.341, 0.2424, 0.0986]], atol=1e-3)


def test_gallery_lessons_open_read_only() -> None:
    assert all(is_example(p) for p in GALLERY)
    assert not is_example(ROOT / "README.md")


# -- where the gallery is found ------------------------------------------------------------
def test_the_package_data_installs_every_gallery_lesson() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = config["tool"]["setuptools"]["data-files"]
    (patterns,) = [v for k, v in data_files.items() if k == "/".join(gallery_module.DATA_PARTS)]
    for path in GALLERY:
        relative = str(path.relative_to(ROOT))
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_an_installed_gallery_is_found_under_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path.joinpath(*gallery_module.DATA_PARTS)
    installed.mkdir(parents=True)
    (installed / "01-one.json").write_bytes(GALLERY[0].read_bytes())
    monkeypatch.setattr(gallery_module, "SOURCE_DIR", tmp_path / "no-source-tree")
    monkeypatch.setattr(gallery_module.sys, "prefix", str(tmp_path))
    monkeypatch.setattr(gallery_module.metadata, "distribution", _no_distribution)
    examples.cache_clear()
    try:
        assert gallery_dir() == installed
        assert [e.title for e in examples()] == [read_lesson(GALLERY[0]).title]
    finally:
        examples.cache_clear()


def _no_distribution(name: str):
    raise gallery_module.metadata.PackageNotFoundError(name)


# -- the check before a run ----------------------------------------------------------------
ACCEPTED = [
    "import torch\nimport torch.nn as nn\nimport torch.nn.functional as G\n"
    "x = torch.ones(3, requires_grad=True)\ny = G.relu(x).sum()\ny.backward()\n",
    "from torch import nn\nlayer = nn.Linear(2, 1)\nout = layer(torch.ones(1, 2)).sum()\n",
    "import math\nx = torch.tensor(math.pi, requires_grad=True)\nz = torch.sin(x)\n",
    "open = 3\nprint(open + 1)\n",  # the script's own name, not Python's open
    "for i in range(3):\n    print(i, len([1, 2]), max(i, 1))\n",
    ">>> x = torch.ones(2)\n>>> x * 2\ntensor([2., 2.])\n",
]


@pytest.mark.parametrize("script", ACCEPTED)
def test_the_check_accepts_what_the_language_runs(script: str) -> None:
    precheck(script)
    run_ok(script)


def test_the_check_names_the_line_and_column_in_pasted_text() -> None:
    with pytest.raises(ScriptError) as refused:
        precheck(">>> x = 1\n>>> y = eval('x')\n")
    problem = refused.value.problem
    assert (problem.line, problem.column, problem.text) == (2, 9, ">>> y = eval('x')")


# -- the command line ----------------------------------------------------------------------
def export(tmp_path: Path, lesson: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "main.py"), "export", str(lesson), "-o", "out.json"]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)


def test_export_runs_a_lesson_and_names_a_problem_by_its_cell(tmp_path: Path) -> None:
    done = export(tmp_path, next(p for p in GALLERY if "detach" in p.name))
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out.json").read_text())
    assert len(written["backward"]) == 2 and written["grads"] == {"x": 18.0, "x2": 36.0}
    (tmp_path / "out.json").unlink()

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(LESSON | {"cells": ["x = 1", "y = 2\nz = torch.ones(2) @ x"]}))
    done = export(tmp_path, broken)
    assert done.returncode == 1
    assert done.stderr.startswith(f"{broken}: cell 2, line 2, column 5: error: ")
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(LESSON | {"cells": ["open('out.json', 'w')"]}))
    done = export(tmp_path, hostile)
    assert done.returncode == 2
    assert done.stderr == (
        "error: hostile.json: $.cells[0] (cell 1), line 1, column 1: open is not available "
        "in explorer scripts\n"
    )
    assert not (tmp_path / "out.json").exists()
