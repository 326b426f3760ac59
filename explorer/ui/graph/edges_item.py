"""Many edges as one path item, with their arrowheads left out while too small to see."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from explorer.view.geometry import ARROW, PathArrays

ARROWS_FROM_PX = 2.5  # arrowheads smaller than this on screen are not drawn
CULL_ABOVE = 2000  # with more edges shown than this, only those meeting the painted part are drawn


class EdgesItem(QGraphicsPathItem):
    """Polylines (with arrowheads, when given), of which any subset is shown.

    The points of all polylines are laid out once, by the geometry; showing a subset (the
    edges that carried gradient so far) is then a mask over arrays, not a rebuild per edge.
    """

    def __init__(self, z: float) -> None:
        super().__init__()
        self.setZValue(z)
        # Painted once per zoom level into a pixmap; a step's repaint only blits it.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._arrows: PathArrays | None = None
        self._bare: PathArrays | None = None
        self._boxes = np.zeros((0, 4))  # around each polyline, to draw only what is in view
        self._chosen: np.ndarray | None = None  # mask over polylines; None: all of them
        self._plain: QPainterPath | None = None  # the shown ones without arrowheads

    def set_arrays(
        self, bare: PathArrays, boxes: np.ndarray, arrows: PathArrays | None = None
    ) -> None:
        """The polylines this item may show, without and with arrowheads, and the box around
        each; all are shown."""
        self._bare, self._arrows, self._boxes = bare, arrows, boxes
        # paint() is told the part being painted, so it can leave out what is elsewhere
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.show_only(None)

    def chosen(self) -> np.ndarray | None:
        """The mask of polylines shown (None: all)."""
        return self._chosen

    def show_only(self, chosen: np.ndarray | None) -> None:
        """Show the polylines where chosen (a boolean mask) is true; None: all."""
        self._chosen = chosen
        self._plain = None
        if self._bare is None or (chosen is not None and not chosen.any()):
            self.setPath(QPainterPath())
            return
        self.setPath(_path((self._arrows or self._bare).subset(chosen)))

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None
    ) -> None:
        if self._bare is None or self.path().isEmpty():
            return
        scale = abs(painter.worldTransform().m11())
        arrows = self._arrows is not None and scale * ARROW >= ARROWS_FROM_PX
        shown = len(self._boxes) if self._chosen is None else int(self._chosen.sum())
        near = self._meeting(option.exposedRect) if shown > CULL_ABOVE else None
        painter.setPen(self.pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if near is not None:  # zoomed in on a large graph: only the edges near the view
            arrays = self._arrows if arrows else self._bare
            painter.drawPath(_path(arrays.subset(near)))
        elif arrows:
            painter.drawPath(self.path())
        else:
            if self._plain is None:
                self._plain = _path(self._bare.subset(self._chosen))
            painter.drawPath(self._plain)

    def _meeting(self, area: QRectF) -> np.ndarray | None:
        """Mask of the shown edges whose box meets area; None when most of them do."""
        b = self._boxes
        near = (
            (b[:, 2] >= area.left()) & (b[:, 0] <= area.right())
            & (b[:, 3] >= area.top()) & (b[:, 1] <= area.bottom())
        )  # fmt: skip
        if self._chosen is not None:
            near &= self._chosen
        return near if near.sum() * 2 < len(b) else None


def _path(arrays: PathArrays) -> QPainterPath:
    if not len(arrays.x):
        return QPainterPath()
    return pg.arrayToQPath(arrays.x, arrays.y, connect=arrays.connect)
