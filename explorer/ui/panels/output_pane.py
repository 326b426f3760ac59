"""The output pane: what the script displayed and printed, notebook-style, and its error."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextBrowser

from explorer.data.snapshot import Problem
from explorer.ui.model import ExplorerModel


class OutputPane(QTextBrowser):
    """Each output under the line that made it; a problem in red at the end."""

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        model.snapshot_changed.connect(self._render)
        model.theme_changed.connect(self._render)

    def _render(self) -> None:
        snapshot, theme = self.model.snapshot, self.model.theme
        if snapshot is None:
            self.clear()
            return
        parts = []
        for output in snapshot.outputs:
            line = f"<span style='color:{theme.muted}'>[{output.line}]</span>"
            text = f"<pre style='margin:0'>{html.escape(output.text)}</pre>"
            parts.append(f"<div style='margin:0 0 6px 0'>{line}{text}</div>")
        if snapshot.problem is not None:
            parts.append(problem_html(snapshot.problem, theme.error))
        if not parts:
            parts.append(f"<span style='color:{theme.muted}'>No output.</span>")
        self.setHtml("".join(parts))
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())


def problem_html(problem: Problem, color: str) -> str:
    where = f"line {problem.line}, column {problem.column}: " if problem.line else ""
    hint = f"<br><i>hint: {html.escape(problem.hint)}</i>" if problem.hint else ""
    message = html.escape(where + problem.message)
    return f"<div style='color:{color}'><b>{message}</b>{hint}</div>"
