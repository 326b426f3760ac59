"""Frames around open module calls: one path for all of them, and their names."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
)

from explorer.view.calls import OpenCall
from explorer.view.geometry import CARD_H, CARD_W, Geometry

PAD = 0.3  # scene units between a frame and the cards inside, per level of nesting
NAME_HEIGHT = 0.34  # the module's name, in scene units
NAMES_MAX = 400  # more frames than this are drawn without names
SOLID_BELOW_PX = 6  # while a name would be shorter than this, frames are drawn solid


class FramesItem(QGraphicsPathItem):
    """Rounded frames, outer ones a little wider, each named at its top-left corner."""

    def __init__(self, font: QFont) -> None:
        super().__init__()
        self._font = font
        self._rects = np.zeros((0, 4))  # x0, y0, x1, y1 per frame
        self._depths = np.zeros(0, dtype=int)
        self._calls: list[str] = []
        self._names: list[QGraphicsSimpleTextItem] = []
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # paint() is told the part being painted, so it draws only the frames there
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def clear(self) -> None:
        for name in self._names:
            name.setParentItem(None)
            if name.scene() is not None:
                name.scene().removeItem(name)
        self._names.clear()
        self._rects = np.zeros((0, 4))
        self._depths = np.zeros(0, dtype=int)
        self._calls = []
        self.setPath(QPainterPath())

    def set_frames(self, frames: list[OpenCall], geo: Geometry) -> None:
        self.clear()
        if not frames:
            return
        deepest = max(b.depth for b in frames)
        rects, calls, depths = [], [], []
        for frame in frames:
            where = [geo.index[m] for m in frame.members if m in geo.index]
            if not where:
                continue
            points = geo.pos[where]
            pad = PAD * (1 + deepest - frame.depth)
            low = points.min(axis=0) - np.array([CARD_W / 2 + pad, CARD_H / 2 + pad])
            high = points.max(axis=0) + np.array([CARD_W / 2 + pad, CARD_H / 2 + pad + NAME_HEIGHT])
            rects.append([*low, *high])
            calls.append(frame.call)
            depths.append(frame.depth)
        self._rects = np.array(rects, dtype=float).reshape(-1, 4)
        self._depths = np.array(depths, dtype=int)
        self._calls = calls
        path = QPainterPath()
        for x0, y0, x1, y1 in self._rects:
            path.addRoundedRect(QRectF(x0, y0, x1 - x0, y1 - y0), 0.25, 0.25)
        self.setPath(path)
        if len(calls) <= NAMES_MAX:
            labels = {b.call: b.label for b in frames}
            for call, (x0, _, _, y1) in zip(calls, self._rects, strict=True):
                self._names.append(self._name(labels[call], x0 + 0.15, y1 - 0.05))

    def _name(self, text: str, x: float, y: float) -> QGraphicsSimpleTextItem:
        item = QGraphicsSimpleTextItem(text, self)
        item.setFont(self._font)
        item.setBrush(self.pen().brush())
        rect = item.boundingRect()
        factor = NAME_HEIGHT / max(rect.height(), 1e-9)
        item.setTransform(QTransform.fromScale(factor, -factor))  # the view's y axis points up
        item.setPos(x, y)
        return item

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None
    ) -> None:
        """Only the frames that meet the part being painted; solid and thin when far out."""
        r, area = self._rects, option.exposedRect
        meets = np.flatnonzero(
            (r[:, 2] >= area.left()) & (r[:, 0] <= area.right())
            & (r[:, 3] >= area.top()) & (r[:, 1] <= area.bottom())
        )  # fmt: skip
        if abs(painter.worldTransform().m11()) * NAME_HEIGHT >= SOLID_BELOW_PX:
            painter.setPen(self.pen())
        else:  # far out, dashes are not seen, and a solid one-pixel line is Qt's fast path
            painter.setPen(QPen(self.pen().color(), 0))
        painter.setBrush(self.brush())
        for x0, y0, x1, y1 in r[meets]:
            painter.drawRoundedRect(QRectF(x0, y0, x1 - x0, y1 - y0), 0.25, 0.25)

    def set_names_visible(self, visible: bool) -> None:
        for name in self._names:
            name.setVisible(visible)

    def set_theme(self, theme: Any) -> None:
        pen = QPen(QColor(theme.call_frame))
        pen.setWidthF(1.4)
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        fill = QColor(theme.call_frame)
        fill.setAlpha(14)
        self.setBrush(QBrush(fill))
        for name in self._names:
            name.setBrush(QBrush(QColor(theme.call_frame)))

    def call_at(self, x: float, y: float) -> str | None:
        """The innermost frame holding (x, y), in the item's coordinates."""
        if not len(self._rects):
            return None
        r = self._rects
        inside = np.flatnonzero((r[:, 0] <= x) & (x <= r[:, 2]) & (r[:, 1] <= y) & (y <= r[:, 3]))
        if not len(inside):
            return None
        return self._calls[int(inside[np.argmax(self._depths[inside])])]
