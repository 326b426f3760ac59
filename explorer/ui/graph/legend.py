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
        items = [
            (t.leaf, "■", "leaf tensor"),
            (t.op, "■", "operation"),
            (t.output, "■", "output"),
            (t.edge_faded, "●", "constant (no gradient)"),
            (t.done, "■", "ran in backward"),
            (t.active, "□", "running now"),
            (t.accumulated, "■", ".grad just filled"),
            (t.flow, "<b>━━</b>", "gradient flowed"),
            (t.text, "‖·‖", "norm of a larger tensor"),
        ]
        # Qt's rich text draws no borders on spans: a filled square glyph is the swatch. Within
        # an item every space is a non-breaking one, so lines break only between items.
        html = "&nbsp;&nbsp;&nbsp; ".join(_item(*item) for item in items)
        self.setText(f"<span style='color:{t.text}'>{html}</span>")


def _item(fill: str, mark: str, text: str) -> str:
    words = "&nbsp;".join(text.split(" "))
    return f"<span style='color:{fill}'>{mark}</span>&nbsp;{words}"
