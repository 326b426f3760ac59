"""Test settings and shared fixtures: Qt draws offscreen, so the suite needs no display."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QInputDialog, QMessageBox

from explorer.ui.window.main_window import MainWindow
from tests.browser import BrowserPages, browser_pages
from tests.helpers import SPARE_WORKER, Windows


@pytest.fixture(scope="session", autouse=True)
def _stop_the_spare_worker() -> Iterator[None]:
    yield
    SPARE_WORKER.stop()


@pytest.fixture
def windows(qtbot, tmp_path: Path) -> Iterator[Windows]:
    made = Windows(qtbot, tmp_path / "settings.ini")
    yield made
    made.close_all()


@pytest.fixture
def window(windows: Windows) -> MainWindow:
    """The real window with a worker of its own and private settings, its first run done.

    Closed with no unsaved-changes question; a test never registers it with qtbot.addWidget,
    whose close would ask.
    """
    return windows.open()


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserPages]:
    """One headless Chromium per test module: `browser.open(path, fragment)` gives a loaded Page.

    Skips, saying what to install, without Debian's Chromium or Python's Playwright.
    """
    yield from browser_pages()


@pytest.fixture
def private_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Autosave files and app data go under tmp_path, never to the user's own folders."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    QStandardPaths.setTestModeEnabled(True)
    yield home
    QStandardPaths.setTestModeEnabled(False)


@pytest.fixture
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A dialog a test did not expect is recorded and answered Cancel instead of blocking.

    Tests that expect a dialog patch it again themselves.
    """
    unexpected: list[str] = []

    def dialog(*args, **kwargs):
        unexpected.append(str(args[1] if len(args) > 1 else args))
        return QMessageBox.StandardButton.Cancel

    for name in ("question", "warning", "information", "critical", "about"):
        monkeypatch.setattr(QMessageBox, name, dialog)
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: unexpected.append("getInt"))
    yield unexpected
    assert unexpected == [], f"unexpected dialogs: {unexpected}"
