"""All node cards of a graph as one item: only visible nodes are painted, a few calls a style.

pyqtgraph's ScatterPlotItem paints every point one by one when sizes are in scene units,
whatever is on screen; a graph of tens of thousands of cards needs culling to the exposed
area and batched draw calls, which this small item does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

ROUNDED_FROM_PX = 14  # cards at least this wide on screen get rounded corners
HAIRLINE_BELOW_PX = 12  # narrower cards are outlined one pixel wide


class NodesItem(QGraphicsItem):
    """Same-sized shapes (cards or dots) centred on positions, each with a style index."""

    def __init__(self, width: float, height: float, dots: bool = False) -> None:
        super().__init__()
        self.width, self.height, self.dots = width, height, dots
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._pos = np.zeros((0, 2))
        self._rects: list[QRectF] = []
        self._style = np.zeros(0, dtype=np.int32)
        self._styles: list[tuple[QBrush, QPen]] = []
        self._style_ids: dict[tuple[int, int], int] = {}
        self._bounds = QRectF()

    # -- data ----------------------------------------------------------------------------
    def set_positions(self, pos: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._pos = np.asarray(pos, dtype=float).reshape(-1, 2)
        w, h = self.width, self.height
        self._rects = [QRectF(x - w / 2, y - h / 2, w, h) for x, y in self._pos]
        self._style = np.zeros(len(self._pos), dtype=np.int32)
        if len(self._pos):
            size = np.array([w, h])
            low, high = self._pos.min(axis=0) - size, self._pos.max(axis=0) + size
            self._bounds = QRectF(low[0], low[1], high[0] - low[0], high[1] - low[1])
        else:
            self._bounds = QRectF()
        self.update()

    def style_id(self, brush: QBrush, pen: QPen) -> int:
        """A small number for a (brush, pen) pair; the same objects get the same number."""
        key = (id(brush), id(pen))
        found = self._style_ids.get(key)
        if found is None:
            found = self._style_ids[key] = len(self._styles)
            self._styles.append((brush, pen))
        return found

    def reset_styles(self) -> None:
        self._styles.clear()
        self._style_ids.clear()

    def set_styles(self, indices: list[int], styles: list[int]) -> None:
        """Restyle some nodes; only the area they cover is repainted."""
        if not indices:
            return
        self._style[indices] = styles
        if len(indices) > 64:
            self.update()
            return
        for i in indices:
            margin = self.width * 0.1
            self.update(self._rects[i].adjusted(-margin, -margin, margin, margin))

    def look(self, index: int) -> tuple[str, str]:
        """The fill and outline colours of one card, as #rrggbb."""
        brush, pen = self._styles[self._style[index]]
        return brush.color().name(), pen.color().name()

    def index_at(self, x: float, y: float) -> int | None:
        """The node whose shape contains (x, y), if any."""
        if not len(self._pos):
            return None
        dx = np.abs(self._pos[:, 0] - x) <= self.width / 2
        dy = np.abs(self._pos[:, 1] - y) <= self.height / 2
        hits = np.flatnonzero(dx & dy)
        return int(hits[0]) if len(hits) else None

    # -- painting ------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None
    ) -> None:
        if not len(self._pos):
            return
        area = option.exposedRect
        w, h = self.width / 2, self.height / 2
        x, y = self._pos[:, 0], self._pos[:, 1]
        visible = (
            (x + w >= area.left()) & (x - w <= area.right())
            & (y + h >= area.top()) & (y - h <= area.bottom())
        )  # fmt: skip
        shown = np.flatnonzero(visible)
        if not len(shown):
            return
        pixels = abs(painter.worldTransform().m11()) * self.width
        rounded = pixels >= ROUNDED_FROM_PX
        radius = min(self.width, self.height) * 0.18
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, rounded)
        styles = self._style[shown]
        tiny = pixels < HAIRLINE_BELOW_PX
        for style in np.unique(styles):
            brush, pen = self._styles[style]
            painter.setBrush(brush)
            # wide outlines are stroked, a one-pixel one takes Qt's fast path: at a glance
            # over thousands of cards the colour is what shows, not the outline's width
            painter.setPen(QPen(pen.color(), 0) if tiny else pen)
            rects = [self._rects[i] for i in shown[styles == style]]
            if self.dots and not tiny:
                for rect in rects:
                    painter.drawEllipse(rect)
            elif rounded:
                for rect in rects:
                    painter.drawRoundedRect(rect, radius, radius)
            else:
                painter.drawRects(rects)
