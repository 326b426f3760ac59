"""The window on its screen: never larger than the screen's free area, and its first layout."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

FIRST_SIZE = QSize(1440, 900)  # the size of a first run, where the screen has room for it
# Below this free area (a 1366 × 768 laptop less its panel has 1366 × 740), the side panes
# open tabbed so the graph keeps its room.
SMALL_SCREEN = QSize(1280, 760)


def available(window: QMainWindow) -> QRect:
    """The free area (less panels and docks) of the screen the window is on."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def is_small(area: QRect) -> bool:
    return area.width() < SMALL_SCREEN.width() or area.height() < SMALL_SCREEN.height()


def first_place(window: QMainWindow) -> None:
    """A first run's size and place: the usual size where it fits, centred on the free area."""
    area = available(window)
    window.resize(FIRST_SIZE.boundedTo(area.size()))
    frame = window.frameGeometry()
    frame.moveCenter(area.center())
    window.move(frame.topLeft())


def fit(window: QMainWindow) -> None:
    """Shrink and move the window until its frame lies on the screen's free area.

    A geometry saved on a larger screen, or a frame the window manager added after the window
    was sized, can reach past the screen's edges; a maximized or full-screen window is the
    window system's to place.
    """
    if window.isMaximized() or window.isFullScreen():
        return
    area = available(window)
    frame, inner = window.frameGeometry(), window.geometry()
    border = QSize(frame.width() - inner.width(), frame.height() - inner.height())
    room = QSize(area.width() - border.width(), area.height() - border.height())
    if window.width() > room.width() or window.height() > room.height():
        window.resize(window.size().boundedTo(room))
        frame = window.frameGeometry()
    left = max(area.left(), min(frame.left(), area.right() + 1 - frame.width()))
    top = max(area.top(), min(frame.top(), area.bottom() + 1 - frame.height()))
    if (left, top) != (frame.left(), frame.top()):
        window.move(left, top)


def first_layout(window: Any) -> None:
    """The panes of a first run: on a small screen the right-hand panes share one place, as
    tabs, as the Output and the Lesson always do on the left."""
    if not is_small(available(window)):
        return
    docks = window.docks
    for name in ("leaves", "descent"):
        window.tabifyDockWidget(docks["inspector"], docks[name])
    docks["inspector"].raise_()


def first_dock_sizes(window: Any) -> None:
    """The panes' first sizes, in proportion to the window where it is small."""
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    docks, width, height = window.docks, window.width(), window.height()
    # the left column as wide as the lesson's row of buttons, where the window allows
    lesson = window.lesson_panel.minimumSizeHint().width() + 12
    sides = [min(480, max(width * 30 // 100, lesson)), min(380, width * 26 // 100)]
    window.resizeDocks([docks["editor"], docks["inspector"]], sides, horizontal)
    script = [min(560, height * 62 // 100), min(240, height * 28 // 100)]
    window.resizeDocks([docks["editor"], docks["output"]], script, vertical)
    if not window.tabifiedDockWidgets(docks["inspector"]):
        window.resizeDocks([docks["inspector"], docks["leaves"]], [520, 280], vertical)
