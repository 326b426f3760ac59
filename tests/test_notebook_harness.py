"""The notebook harness itself: cells run in order in a real kernel, outputs come back by type."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import notebooks
from tests.browser import BrowserPages
from tests.notebooks import ROOT, Output, run_notebook

HTML_CELLS = [
    "class Card:\n"
    "    def _repr_html_(self):\n"
    "        return '<b>grad</b>'\n"
    "    def __repr__(self):\n"
    "        return 'Card()'",
    "Card()",
]


def test_a_cell_sees_the_one_before_and_shows_its_value(tmp_path: Path) -> None:
    outputs = run_notebook(["x = 21", "x * 2"], tmp_path)
    assert outputs[0] == []
    [result] = outputs[1]
    assert result.output_type == "execute_result"
    assert result.data["text/plain"] == "42"


def test_an_object_with_repr_html_shows_as_html(tmp_path: Path) -> None:
    [[], [shown]] = run_notebook(HTML_CELLS, tmp_path)
    assert shown.output_type == "execute_result"
    assert shown.data["text/html"] == "<b>grad</b>"
    assert shown.data["text/plain"] == "Card()"


def test_the_kernel_is_this_interpreter_in_cwd_with_this_checkout(tmp_path: Path) -> None:
    cells = [
        "import os, sys, explorer",
        "print(sys.executable); print(os.getcwd()); print(explorer.__file__)",
        "print(os.environ.get('DISPLAY'), os.environ['QT_QPA_PLATFORM'])",
    ]
    [[], [paths], [display]] = run_notebook(cells, tmp_path)
    executable, cwd, package = paths.text.splitlines()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert Path(package).resolve() == ROOT / "explorer" / "__init__.py"
    assert display == Output("stream", name="stdout", text="None offscreen\n")


def test_an_error_is_an_output_and_later_cells_still_run(tmp_path: Path) -> None:
    [[error], [after]] = run_notebook(["1 / 0", "print('after')"], tmp_path)
    assert (error.output_type, error.ename, error.evalue) == (
        "error",
        "ZeroDivisionError",
        "division by zero",
    )
    assert (after.name, after.text) == ("stdout", "after\n")


def test_a_kernel_that_cannot_start_skips_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(notebooks, "LAUNCHER", [str(tmp_path / "no-python")])
    with pytest.raises(
        pytest.skip.Exception, match=r"no IPython kernel could be started .*no-python"
    ):
        run_notebook(["1"], tmp_path)


def test_a_notebook_runs_while_the_browser_is_open(browser: BrowserPages, tmp_path: Path) -> None:
    # The browser's sync API leaves its event loop marked as running in this thread between calls.
    browser.open(_written(tmp_path / "before.html", "<p>before</p>"))
    [[], [shown]] = run_notebook(HTML_CELLS, tmp_path)
    page = browser.open(_written(tmp_path / "card.html", shown.data["text/html"]))
    assert page.text_content("b") == "grad"
    assert browser.page_errors == []


def _written(path: Path, html: str) -> Path:
    path.write_text(html, encoding="utf-8")
    return path
