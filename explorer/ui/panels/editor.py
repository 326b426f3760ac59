"""The script editor: line numbers, highlighting, completion from the allow-lists, error marks."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QRect, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import QCompleter, QPlainTextEdit, QTextEdit, QWidget

from explorer.lang.tables import completions
from explorer.ui.theme import LIGHT, Theme

KEYWORDS = (
    "and as assert break continue del elif else for from if import in is not or pass with "
    "True False None"
).split()
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\.([A-Za-z_0-9]*)$")


INDENT = 4  # spaces a block level takes, as Tab inserts
_ENDS_BLOCK = re.compile(r"^\s+(return|pass|break|continue|raise)\b")


def syntax_colours(theme: Theme) -> dict[str, str]:
    """The script's highlighting, readable (WCAG AA) on the editor's panel in every theme."""
    dark = theme.name.startswith("dark")  # the presenter's dark theme too
    return {
        "keyword": "#c678dd" if dark else "#8839ef",
        "number": "#d19a66" if dark else "#c2410c",
        "string": "#98c379" if dark else "#15803d",
        "comment": "#8b919c" if dark else "#6b7280",
        "torch": "#61afef" if dark else "#1d4ed8",
        "prompt": "#8b919c" if dark else "#6b7280",
    }


class Highlighter(QSyntaxHighlighter):
    """Keywords, numbers, strings, comments and the torch names a script can use."""

    def __init__(self, document, theme: Theme = LIGHT) -> None:
        super().__init__(document)
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        colors = syntax_colours(theme)
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        for name, pattern in (
            ("torch", r"\b(torch|nn|F|math)\b"),
            ("keyword", r"\b(" + "|".join(KEYWORDS) + r")\b"),
            ("number", r"\b\d+\.?\d*(e[+-]?\d+)?\b"),
            ("prompt", r"^\s*(>>>|>>|\.\.\.|\.\.)(?= |$)"),
            ("string", r"(\"[^\"\n]*\"|'[^'\n]*')"),
            ("comment", r"#[^\n]*"),
        ):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colors[name]))
            if name == "keyword":
                fmt.setFontWeight(QFont.Weight.DemiBold)
            if name == "comment":
                fmt.setFontItalic(True)
            self._rules.append((re.compile(pattern), fmt))
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


class _LineNumbers(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.line_number_width(), 0)

    def paintEvent(self, event) -> None:
        self.editor.paint_line_numbers(event)


class CodeEditor(QPlainTextEdit):
    """A plain-text editor for scripts; Ctrl+Enter asks to run."""

    run_requested = Signal()  # the user pressed Ctrl+Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 11))
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.theme = LIGHT
        self.highlighter = Highlighter(self.document())
        self._numbers = _LineNumbers(self)
        self._error: tuple[int, int] | None = None
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._on_update_request)
        self._update_margin()
        self._completions = completions()
        self._completer = QCompleter(self)
        self._completer.setWidget(self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseSensitive)
        self._completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self._completer.activated.connect(self._insert_completion)
        self._words = QStringListModel(self)
        self._completer.setModel(self._words)
        self._usual_font: QFont | None = None  # the font before presenting, while presenting

    # -- presenting ----------------------------------------------------------------------
    def present(self, points: float | None) -> None:
        """Type of points size with lines wrapped at the pane's edge, so a class reads every
        line whole; None brings back the usual font and long lines that scroll."""
        if points is None:
            if self._usual_font is not None:
                self._set_font(self._usual_font)
                self._usual_font = None
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            return
        if self._usual_font is None:
            self._usual_font = QFont(self.font())
        font = QFont(self._usual_font)
        font.setPointSizeF(points)
        self._set_font(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)

    def _set_font(self, font: QFont) -> None:
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * INDENT)

    # -- theme and errors ----------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.highlighter.set_theme(theme)
        self._numbers.update()
        self._apply_error()

    def mark_error(self, line: int, column: int) -> None:
        """Underline the error's line from its column; line 0 clears the mark."""
        self._error = (line, column) if line > 0 else None
        self._apply_error()

    def clear_error(self) -> None:
        self.mark_error(0, 0)

    def _apply_error(self) -> None:
        selections = []
        if self._error is not None:
            line, column = self._error
            block = self.document().findBlockByNumber(line - 1)
            if block.isValid():
                whole = QTextEdit.ExtraSelection()
                whole.format.setBackground(
                    QColor(self.theme.error).lighter(185)
                    if self.theme.name == "light"
                    else QColor("#3b1d1d")
                )
                whole.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                whole.cursor = QTextCursor(block)
                selections.append(whole)
                mark = QTextEdit.ExtraSelection()
                mark.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                mark.format.setUnderlineColor(QColor(self.theme.error))
                cursor = QTextCursor(block)
                start = min(max(column - 1, 0), max(len(block.text()) - 1, 0))
                cursor.setPosition(block.position() + start)
                cursor.movePosition(
                    QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
                )
                mark.cursor = cursor
                selections.append(mark)
        self.setExtraSelections(selections)

    # -- line numbers --------------------------------------------------------------------
    def line_number_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(2, digits)

    def _update_margin(self, *args) -> None:
        self.setViewportMargins(self.line_number_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._numbers.scroll(0, dy)
        else:
            self._numbers.update(0, rect.y(), self._numbers.width(), rect.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_numbers()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # zoomed: wider digits need a wider gutter (fonts change in __init__ too, before it)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_numbers"):
            self._update_margin()
            self._place_numbers()

    def _place_numbers(self) -> None:
        area = self.contentsRect()
        self._numbers.setGeometry(
            QRect(area.left(), area.top(), self.line_number_width(), area.height())
        )

    def paint_line_numbers(self, event) -> None:
        painter = QPainter(self._numbers)
        painter.fillRect(event.rect(), QColor(self.theme.background))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        error_line = self._error[0] if self._error else -1
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                number = block.blockNumber() + 1
                color = self.theme.error if number == error_line else self.theme.muted
                painter.setPen(QColor(color))
                painter.drawText(0, top, self._numbers.width() - 6, self.fontMetrics().height(),
                                 Qt.AlignmentFlag.AlignRight, str(number))  # fmt: skip
            block = block.next()
            top, bottom = bottom, bottom + round(self.blockBoundingRect(block).height())

    # -- keys and completion -------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self._completer.popup()
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if popup.isVisible():
            index = popup.currentIndex()  # valid once the user moved into the list
            if event.key() == Qt.Key.Key_Tab and not index.isValid():
                index = self._completer.completionModel().index(0, 0)
            if index.isValid() and (enter or event.key() == Qt.Key.Key_Tab):
                popup.hide()
                self._insert_completion(str(index.data()))
                return
            if event.key() == Qt.Key.Key_Escape:
                event.ignore()
                return
            if enter:  # nothing chosen: Enter is a new line, as it always is
                popup.hide()
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.run_requested.emit()
            return
        if enter:
            self._newline_with_indent()
            return
        if event.key() == Qt.Key.Key_Tab:
            self.insertPlainText("    ")
            return
        if event.key() == Qt.Key.Key_Backspace and self._dedent():
            return
        super().keyPressEvent(event)
        if event.text() and (event.text().isalnum() or event.text() in "._"):
            self._complete()
        else:
            popup.hide()

    def _newline_with_indent(self) -> None:
        line = self.textCursor().block().text()
        indent = line[: len(line) - len(line.lstrip(" "))]
        if line.rstrip().endswith(":"):
            indent += "    "
        elif _ENDS_BLOCK.match(line):  # after return, pass, break...: back one level, as IDLE
            indent = indent[: max(len(indent) - INDENT, 0)]
        self.insertPlainText("\n" + indent)

    def _dedent(self) -> bool:
        """Backspace in a line's leading spaces takes back one level (four spaces), as Tab
        gave it; False where Backspace deletes one character as usual."""
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        if cursor.hasSelection() or not before or before.strip(" "):
            return False
        width = (len(before) - 1) % INDENT + 1  # to the level below, from anywhere in it
        for _ in range(width):
            cursor.deletePreviousChar()
        return True

    def _prefix(self) -> tuple[str, str]:
        """(what stands before the dot, the word being typed)."""
        cursor = self.textCursor()
        text = cursor.block().text()[: cursor.positionInBlock()]
        dotted = _DOTTED.search(text)
        if dotted:
            return dotted.group(1), dotted.group(2)
        word = _WORD.search(text)
        return "", word.group(0) if word else ""

    def _complete(self) -> None:
        owner, word = self._prefix()
        pool = self._completions.get(owner)
        if pool is None:
            pool = self._completions["tensor"] if owner else self._completions[""]
        if not word and not owner:
            self._completer.popup().hide()
            return
        self._words.setStringList(pool)
        self._completer.setCompletionPrefix(word)
        if self._completer.completionCount() == 0 or (
            self._completer.completionCount() == 1 and self._completer.currentCompletion() == word
        ):
            self._completer.popup().hide()
            return
        rect = self.cursorRect()
        rect.setWidth(240)
        self._completer.complete(rect)

    def _insert_completion(self, completion: str) -> None:
        _, word = self._prefix()
        cursor = self.textCursor()
        cursor.insertText(completion[len(word) :])
        self.setTextCursor(cursor)
