"""A text browser for a lesson's Markdown that loads nothing and opens nothing.

A lesson file comes from someone else. Its notes may name images or links anywhere (a
local path, /dev/zero, a web address); here an image is never fetched, raw HTML is not
interpreted, and a click on a link only reports the link, for the window to act on.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QTextBrowser

MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


class NotesView(QTextBrowser):
    """Shows Markdown or the window's own HTML; `link_clicked` says which link was clicked."""

    link_clicked = Signal(QUrl)  # a link was clicked; nothing was opened
    _markdown: str | None = None  # the Markdown shown, if it is Markdown

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)  # never navigate, not even to a local file
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self.link_clicked)
        self.loaded: list[str] = []  # every resource the text asked for, refused

    def show_markdown(self, text: str) -> None:
        self.loaded.clear()
        self._markdown = text
        self.document().setMarkdown(text, MARKDOWN)

    def show_html(self, html: str) -> None:
        """HTML the window wrote itself (the start page), never a lesson's text."""
        self.loaded.clear()
        self._markdown = None
        self.setHtml(html)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Markdown's code is sized when it is read, from the font then: read again at a new
        # size (presenter mode's), or the code stays small among large words.
        if event.type() == QEvent.Type.FontChange and self._markdown is not None:
            self.document().setMarkdown(self._markdown, MARKDOWN)

    def loadResource(self, kind: int, url: QUrl) -> Any:
        # Qt would read local files (any path, /dev/zero or a FIFO too) for images and style
        # sheets: refuse them all. An empty answer, not None: for None the document itself
        # falls back to reading the file.
        self.loaded.append(url.toString())
        return QImage() if kind == QTextDocument.ResourceType.ImageResource.value else ""

    def setSource(self, *args: Any, **kwargs: Any) -> None:
        """Navigation is off: a source, such as a backward or forward step, is ignored."""
