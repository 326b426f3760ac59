"""Many edges as one path item, with their arrowheads left out while too small to see."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from explorer.ui.geometry import ARROW, PathArrays

ARROWS_FROM_PX = 2.5  # arrowheads smaller than this on screen are not drawn


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
        self._chosen: np.ndarray | None = None  # mask over polylines; None: all of them
        self._plain: QPainterPath | None = None  # the shown ones without arrowheads

    def set_arrays(self, bare: PathArrays, arrows: PathArrays | None = None) -> None:
        """The polylines this item may show, without and with arrowheads; all are shown."""
        self._bare, self._arrows = bare, arrows
        self.show_only(None)

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
        scale = abs(painter.worldTransform().m11())
        if self._arrows is None or self.path().isEmpty() or scale * ARROW >= ARROWS_FROM_PX:
            super().paint(painter, option, widget)
            return
        if self._plain is None:
            assert self._bare is not None
            self._plain = _path(self._bare.subset(self._chosen))
        painter.setPen(self.pen())
        painter.drawPath(self._plain)


def _path(arrays: PathArrays) -> QPainterPath:
    if not len(arrays.x):
        return QPainterPath()
    return pg.arrayToQPath(arrays.x, arrays.y, connect=arrays.connect)
