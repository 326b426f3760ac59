"""The window on its screen: never larger than its free area, its first layout, narrow panes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QScrollArea, QWidget

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
    for name in ("leaves", "descent", "flow"):
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


class SidewaysScroll(QScrollArea):
    """A panel in a frameless scroll area: its pane can be narrower than its row of buttons.

    Narrower only, never shorter than the panel needs, and the panel exactly as tall as the
    pane: its notes and lists scroll themselves, and a second scroll bar beside theirs would
    be one too many. (Qt's own resizing would make a panel of wrapped labels as tall as it
    would like, cut off at the pane's foot.)
    """

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(panel)  # the area watches the panel's events from here on

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        bar = self.horizontalScrollBar().sizeHint().height()
        return QSize(hint.width(), self.widget().minimumSizeHint().height() + bar)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit_panel()
        return super().viewportEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the panel's needs changed, with its font for one
            self._fit_panel()
        return super().eventFilter(watched, event)

    def _fit_panel(self) -> None:
        room, need = self.viewport().size(), self.widget().minimumSizeHint()
        self.widget().resize(room.expandedTo(need))
