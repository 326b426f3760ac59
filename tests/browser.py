"""A real headless Chromium for tests of HTML pages: one per test module, network shut off.

A test takes conftest's module-scoped fixture `browser` (a `BrowserPages`) and opens a page with
`page = browser.open(path, "#step=3")`. Every request that is not `file:` or `data:` is blocked
and listed in `browser.blocked`; console errors and uncaught exceptions of the page are listed in
`browser.console_errors` and `browser.page_errors`. Without Debian's Chromium or Python's
Playwright the tests that use it skip and say what to install.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright, Route, WebSocketRoute

CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds its own headless and profile flags; these keep Chromium from reaching out on its
# own (updates, sync, field trials) and from needing a sandbox or a GPU this machine lacks.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:")
# A page that needs longer than this to load or answer is broken, not slow.
TIMEOUT_MS = 15_000


class BrowserPages:
    """Opens local files in a fresh page each, and records what the page tried and what failed.

    The lists start empty at each `open`: they tell about the page opened last.
    """

    def __init__(self, playwright: Playwright) -> None:
        self._browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS, timeout=TIMEOUT_MS
        )
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._blocked: list[str] = []
        self._console_errors: list[str] = []
        self._page_errors: list[str] = []

    def open(self, path: Path, fragment: str = "") -> Page:
        """`path` as a `file://` URL (with `fragment`, "#..." or "...") in a new page, loaded."""
        self._close_page()
        self._blocked.clear()
        self._console_errors.clear()
        self._page_errors.clear()
        # A context of its own per page: no storage or cache carried from the page before.
        self._context = self._browser.new_context()
        self._context.set_default_timeout(TIMEOUT_MS)
        self._context.route("**/*", self._route)
        self._context.route_web_socket("**/*", self._route_web_socket)
        page = self._page = self._context.new_page()
        page.on("console", lambda message: self._on_console(message.type, message.text))
        page.on("pageerror", lambda error: self._page_errors.append(str(error)))
        page.goto(_url(path, fragment))
        return page

    @property
    def blocked(self) -> list[str]:
        """The URLs the page asked for that were refused (anything but `file:` and `data:`)."""
        self._settle()
        return list(self._blocked)

    @property
    def console_errors(self) -> list[str]:
        """The texts of the page's `console.error` messages, a refused load's included."""
        self._settle()
        return list(self._console_errors)

    @property
    def page_errors(self) -> list[str]:
        """The page's uncaught exceptions, each as its message."""
        self._settle()
        return list(self._page_errors)

    def close(self) -> None:
        self._close_page()
        self._browser.close()

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            self._blocked.append(url)
            route.abort("blockedbyclient")

    def _route_web_socket(self, socket: WebSocketRoute) -> None:
        self._blocked.append(socket.url)
        socket.close()

    def _on_console(self, kind: str, text: str) -> None:
        if kind == "error":
            self._console_errors.append(text)

    def _settle(self) -> None:
        # A round trip to the page: what it reported before (an error thrown by a key press just
        # sent) has reached the lists by the time the answer comes back.
        if self._page is not None and not self._page.is_closed():
            self._page.evaluate("0")

    def _close_page(self) -> None:
        if self._context is not None:
            self._context.close()
        self._context = self._page = None


def _url(path: Path, fragment: str) -> str:
    if fragment and not fragment.startswith("#"):
        fragment = "#" + fragment
    return path.resolve().as_uri() + fragment


def _sync_playwright():  # -> PlaywrightContextManager, or a skip
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's "
            "(apt-get install --no-install-recommends chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no Playwright: pip install -e '.[test]' (it drives the system's Chromium)")
    return sync_playwright()


def browser_pages() -> Iterator[BrowserPages]:
    """One headless Chromium while the generator runs: the body of conftest's `browser` fixture."""
    with _sync_playwright() as playwright:
        pages = BrowserPages(playwright)
        try:
            yield pages
        finally:
            pages.close()
    # The sync API marks its event loop as this thread's running loop between calls; once it has
    # stopped, no loop may be left behind for the tests after this module.
    assert asyncio._get_running_loop() is None
