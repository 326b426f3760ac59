"""The HTML stepper's file: self-contained, the recording's own steps and words, safe to open.

What the page does in a browser is tested in tests/test_page_browser.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from torch import nn

import explorer
from explorer.data.snapshot import Snapshot
from explorer.page import fragment, page
from explorer.view import captions
from explorer.view.calls import CALL_CARD
from tests.helpers import run_ok

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "resources" / "examples" / "notes.py"
TWO_PASSES = (
    "w = torch.tensor([1., 2.], requires_grad=True)\n"
    "a = (w * 3).sum()\na.backward()\n"
    "b = (w ** 2).sum()\nb.backward()\n"
)


class _Tags(HTMLParser):
    """Every tag with its attributes, and the text of each script element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parsed(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    return tags


def _data(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="agx-data">(.*?)</script>', html)
    assert match is not None
    return json.loads(match.group(1))


def _card_ids(html: str) -> list[str]:
    return re.findall(r'<g class="agx-c [^"]*" data-c="\d+" data-id="([^"]*)"', html)


def test_the_page_loads_nothing_from_anywhere() -> None:
    html = page(run_ok(NOTES.read_text()), "notes.py")
    tags = _parsed(html)
    for tag, attrs in tags.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), (tag, href)
    assert "@import" not in html
    assert not re.search(r"url\((?!#)", html)
    policy = [
        a["content"] for t, a in tags.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy and "default-src 'none'" in policy[0]


def test_the_page_replays_each_pass_in_the_engines_order_with_the_windows_words() -> None:
    snapshot = run_ok(TWO_PASSES)
    html = page(snapshot)
    data, ids = _data(html), _card_ids(html)
    assert len(data["passes"]) == len(snapshot.passes) == 2
    for recorded, shown in zip(snapshot.passes, data["passes"], strict=True):
        assert [ids[c] for c in shown["run"]] == [s.node for s in recorded.steps]
        count = len(recorded.steps)
        assert shown["before"] == captions.before(count)
        assert shown["captions"] == [
            captions.step(snapshot.graph.nodes[s.node], k, count)
            for k, s in enumerate(recorded.steps)
        ]
    assert data["passes"][1]["name"] == "pass 2 (line 5)"


def test_leaves_accumulate_at_their_step_and_a_grad_pass_fills_no_grad() -> None:
    snapshot = run_ok(
        "x = torch.tensor(3., requires_grad=True)\ny = x * x\n"
        "g, = torch.autograd.grad(y, x, retain_graph=True)\ny.backward()\n"
    )
    data, ids = _data(page(snapshot)), _card_ids(page(snapshot))
    grad_pass, backward_pass = data["passes"]
    assert grad_pass["acc"] == [-1] * len(grad_pass["run"])
    leaf_steps = [k for k, c in enumerate(backward_pass["run"]) if ids[c] == "n1" or True]
    accumulated = [ids[c] for c in backward_pass["acc"] if c >= 0]
    leaves = [
        s.node for s in snapshot.passes[1].steps if snapshot.graph.nodes[s.node].kind == "leaf"
    ]
    assert accumulated == leaves and leaf_steps
    (leaf,) = leaves
    card = ids.index(leaf)
    step, line = backward_pass["grads"][str(card)]
    assert snapshot.passes[1].steps[step].node == leaf
    assert line == "grad 6"


def test_a_large_graph_opens_collapsed_to_its_module_calls_as_the_window_does() -> None:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    model = nn.TransformerEncoder(layer, num_layers=40, enable_nested_tensor=False)
    with explorer.record(names={"model": model}) as rec:
        model(torch.randn(4, 2, 16)).sum().backward()
    nodes = rec.snapshot.graph.number_of_nodes()
    assert nodes > 2000
    html = fragment(rec.snapshot)
    data, ids = _data(html), _card_ids(html)
    assert len(ids) < nodes / 10
    assert any(card.startswith(CALL_CARD) for card in ids)
    assert len(data["passes"][0]["run"]) == len(rec.snapshot.passes[0].steps)
    assert "call" in data["roles"]


def test_a_transformer_of_1800_nodes_fits_in_2_mb() -> None:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0)
    model = nn.TransformerEncoder(layer, num_layers=35, enable_nested_tensor=False)
    with explorer.record(names={"model": model}) as rec:
        model(torch.randn(10, 2, 32)).sum().backward()
    assert rec.snapshot.graph.number_of_nodes() >= 1800
    size = len(page(rec.snapshot).encode("utf-8"))
    assert size <= 2_000_000, f"{size:,} bytes"


def test_text_from_the_graph_is_written_as_text_never_as_markup() -> None:
    snapshot = run_ok(NOTES.read_text())
    hostile = "</script><script>alert(1)</script><b>&amp;"
    for _, attrs in snapshot.graph.nodes(data=True):
        if attrs.kind == "leaf":
            attrs.name = hostile
        else:
            attrs.module = hostile
    html = page(snapshot, title=hostile, origin=hostile)
    tags = _parsed(html)
    assert [t for t, _ in tags.tags].count("script") == 2  # the data and the stepper's own
    assert [t for t, _ in tags.tags].count("b") == 0
    assert hostile[:17] in json.dumps(_data(html))  # the data holds the text as it is


def test_export_writes_the_page_and_names_html_among_its_formats(tmp_path: Path) -> None:
    out = tmp_path / "pass.html"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(NOTES), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>notes.py</title>" in html
    assert _data(html)["standalone"] is True
    other = tmp_path / "x.htm"
    wrong = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(NOTES), "-o", str(other)],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 2
    assert ".html" in wrong.stderr and not other.exists()


