"""Text on the graph, with level of detail: cards' labels near the view, and gradients on edges.

A label is a scene item of its own: tens of thousands of them would make every pan slow, while
those on screen at a readable zoom are a few hundred.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from explorer.ui.graph.frames_item import FramesItem
from explorer.ui.graph.styling import pen
from explorer.ui.model import ExplorerModel
from explorer.view import geometry, labels, step_style
from explorer.view.geometry import CARD_W, Geometry

LABEL_MIN_PX = 46  # cards narrower than this on screen show no text
EDGE_LABELS_MAX = 160  # edges that may carry a gradient label
LINE_HEIGHT = 0.3  # scene units per text line on a card


class CardText:
    """The text layer over the cards: written for the cards in and near the view."""

    def __init__(self, model: ExplorerModel, box: pg.ViewBox, frames: FramesItem, font: QFont):
        self.model = model
        self._box = box
        self._frames = frames  # module frames, whose names show with the cards' text
        self._font = font
        self.layer = QGraphicsRectItem()
        self.layer.setPen(QPen(Qt.PenStyle.NoPen))
        self.layer.setZValue(4)
        box.addItem(self.layer)
        self.geo: Geometry | None = None
        self._node_labels: dict[Any, QGraphicsSimpleTextItem] = {}
        self._edge_labels: dict[tuple[str, str, int], _Pill] = {}
        self._color = QColor()
        self._keys: list[Any] = []  # node ids, then (node, slot) of constants' stubs
        self._pos = np.zeros((0, 2))
        self._all = False  # text on every card whatever the zoom (for exports)

    def text(self, node: str) -> str | None:
        """The text on node's card, or None while cards are too small to read."""
        item = self._node_labels.get(node)
        if item is None or not self.layer.isVisible():
            return None
        return item.text()

    def text_size(self, node: str) -> tuple[float, float] | None:
        """The width of node's text in scene units, and its size against a short text's
        (1: as large as a line of the card allows; less: shrunk to fit the card's width)."""
        item = self._node_labels.get(node)
        if item is None:
            return None
        rect = item.boundingRect()
        factor = item.transform().m11()
        full = LINE_HEIGHT / (rect.height() / (item.text().count("\n") + 1))
        return rect.width() * factor, factor / full

    def set_geometry(self, geo: Geometry | None) -> None:
        """Drop every label of the graph before; remember where the new one's may go."""
        for item in [*self._node_labels.values(), *self._edge_labels.values()]:
            _remove(item)
        self._node_labels.clear()
        self._edge_labels.clear()
        self.geo = geo
        if geo is None:
            return
        # what may carry text: every card, then every constant's stub
        self._keys = [*geo.ids, *geo.stub_owner]
        self._pos = np.vstack([geo.pos, geo.stub_pos.reshape(-1, 2)])

    def set_color(self, color: str) -> None:
        self._color = QColor(color)

    def set_all(self, on: bool) -> None:
        self._all = on
        self.sync()

    def update(self, changed: set[str] | None) -> None:
        """Rewrite the text of the changed cards that carry text (all of them when None)."""
        if changed is None:
            self._drop()  # fresh text comes as the cards come into view
        else:
            self._write([n for n in changed if n in self._node_labels])
        self.sync()

    def sync(self) -> None:
        """Text only on the cards in and near the view, and only while it can be read."""
        readable = self._all or self.readable()
        self.layer.setVisible(readable)
        self._frames.set_names_visible(readable)
        if self.geo is None or self.model.shown is None:
            return
        if not readable:
            self._drop()
            return
        wanted = self._keys_near_view()
        gone = [key for key in self._node_labels if key not in wanted]
        for key in gone:
            _remove(self._node_labels.pop(key))
        self._write([key for key in wanted if key not in self._node_labels])

    def readable(self) -> bool:
        box = self._box
        pixel = box.viewPixelSize()[0] if box.width() > 0 else 1.0
        return pixel > 0 and CARD_W / pixel >= LABEL_MIN_PX

    def _keys_near_view(self) -> set[Any]:
        if self._all:
            return set(self._keys)
        rect = self._box.viewRect()
        area = (rect.left(), rect.top(), rect.width(), rect.height())
        return step_style.keys_near(self._keys, self._pos, area)

    def _write(self, keys: list[Any]) -> None:
        geo, shown = self.geo, self.model.shown
        if geo is None or shown is None or not keys:
            return
        nodes = [k for k in keys if isinstance(k, str)]
        grads = step_style.node_grads(self.model.replay, self.model.cursor, nodes)
        for node in nodes:
            x, y = geo.pos[geo.index[node]]
            lines = labels.node_lines(shown.graph.nodes[node], grads.get(node))
            self._place(node, "\n".join(lines), x, y, self._color, len(lines))
        muted = QColor(self.model.theme.muted)
        stubs = (
            {owner: i for i, owner in enumerate(geo.stub_owner)} if len(nodes) < len(keys) else {}
        )
        for key in keys:
            if isinstance(key, tuple):
                x, y = geo.stub_pos[stubs[key]]
                text = labels.const_text(shown.graph.nodes[key[0]], key[1])
                self._place(key, text, x + 0.2, y, muted, 0.75, left=True)

    def _drop(self) -> None:
        for item in self._node_labels.values():
            _remove(item)
        self._node_labels.clear()

    def _place(self, key, text, x, y, color, lines: float, left: bool = False) -> None:
        """Text centred on (x, y), or starting at x when left; `lines` tall on a card's scale."""
        item = self._node_labels.get(key)
        if item is None:
            item = self._node_labels[key] = QGraphicsSimpleTextItem(self.layer)
            item.setFont(self._font)
        item.setVisible(True)
        if item.text() == text and item.brush().color() == color:
            return  # unchanged: stepping touches only the cards whose gradient changed
        item.setText(text)
        item.setBrush(QBrush(color))
        rect = item.boundingRect()
        factor = LINE_HEIGHT / (rect.height() / max(lines, 1))
        factor = min(factor, (CARD_W * 0.94) / max(rect.width(), 1e-9))
        item.setTransform(QTransform.fromScale(factor, -factor))  # the view's y axis points up
        offset = 0.0 if left else rect.width() * factor / 2
        item.setPos(x - offset, y + rect.height() * factor / 2)

    def update_edge_labels(self, grads: dict) -> None:
        """A pill with the gradient on each edge that carried one, on graphs of few edges."""
        geo = self.geo
        assert geo is not None
        if len(geo.edge_keys) > EDGE_LABELS_MAX:
            return
        theme = self.model.theme
        shown = set()
        for i, key in enumerate(geo.edge_keys):
            grad = grads.get(key)
            if grad is None:
                continue
            shown.add(key)
            x, y = geometry.midpoint(geo.edge_line(i))
            pill = self._edge_labels.get(key)
            if pill is None:
                pill = self._edge_labels[key] = _Pill(self.layer, self._font)
            pill.show_text(labels.tensor_text(grad, 14), x, y, theme)
        for key, pill in self._edge_labels.items():
            pill.setVisible(key in shown)


