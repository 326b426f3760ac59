"""Presenter mode: the window made for a projector, and back.

Full screen, a high-contrast theme with lines twice as wide, the graph's cards opened large,
the caption in large type under the graph (a lesson bookmark's own words on its step, else
what the step does), larger text in the script, and the secondary panes hidden. Leaving
restores exactly what was there before.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSizePolicy

# panes hidden while presenting (View shows any of them again); the script and a lesson's
# notes and bookmarks stay
SECONDARY = ("output", "inspector", "leaves", "descent")
CAPTION_PT = 26  # the step caption, in points: readable from the back of a room
EDITOR_ZOOM = 6  # points added to the script's font


class Presenter:
    """Switches a MainWindow in and out of presenter mode."""

    def __init__(self, window: Any, bookmark: Any = None) -> None:
        self.window = window
        self.bookmark = bookmark  # the lesson's bookmark caption, shown here while presenting
        self.active = False
        self._saved_state = QByteArray()
        self._was_full_screen = False
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # a bookmark's words, never HTML
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = QFont(self.caption.font())
        font.setPointSize(CAPTION_PT)
        font.setWeight(QFont.Weight.DemiBold)
        self.caption.setFont(font)
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
        window.editor.zoomIn(EDITOR_ZOOM)
        if self.bookmark is not None:
            self.bookmark.set_muted(True)
        window.apply_theme()  # the presenter version of the chosen theme
        self.caption.setVisible(True)
        self._update_caption()
        window.showFullScreen()
        window.graph.open_view()

    def leave(self) -> None:
        if not self.active:
            return
        window = self.window
        self.active = False
        self.caption.setVisible(False)
        if self.bookmark is not None:
            self.bookmark.set_muted(False)
        window.editor.zoomOut(EDITOR_ZOOM)
        window.apply_theme()
        if not self._was_full_screen:
            window.showNormal()
        window.restoreState(self._saved_state)
        window.graph.open_view()

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