def test_a_recording_saves_the_page_and_shows_it_inline(tmp_path: Path) -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with explorer.record() as rec:
        (w * w).sum().backward()
    line = test_a_recording_saves_the_page_and_shows_it_inline.__code__.co_firstlineno + 2
    saved = rec.save(tmp_path / "step.html")
    html = saved.read_text(encoding="utf-8")
    assert f"Recording from test_page.py:{line}" in html
    inline = rec._repr_html_()
    assert inline.startswith('<div class="agx"') and "<html" not in inline
    assert _data(inline)["standalone"] is False
    assert _card_ids(inline) == _card_ids(html)


@pytest.mark.parametrize("script", [NOTES.read_text(), TWO_PASSES])
def test_two_steppers_on_one_page_have_ids_of_their_own(script: str) -> None:
    snapshot: Snapshot = run_ok(script)
    first, second = fragment(snapshot), fragment(snapshot)
    ids = set(re.findall(r' id="([^"]+)"', first)) & set(re.findall(r' id="([^"]+)"', second))
    assert not ids


def test_the_captions_are_the_windows_own_at_every_step(window) -> None:
    model = window.model
    html = page(model.snapshot)
    shown = _data(html)["passes"][0]
    model.to_start()
    seen = [window.stepper.caption_text()]
    while model.step_forward():
        seen.append(window.stepper.caption_text())
    assert seen == [shown["before"], *shown["captions"]]


@pytest.mark.parametrize(
    "script",
    [
        "x = torch.tensor(2., requires_grad=True)\nx.backward()\n",  # one card, no edge
        "x = torch.tensor(2., requires_grad=True)\ny = x * 3\n",  # no backward pass
    ],
)
def test_a_graph_without_edges_or_passes_still_makes_a_page(script: str) -> None:
    snapshot = run_ok(script)
    html = page(snapshot)
    assert len(_card_ids(html)) == snapshot.graph.number_of_nodes()
    assert len(_data(html)["passes"]) == len(snapshot.passes)


def test_a_lesson_exports_to_a_page(tmp_path: Path) -> None:
    lesson = ROOT / "resources" / "lessons" / "02-chain-rule.json"
    out = tmp_path / "lesson.html"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(lesson), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert len(_data(out.read_text(encoding="utf-8"))["passes"]) == 1