class _Pill(QGraphicsPathItem):
    """A gradient value on an edge: small text on a rounded background."""

    HEIGHT = 0.36

    def __init__(self, parent: Any, font: QFont) -> None:
        super().__init__(parent)
        self._text = QGraphicsSimpleTextItem(self)
        self._text.setFont(font)

    def show_text(self, text: str, x: float, y: float, theme: Any) -> None:
        self.setVisible(True)
        self._text.setText(text)
        self._text.setBrush(QBrush(QColor(theme.flow)))
        rect = self._text.boundingRect()
        factor = self.HEIGHT * 0.8 / rect.height()
        width, height = rect.width() * factor, self.HEIGHT
        path = QPainterPath()
        path.addRoundedRect(
            QRectF(-width / 2 - 0.08, -height / 2, width + 0.16, height), 0.12, 0.12
        )
        self.setPath(path)
        self.setBrush(QBrush(QColor(theme.panel)))
        self.setPen(pen(theme.flow, 1.0))
        self.setPos(x, y)
        self._text.setTransform(QTransform.fromScale(factor, -factor))
        self._text.setPos(-width / 2, height * 0.4)


def _remove(item: QGraphicsItem) -> None:
    item.setParentItem(None)
    if item.scene() is not None:
        item.scene().removeItem(item)
