"""A one-line legend above the graph: what each colour means."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from explorer.ui.model import ExplorerModel
from explorer.view import grad_scale, labels


class Legend(QLabel):
    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setContentsMargins(8, 4, 8, 4)
        self.setWordWrap(True)
        model.theme_changed.connect(self._render)
        model.lens_changed.connect(self._render)
        model.snapshot_changed.connect(self._render)
        model.cursor_changed.connect(self._on_cursor)
        self._pass = -1
        self._render()

    def _on_cursor(self) -> None:
        lens = self.model.grad_lens or self.model.time_lens
        if lens and self.model.cursor.pass_index != self._pass:
            self._render()  # each pass has its own range of gradient sizes

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
        if self.model.grad_lens or self.model.time_lens:
            items = [i for i in items if i[2] not in ("ran in backward", ".grad just filled")]
        html = "&nbsp;&nbsp;&nbsp; ".join(_item(*item) for item in items)
        if self.model.grad_lens:
            html += "<br>" + self._scale_html()
        elif self.model.memory_lens:
            html += "<br>" + self._memory_html()
        elif self.model.time_lens:
            html += "<br>" + self._time_html()
        self.setText(f"<span style='color:{t.text}'>{html}</span>")

    def _pass_scale(self, of: str) -> grad_scale.Scale | None:
        """The scale of the pass shown: of "grad_norms" or "step_seconds" (Replay's)."""
        model = self.model
        self._pass = model.cursor.pass_index
        if model.replay is None or not 0 <= self._pass < model.pass_count:
            return None
        return getattr(model.replay, of)(self._pass)[1]

    def _scale_html(self) -> str:
        """The gradient-size scale of the pass shown: a swatch per decade, zero, and NaN."""
        t = self.model.theme
        scale = self._pass_scale("grad_norms")
        swatches = [] if scale is None else grad_scale.ticks(scale, t)
        swatches += [(t.const, "0"), (t.nan_fill, "NaN or inf")]
        return _swatches("‖grad‖ arrived", swatches)

    def _memory_html(self) -> str:
        """The memory lens's scale: a swatch per decade of bytes a node holds for backward."""
        scale = self.model.memory_scale()
        if scale is None:
            return "no node holds memory for backward"
        text = lambda d: labels.byte_text(10**d)  # noqa: E731
        return _swatches("held for backward", grad_scale.ticks(scale, self.model.theme, text=text))

    def _time_html(self) -> str:
        """The time lens's scale: a swatch per decade of seconds a step took."""
        scale = self._pass_scale("step_seconds")
        if scale is None:
            return "no step of this pass was timed"
        text = lambda d: labels.duration_text(10.0**d)  # noqa: E731
        return _swatches("time per step", grad_scale.ticks(scale, self.model.theme, text=text))


def _swatches(title: str, swatches: list[tuple[str, str]]) -> str:
    marks = "&nbsp;&nbsp;".join(_item(c, "■", text) for c, text in swatches)
    return f"{title}:&nbsp;&nbsp;{marks}"


def _item(fill: str, mark: str, text: str) -> str:
    words = "&nbsp;".join(text.split(" "))
    return f"<span style='color:{fill}'>{mark}</span>&nbsp;{words}"
