"""The HTML stepper in a real browser (headless Chromium): keys, captions, highlights, the
inspector, `#step=K`, light and dark, and no request leaving the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explorer.page import fragment, page
from explorer.view import captions
from explorer.view.colours import DARK, LIGHT
from tests.helpers import run_ok

NOTES = Path(__file__).resolve().parents[1] / "resources" / "examples" / "notes.py"
TWO_PASSES = (
    "w = torch.tensor([1., 2.], requires_grad=True)\n"
    "a = (w * 3).sum()\na.backward()\n"
    "b = (w ** 2).sum()\nb.backward()\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory):
    snapshot = run_ok(NOTES.read_text())
    path = tmp_path_factory.mktemp("page") / "notes.html"
    path.write_text(page(snapshot, "notes.py"), encoding="utf-8")
    return snapshot, path


def _classes(pg, node: str) -> set[str]:
    return set(pg.get_attribute(f'.agx-c[data-id="{node}"]', "class").split())


def _lit_edges(pg) -> dict[str, int]:
    return pg.evaluate(
        """() => ({flow: document.querySelectorAll('.agx-e.agx-flow').length,
                   act: document.querySelectorAll('.agx-e.agx-act').length})"""
    )


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_the_keys_step_through_the_pass_with_the_windows_captions(browser, notes) -> None:
    snapshot, path = notes
    steps = snapshot.passes[0].steps
    pg = browser.open(path)
    caption = pg.locator(".agx-caption")
    assert caption.inner_text() == captions.before(len(steps))
    assert _lit_edges(pg) == {"flow": 0, "act": 0}
    for k, step in enumerate(steps):
        pg.keyboard.press("ArrowRight")
        attrs = snapshot.graph.nodes[step.node]
        assert caption.inner_text() == captions.step(attrs, k, len(steps))
        assert "agx-running" in _classes(pg, step.node)
        sent = sum(g is not None for g in step.grad_out)
        assert _lit_edges(pg)["act"] == sent  # what the running node sends, in its colour
        for earlier in steps[:k]:
            assert "agx-done" in _classes(pg, earlier.node) or attrs.kind == "leaf"
    leaf = steps[-1].node
    assert "agx-accumulated" in _classes(pg, leaf)
    assert pg.locator(f'.agx-c[data-id="{leaf}"] tspan').last.text_content() == "grad all 16"
    assert _lit_edges(pg) == {"flow": snapshot.graph.number_of_edges(), "act": 0}
    pg.keyboard.press("ArrowLeft")
    assert "agx-accumulated" not in _classes(pg, leaf)
    assert caption.inner_text() == captions.step(
        snapshot.graph.nodes[steps[-2].node], len(steps) - 2, len(steps)
    )
    pg.keyboard.press("Home")
    assert caption.inner_text() == captions.before(len(steps))
    assert _lit_edges(pg) == {"flow": 0, "act": 0}
    assert not browser.page_errors and not browser.console_errors and not browser.blocked


def test_gradients_show_on_the_edges_they_flowed_along(browser, notes) -> None:
    _, path = notes
    pg = browser.open(path, "#step=2")
    pills = pg.locator(".agx-pill:visible text")
    assert sorted(pills.all_text_contents()) == ["all 1", "all 2"]
    pg.keyboard.press("ArrowRight")
    assert "all 16" in pills.all_text_contents()


def test_space_plays_the_pass_to_its_end_and_the_slider_moves_with_it(browser, notes) -> None:
    snapshot, path = notes
    count = len(snapshot.passes[0].steps)
    pg = browser.open(path)
    pg.select_option(".agx-speed", "30")
    pg.keyboard.press("Space")
    pg.wait_for_function(
        "n => document.querySelector('.agx-caption').textContent.startsWith('Step ' + n + ' of')",
        arg=count,
    )
    assert pg.input_value(".agx-slider") == str(count)
    assert pg.inner_text(".agx-play") == "Play"  # stopped on the last step, not a tick after
    pg.fill(".agx-slider", "1")
    pg.dispatch_event(".agx-slider", "input")
    assert pg.inner_text(".agx-caption").startswith(f"Step 1 of {count}:")


def test_step_k_in_the_address_opens_that_step_of_the_last_pass(browser, tmp_path: Path) -> None:
    snapshot = run_ok(TWO_PASSES)
    path = tmp_path / "two.html"
    path.write_text(page(snapshot), encoding="utf-8")
    last = snapshot.passes[-1]
    pg = browser.open(path, "#step=2")
    attrs = snapshot.graph.nodes[last.steps[1].node]
    assert pg.inner_text(".agx-caption") == captions.step(attrs, 1, len(last.steps))
    assert pg.locator(".agx-pass").evaluate("s => s.selectedIndex") == 1
    pg.keyboard.press("ArrowRight")
    assert pg.evaluate("location.hash") == "#step=3"
    pg.select_option(".agx-pass", index=0)
    assert pg.inner_text(".agx-caption") == captions.before(len(snapshot.passes[0].steps))
    assert pg.evaluate("location.hash") == "#pass=1&step=0"
    pg = browser.open(path, "#pass=1&step=1")
    first = snapshot.graph.nodes[snapshot.passes[0].steps[0].node]
    assert pg.inner_text(".agx-caption") == captions.step(first, 0, len(snapshot.passes[0].steps))


def test_clicking_a_card_shows_its_derivative_and_gradients(browser, notes) -> None:
    snapshot, path = notes
    power = next(n for n, a in snapshot.graph.nodes(data=True) if a.op == "PowBackward0")
    leaf = next(n for n, a in snapshot.graph.nodes(data=True) if a.kind == "leaf")
    pg = browser.open(path, "#step=4")
    pg.click(f'.agx-c[data-id="{power}"]')
    text = pg.inner_text(".agx-inspector")
    assert "g · 2 · x^1 → x" in text
    assert "gradient arrived: 2×3 float32: [[2, 2, 2], [2, 2, 2]]" in text
    assert "sent to slot 0: 2×3 float32: [[16, 16, 16], [16, 16, 16]]" in text
    assert "agx-selected" in _classes(pg, power)
    pg.click(f'.agx-c[data-id="{leaf}"]')
    text = pg.inner_text(".agx-inspector")
    assert ".grad before: None" in text
    assert ".grad after: 2×3 float32: [[16, 16, 16], [16, 16, 16]]" in text
    pg.keyboard.press("Home")
    assert "Not run yet in this backward pass." in pg.inner_text(".agx-inspector")


def test_the_colours_follow_the_page_light_or_dark(browser, notes) -> None:
    _, path = notes
    for scheme, theme in (("light", LIGHT), ("dark", DARK)):
        pg = browser.open(path)
        pg.emulate_media(color_scheme=scheme)
        background = pg.evaluate("getComputedStyle(document.querySelector('.agx')).backgroundColor")
        assert background == _rgb(theme.background)
        leaf_fill = pg.evaluate("getComputedStyle(document.querySelector('.agx-leaf')).fill")
        assert leaf_fill == _rgb(theme.leaf)


def test_in_a_notebook_each_stepper_takes_keys_only_while_it_has_focus(
    browser, tmp_path: Path
) -> None:
    snapshot = run_ok(NOTES.read_text())
    host = tmp_path / "notebook.html"
    host.write_text(
        "<!DOCTYPE html><html><body><p>Cell 1</p>"
        f"{fragment(snapshot)}<p>Cell 2</p>{fragment(snapshot)}</body></html>",
        encoding="utf-8",
    )
    pg = browser.open(host)
    steppers = pg.locator(".agx")
    assert steppers.count() == 2
    pg.keyboard.press("ArrowRight")  # nothing has the focus: the notebook keeps its keys
    before = captions.before(len(snapshot.passes[0].steps))
    assert steppers.nth(0).locator(".agx-caption").inner_text() == before
    steppers.nth(1).locator(".agx-forward").click()
    pg.keyboard.press("ArrowRight")
    assert steppers.nth(1).locator(".agx-caption").inner_text().startswith("Step 2 of")
    assert steppers.nth(0).locator(".agx-caption").inner_text() == before
    assert not browser.page_errors and not browser.blocked


def test_a_large_graph_opens_readable_and_follows_the_running_card(browser, tmp_path) -> None:
    chain = "x = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(60):\n    y = y * 1.01\n"
    snapshot = run_ok(chain + "y.sum().backward()\n")
    path = tmp_path / "chain.html"
    path.write_text(page(snapshot), encoding="utf-8")
    pg = browser.open(path)
    card_px = pg.evaluate("document.querySelector('.agx-c').getBoundingClientRect().width")
    assert card_px >= 46  # readable, not the whole 60-card chain squeezed in
    for _ in range(40):
        pg.keyboard.press("ArrowRight")
    box = pg.evaluate(
        """() => { const r = document.querySelector('.agx-c.agx-running').getBoundingClientRect();
                   const g = document.querySelector('.agx-svg').getBoundingClientRect();
                   return [r.top - g.top, g.bottom - r.bottom]; }"""
    )
    assert min(box) >= 0, box
    pg.keyboard.press("f")
    fitted = pg.evaluate("document.querySelector('.agx-c').getBoundingClientRect().width")
    assert fitted < card_px
    assert re.match(r"Step 40 of \d+", pg.inner_text(".agx-caption"))


# JupyterLab's own rules for rendered HTML, which a stepper in its output must withstand.
NOTEBOOK_STYLE = (
    "<style>.jp-RenderedHTMLCommon svg{max-width:100%;height:auto}"
    ".jp-RenderedHTMLCommon h2{margin-top:9.6px;line-height:16px}</style>"
)


def _notebook(tmp_path: Path, body: str) -> Path:
    host = tmp_path / "jupyter.html"
    host.write_text(
        f"<!DOCTYPE html><html><head>{NOTEBOOK_STYLE}</head><body>"
        f'<div class="jp-RenderedHTMLCommon" style="width:900px">{body}</div></body></html>',
        encoding="utf-8",
    )
    return host


def test_a_notebooks_svg_rules_leave_the_controls_clickable(browser, tmp_path: Path) -> None:
    snapshot = run_ok(NOTES.read_text())
    pg = browser.open(_notebook(tmp_path, fragment(snapshot)))
    graph = pg.locator(".agx-graph").bounding_box()
    drawn = pg.locator(".agx-svg").bounding_box()
    assert abs(drawn["height"] - graph["height"]) < 1
    pg.locator(".agx-forward").click()  # the mouse reaches the button, not the graph over it
    pg.locator(".agx-forward").click()
    assert pg.inner_text(".agx-caption").startswith("Step 2 of")
    assert not pg.locator(".agx-untrusted").count()


def test_where_scripts_are_stripped_the_stepper_says_what_it_needs(browser, tmp_path: Path) -> None:
    inline = fragment(run_ok(NOTES.read_text()))
    stripped = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", inline, flags=re.S)
    pg = browser.open(_notebook(tmp_path, stripped))
    assert "trust the notebook" in pg.inner_text(".agx-untrusted")


def test_in_a_notebook_the_wheel_scrolls_the_page_until_the_stepper_has_focus(
    browser, tmp_path: Path
) -> None:
    pg = browser.open(_notebook(tmp_path, fragment(run_ok(NOTES.read_text()))))
    box = pg.locator(".agx-svg").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = pg.get_attribute(".agx-svg", "viewBox")
    pg.mouse.wheel(0, -300)
    assert pg.get_attribute(".agx-svg", "viewBox") == before
    pg.locator(".agx").focus()
    pg.mouse.wheel(0, -300)
    assert pg.get_attribute(".agx-svg", "viewBox") != before


def test_up_and_down_choose_the_pass_and_stay_with_the_stepper(browser, tmp_path: Path) -> None:
    snapshot = run_ok(TWO_PASSES)
    pg = browser.open(_notebook(tmp_path, fragment(snapshot)))
    pg.evaluate("window.seen = []; document.addEventListener('keydown', e => seen.push(e.key))")
    pg.locator(".agx").focus()
    pg.keyboard.press("ArrowDown")
    assert pg.locator(".agx-pass").evaluate("s => s.selectedIndex") == 1
    pg.keyboard.press("ArrowUp")
    pg.keyboard.press("ArrowUp")  # already the first: still the stepper's, not the notebook's
    assert pg.locator(".agx-pass").evaluate("s => s.selectedIndex") == 0
    assert pg.evaluate("seen") == []


WHERE_TRAP = (
    "x = torch.tensor([0., 1., 4.], requires_grad=True)\n"
    "y = torch.where(x > 0, torch.sqrt(x), 0.)\n"
    "y.sum().backward()\n"
)


def test_first_nan_goes_to_where_the_nan_started_marks_it_and_says_why(
    browser, notes, tmp_path: Path
) -> None:
    snapshot = run_ok(WHERE_TRAP)
    path = tmp_path / "trap.html"
    path.write_text(page(snapshot), encoding="utf-8")
    steps = snapshot.passes[0].steps
    (k,) = [i for i, s in enumerate(steps) if snapshot.graph.nodes[s.node].op == "SqrtBackward0"]
    sqrt = steps[k].node
    pg = browser.open(path)
    assert pg.is_visible(".agx-tonan")
    assert "agx-nonfinite" not in _classes(pg, sqrt)  # not before its step
    pg.click(".agx-tonan")
    attrs = snapshot.graph.nodes[sqrt]
    assert pg.inner_text(".agx-caption") == captions.step(attrs, k, len(steps))
    assert "torch.where trap" in pg.inner_text(".agx-nan")
    pg.keyboard.press("Escape")  # unselected, stepped on: the mark stays
    pg.keyboard.press("ArrowRight")
    assert "agx-nonfinite" in _classes(pg, sqrt)
    pg.keyboard.press("Home")
    assert "agx-nonfinite" not in _classes(pg, sqrt)
    pg.keyboard.press("n")
    assert pg.inner_text(".agx-caption") == captions.step(attrs, k, len(steps))
    _, finite = notes
    pg = browser.open(finite)
    assert not pg.is_visible(".agx-tonan")
