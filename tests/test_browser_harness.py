"""The browser harness itself: keys reach the page, its hash is read, the network is shut off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import browser as harness
from tests.browser import BrowserPages

STEPPER = """<!doctype html>
<meta charset="utf-8">
<p id="step">step 0</p>
<p id="hash"></p>
<script>
  let step = 0;
  document.getElementById("hash").textContent = location.hash;
  document.addEventListener("keydown", (event) => {
    if (event.key === "ArrowRight") {
      step += 1;
      document.getElementById("step").textContent = "step " + step;
    }
  });
</script>
"""


def _page(tmp_path: Path, html: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_a_key_press_reaches_the_pages_script(browser: BrowserPages, tmp_path: Path) -> None:
    page = browser.open(_page(tmp_path, STEPPER))
    assert page.text_content("#step") == "step 0"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.text_content("#step") == "step 2"
    assert browser.blocked == []
    assert browser.console_errors == []
    assert browser.page_errors == []


def test_the_fragment_is_the_pages_location_hash(browser: BrowserPages, tmp_path: Path) -> None:
    page = browser.open(_page(tmp_path, STEPPER), "#step=3")
    assert page.text_content("#hash") == "#step=3"
    page = browser.open(_page(tmp_path, STEPPER), "node=mul")
    assert page.text_content("#hash") == "#node=mul"


def test_a_request_off_the_machine_is_blocked_and_listed(
    browser: BrowserPages, tmp_path: Path
) -> None:
    html = '<!doctype html><img id="picture" src="http://example.invalid/x.png">'
    page = browser.open(_page(tmp_path, html))
    assert browser.blocked == ["http://example.invalid/x.png"]
    assert page.evaluate("document.getElementById('picture').naturalWidth") == 0
    assert any("ERR_BLOCKED_BY_CLIENT" in text for text in browser.console_errors)


def test_a_fetch_and_a_web_socket_are_blocked_too(browser: BrowserPages, tmp_path: Path) -> None:
    html = """<!doctype html><p id="result">waiting</p><script>
      new WebSocket("ws://example.invalid/socket");
      fetch("https://example.invalid/data.json").then(
        () => { document.getElementById("result").textContent = "fetched"; },
        () => { document.getElementById("result").textContent = "refused"; });
    </script>"""
    page = browser.open(_page(tmp_path, html))
    page.wait_for_function("document.getElementById('result').textContent !== 'waiting'")
    assert page.text_content("#result") == "refused"
    assert sorted(browser.blocked) == [
        "https://example.invalid/data.json",
        "ws://example.invalid/socket",
    ]


def test_local_files_and_data_urls_load(browser: BrowserPages, tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("#box { width: 7px; }", encoding="utf-8")
    html = """<!doctype html><link rel="stylesheet" href="style.css"><div id="box"></div>
      <img id="dot" src="data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=">"""
    page = browser.open(_page(tmp_path, html))
    assert page.evaluate("getComputedStyle(document.getElementById('box')).width") == "7px"
    assert page.evaluate("document.getElementById('dot').complete") is True
    assert browser.blocked == []


def test_an_uncaught_throw_is_a_page_error(browser: BrowserPages, tmp_path: Path) -> None:
    html = """<!doctype html><script>
      document.addEventListener("keydown", () => { throw new Error("no step " + 9); });
    </script>"""
    page = browser.open(_page(tmp_path, html))
    assert browser.page_errors == []
    page.keyboard.press("ArrowRight")
    assert browser.page_errors == ["no step 9"]


def test_a_console_error_is_listed(browser: BrowserPages, tmp_path: Path) -> None:
    browser.open(_page(tmp_path, "<script>console.log('fine'); console.error('broken');</script>"))
    assert browser.console_errors == ["broken"]


def test_each_page_starts_with_empty_lists(browser: BrowserPages, tmp_path: Path) -> None:
    browser.open(_page(tmp_path, "<script>throw new Error('first');</script>"))
    assert browser.page_errors == ["first"]
    browser.open(_page(tmp_path, STEPPER))
    assert browser.page_errors == []


def test_without_chromium_the_tests_skip_saying_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.skip.Exception, match=r"no Chromium at .*apt-get install"):
        next(harness.browser_pages())


def test_without_playwright_the_tests_skip_saying_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chromium = tmp_path / "chromium"
    chromium.touch()
    monkeypatch.setattr(harness, "CHROMIUM", chromium)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(pytest.skip.Exception, match=r"no Playwright: pip install"):
        next(harness.browser_pages())
