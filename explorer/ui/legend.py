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
        model.theme_changed.connect(self._render)
        self._render()

    def _render(self) -> None:
        t = self.model.theme
        gap = "&nbsp;" * 4
        swatch = (
            "<span style='background:{fill};border:1px solid {edge};'>" + gap + "</span>"
            "&nbsp;{text}" + gap
        )
        items = [
            (t.leaf, t.edge, "leaf tensor"),
            (t.op, t.edge, "operation"),
            (t.output, t.edge, "output"),
            (t.const, t.edge_faded, "constant (no gradient)"),
            (t.done, t.edge, "ran in backward"),
            (t.background, t.active, "running now"),
            (t.accumulated, t.edge, ".grad just filled"),
        ]
        html = "".join(swatch.format(fill=f, edge=e, text=x) for f, e, x in items)
        flow = f"<span style='color:{t.flow}'><b>━━</b></span>&nbsp;gradient flowed"
        self.setText(f"<span style='color:{t.text}'>{html}{flow}</span>")
