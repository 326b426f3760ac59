"""A one-line legend above the graph: what each colour means."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from explorer.ui.model import ExplorerModel


class Legend(QLabel):
    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setContentsMargins(8, 4, 8, 4)
        self.setWordWrap(True)
        model.theme_changed.connect(self._render)
        self._render()

    def _render(self) -> None:
        t = self.model.theme
        # Qt's rich text draws no borders on spans: a filled square glyph is the swatch.
        swatch = "<span style='color:{fill}'>{mark}</span>&nbsp;{text}&nbsp;&nbsp;&nbsp;&nbsp;"
        items = [
            (t.leaf, "■", "leaf tensor"),
            (t.op, "■", "operation"),
            (t.output, "■", "output"),
            (t.edge_faded, "●", "constant (no gradient)"),
            (t.done, "■", "ran in backward"),
            (t.active, "□", "running now"),
            (t.accumulated, "■", ".grad just filled"),
        ]
        html = "".join(swatch.format(fill=f, mark=m, text=x) for f, m, x in items)
        flow = f"<span style='color:{t.flow}'><b>━━</b></span>&nbsp;gradient flowed"
        self.setText(f"<span style='color:{t.text}'>{html}{flow}</span>")
