"""The caption of the bookmark the replay is on, large, above the stepper, for the class."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from explorer.ui.lessons.state import LessonState
from explorer.ui.model import ExplorerModel

SCALE = 1.45  # readable from the back of a classroom next to the stepper's own caption


class BookmarkCaption(QLabel):
    """Visible while the cursor is on a bookmark of the open lesson; hidden otherwise."""

    def __init__(self, state: LessonState, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = model
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # a lesson's words, never HTML
        self.setContentsMargins(10, 6, 10, 6)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * SCALE)
        font.setBold(True)
        self.setFont(font)
        self.setVisible(False)
        self.muted = False  # another caption shows it (presenter mode)
        model.cursor_changed.connect(self._update)
        model.snapshot_changed.connect(self._update)
        model.theme_changed.connect(self._restyle)
        state.opened.connect(self._update)
        state.bookmarks_changed.connect(self._update)
        state.staleness_changed.connect(self._update)
        self._restyle()

    def _restyle(self) -> None:
        theme = self.model.theme
        self.setStyleSheet(
            f"QLabel {{ background: {theme.panel}; color: {theme.text}; "
            f"border-top: 3px solid {theme.accumulated}; }}"
        )

    def caption(self) -> str | None:
        """The caption of the bookmark the replay is on, if any; none over a graph the script's
        edits may have changed."""
        if self.state.stale:
            return None
        bookmark = self.state.bookmark_at(self.model.cursor) if self.model.pass_count else None
        return bookmark.caption if bookmark else None

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        self._update()

    def _update(self) -> None:
        caption = self.caption()
        self.setText(caption or "")
        self.setVisible(caption is not None and not self.muted)
