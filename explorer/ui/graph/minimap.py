"""The minimap: the whole graph small in a corner, the visible part framed; click to go there."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

SIZE = 180  # the longer side, in pixels
MARGIN = 6


class Minimap(QWidget):
    """Paints card centres once into an image; only the frame moves as the view pans."""

    go_to = Signal(float, float)  # scene point to centre the view on

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._bounds = QRectF()
        self._frame = QRectF()
        self._colors = ("#ffffff", "#9aa3b2", "#1c7ed6")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the view")
        self.resize(SIZE, SIZE)

    def set_theme(self, theme: Any) -> None:
        self._colors = (theme.panel, theme.edge, theme.selection)

    def set_points(self, points: np.ndarray, bounds: tuple[float, float, float, float]) -> None:
        """Card centres in scene units, and the rectangle that holds the whole graph."""
        x0, y0, x1, y1 = bounds
        self._bounds = QRectF(x0, y0, max(x1 - x0, 1e-9), max(y1 - y0, 1e-9))
        aspect = self._bounds.width() / self._bounds.height()
        width = SIZE if aspect >= 1 else max(40, int(SIZE * aspect))
        height = SIZE if aspect <= 1 else max(40, int(SIZE / aspect))
        self.resize(width, height)
        self._image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        background = QColor(self._colors[0])
        background.setAlpha(225)
        self._image.fill(background)
        if len(points):
            pixels = self._to_pixels(points)
            painter = QPainter(self._image)
            pen = QPen(QColor(self._colors[1]))
            pen.setWidthF(2.0 if len(points) < 2000 else 1.0)
            painter.setPen(pen)
            painter.drawPoints(QPolygonF([QPointF(float(x), float(y)) for x, y in pixels]))
            painter.end()
        self.update()

    def set_frame(self, visible: QRectF) -> None:
        """The part of the scene the view shows now."""
        self._frame = visible
        self.update()

    def _to_pixels(self, points: np.ndarray) -> np.ndarray:
        b = self._bounds
        inner_w, inner_h = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN
        x = MARGIN + (points[:, 0] - b.left()) / b.width() * inner_w
        y = MARGIN + (1 - (points[:, 1] - b.top()) / b.height()) * inner_h  # scene y points up
        return np.column_stack([x, y])

    def _to_scene(self, x: float, y: float) -> tuple[float, float]:
        b = self._bounds
        inner_w, inner_h = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN
        sx = b.left() + (x - MARGIN) / max(inner_w, 1) * b.width()
        sy = b.top() + (1 - (y - MARGIN) / max(inner_h, 1)) * b.height()
        return sx, sy

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        border = QPen(QColor(self._colors[1]))
        painter.setPen(border)
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if not self._frame.isNull() and self._bounds.width() > 0:
            f = self._frame
            corners = np.array([[f.left(), f.top()], [f.right(), f.bottom()]])
            (ax, ay), (bx, by) = self._to_pixels(corners)
            frame = QRectF(QPointF(min(ax, bx), min(ay, by)), QPointF(max(ax, bx), max(ay, by)))
            pen = QPen(QColor(self._colors[2]))
            pen.setWidthF(2.0)
            painter.setPen(pen)
            painter.drawRect(frame.intersected(QRectF(self.rect())))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.go_to.emit(*self._to_scene(event.position().x(), event.position().y()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.go_to.emit(*self._to_scene(event.position().x(), event.position().y()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the press moved the view already; the graph behind must not see it
