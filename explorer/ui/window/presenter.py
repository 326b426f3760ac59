"""Presenter mode: the window made for a projector, and back.

Full screen, a high-contrast theme with lines twice as wide, the graph's cards opened large,
the caption in large type under the graph (a lesson bookmark's own words on its step, else
what the step does), the script in large type with its lines wrapped, a lesson's notes and
bookmarks enlarged, all sized to the screen, and the secondary panes hidden. Leaving
restores exactly what was there before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# panes hidden while presenting (View shows any of them again); the script and a lesson's
# notes and bookmarks stay
SECONDARY = ("output", "inspector", "leaves", "descent", "flow")
CAPTION_PT = 26  # the step caption, in points, at the least: readable from the back of a room
EDITOR_ZOOM = 6  # points added to the script's font, at the least
NOTES_SCALE = 1.5  # a lesson's notes and bookmarks, at the least
SCRIPT_SHARE = 0.36  # of the screen's width, for the script and the lesson's notes
# Lines of each that fill the screen's height, as slides are sized: what the back row sees is
# a letter's share of the projected picture, whatever its pixels.
SCRIPT_LINES, NOTES_LINES, CAPTION_LINES = 36, 40, 28
SET_FONT = Qt.WidgetAttribute.WA_SetFont


@dataclass(frozen=True)
class ReadingSizes:
    """Point sizes of what a class reads while the window presents."""

    script: float
    notes: float
    caption: float


def reading_sizes(height: int, dpi: float, script: float, notes: float) -> ReadingSizes:
    """The sizes for a screen height pixels high at dpi, given the usual script and notes
    sizes in points: never smaller than those enlarged, larger on a larger screen."""

    def points(lines: int) -> float:
        return round(height / lines * 72 / dpi, 1)

    return ReadingSizes(
        script=max(script + EDITOR_ZOOM, points(SCRIPT_LINES)),
        notes=max(notes * NOTES_SCALE, points(NOTES_LINES)),
        caption=max(float(CAPTION_PT), points(CAPTION_LINES)),
    )


class Presenter:
    """Switches a MainWindow in and out of presenter mode."""

    def __init__(self, window: Any, bookmark: Any = None) -> None:
        self.window = window
        self.bookmark = bookmark  # the lesson's bookmark caption, shown here while presenting
        self.active = False
        self._saved_state = QByteArray()
        self._saved_geometry = QByteArray()
        self._was_full_screen = False
        self._usual_fonts: list[tuple[QWidget, QFont, bool]] = []
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # a bookmark's words, never HTML
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._set_caption_size(CAPTION_PT)
        self.caption.setVisible(False)
        window.model.cursor_changed.connect(self._update_caption)
        window.model.snapshot_changed.connect(self._update_caption)
        window.model.theme_changed.connect(self._style_caption)

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        window = self.window
        self.active = True
        self._saved_state = window.saveState()
        self._was_full_screen = window.isFullScreen()
        for name in SECONDARY:
            if name in window.docks:
                window.docks[name].hide()
        screen = window.screen() or QGuiApplication.primaryScreen()
        sizes = self._sizes(screen.geometry().height(), screen.logicalDotsPerInch())
        window.editor.present(sizes.script)
        self._enlarge_lesson(sizes.notes)
        self._set_caption_size(sizes.caption)
        if self.bookmark is not None:
            self.bookmark.set_muted(True)
        window.apply_theme()  # the presenter version of the chosen theme
        self.caption.setVisible(True)
        self._update_caption()
        self._saved_geometry = window.saveGeometry()
        # Without a window manager (a bare X server, a kiosk) full screen is only a wish: the
        # window takes the screen itself first (after, it would leave full screen again).
        window.setGeometry(screen.geometry())
        window.showFullScreen()
        share = int(screen.geometry().width() * SCRIPT_SHARE)
        window.resizeDocks([window.docks["editor"]], [share], Qt.Orientation.Horizontal)
        window.graph.open_view()

    def leave(self) -> None:
        if not self.active:
            return
        window = self.window
        self.active = False
        self.caption.setVisible(False)
        if self.bookmark is not None:
            self.bookmark.set_muted(False)
        window.editor.present(None)
        self._restore_fonts()
        window.apply_theme()
        if not self._was_full_screen:
            window.showNormal()
            window.restoreGeometry(self._saved_geometry)
        window.restoreState(self._saved_state)
        window.graph.open_view()

    def _sizes(self, height: int, dpi: float) -> ReadingSizes:
        script = self.window.editor.font().pointSizeF()
        return reading_sizes(height, dpi, script, self.window.lesson_panel.font().pointSizeF())

    def _set_caption_size(self, points: float) -> None:
        font = QFont(self.caption.font())
        font.setPointSizeF(points)
        font.setWeight(QFont.Weight.DemiBold)
        self.caption.setFont(font)

    def _enlarge_lesson(self, points: float) -> None:
        """The lesson's notes, bookmarks and title at points (the title keeps its lead)."""
        panel = self.window.lesson_panel
        scale = points / panel.font().pointSizeF()
        for widget in (panel, panel.title):  # the title's size is its own, not the panel's
            usual = QFont(widget.font())
            self._usual_fonts.append((widget, usual, widget.testAttribute(SET_FONT)))
            font = QFont(usual)
            font.setPointSizeF(usual.pointSizeF() * scale)
            widget.setFont(font)

    def _restore_fonts(self) -> None:
        for widget, usual, was_set in reversed(self._usual_fonts):
            widget.setFont(usual if was_set else QFont())  # an empty font: inherit again
        self._usual_fonts.clear()

    def _update_caption(self) -> None:
        if self.active:
            marked = self.bookmark.caption() if self.bookmark is not None else None
            self.caption.setText(marked or self.window.stepper.caption_text())

    def _style_caption(self) -> None:
        theme = self.window.model.theme
        self.caption.setStyleSheet(
            f"color: {theme.text}; background: {theme.panel}; padding: 10px 16px;"
            f"border-top: 2px solid {theme.edge_faded};"
        )
