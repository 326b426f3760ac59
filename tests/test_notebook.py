"""The recording in a notebook: docs/record-a-training-step.ipynb executed in a real kernel
shows the stepper as its output, and that output steps in a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from tests.notebooks import ROOT, run_notebook

NOTEBOOK = ROOT / "docs" / "record-a-training-step.ipynb"


def _code_cells() -> list[str]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_the_example_notebook_shows_a_stepper_that_steps_in_a_browser(
    browser, tmp_path: Path
) -> None:
    outputs = run_notebook(_code_cells(), tmp_path)
    errors = [o for cell in outputs for o in cell if o.output_type == "error"]
    assert not errors, errors
    (shown,) = outputs[1]
    html = shown.data["text/html"]
    assert shown.data["text/plain"].startswith("<Recording of 1 backward pass")
    assert shown.data["text/plain"].endswith("from a notebook cell, line 1>")
    assert "Recording from a notebook cell, line 1" in html
    data = json.loads(re.search(r'class="agx-data">(.*?)</script>', html).group(1))
    assert "model.0.weight" in [info["title"] for info in data["info"]]
    assert (tmp_path / "step.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    host = tmp_path / "output.html"
    host.write_text(f"<!DOCTYPE html><html><body>{html}</body></html>", encoding="utf-8")
    page = browser.open(host)
    count = len(data["passes"][0]["run"])
    page.click(".agx-forward")
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".agx-caption").startswith(f"Step 2 of {count}: ")
    assert page.locator(".agx-c.agx-running").count() == 1
    assert not browser.page_errors and not browser.blocked
