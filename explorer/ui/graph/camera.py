"""Where the view looks: fit, frame a card, follow the running node, open on a graph, minimap.

Also pauses the layers' pixmap caches while the zoom changes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, QTimer
from PySide6.QtWidgets import QGraphicsItem, QWidget

from explorer.ui.graph.minimap import Minimap
from explorer.view.calls import Shown
from explorer.view.geometry import CARD_H, CARD_W, Geometry

OPEN_MIN_PX = 60  # a graph whose cards would be narrower than this opens on its output
OPEN_CARD_PX = 120  # ... with its cards this wide
ZOOM_REST_MS = 250  # layers are cached again once the zoom has not changed for this long
MINIMAP_MARGIN = 10  # pixels between the minimap and the view's corner


def fit(box: pg.ViewBox, geo: Geometry | None) -> None:
    """The whole graph in view."""
    if geo is not None:
        x0, y0, x1, y1 = geo.bounds()
        box.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.02)


def center_on(box: pg.ViewBox, geo: Geometry | None, node: str) -> None:
    """Frame node's card with a little of its neighbourhood, zooming in if need be."""
    if geo is None or node not in geo.index:
        return
    x, y = geo.pos[geo.index[node]]
    rect = box.viewRect()
    width = min(rect.width(), CARD_W * 8)
    height = min(rect.height(), CARD_H * 8)
    box.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0)


def go_to(box: pg.ViewBox, x: float, y: float) -> None:
    """Centre the view on a point, at the same zoom."""
    rect = box.viewRect()
    rect.moveCenter(QPointF(x, y))
    box.setRange(rect, padding=0)


def follow(box: pg.ViewBox, geo: Geometry | None, node: str | None) -> None:
    """Keep the running node in sight while stepping through a graph larger than the view."""
    if geo is None or node is None or node not in geo.index:
        return
    x, y = geo.pos[geo.index[node]]
    rect = box.viewRect()
    inner = rect.adjusted(rect.width() * 0.1, rect.height() * 0.1,
                          -rect.width() * 0.1, -rect.height() * 0.1)  # fmt: skip
    if not inner.contains(QPointF(x, y)):
        rect.moveCenter(QPointF(x, y))
        box.setRange(rect, padding=0)


def open_view(box: pg.ViewBox, geo: Geometry | None, shown: Shown | None, large: float) -> None:
    """The whole graph when its cards can be read at that size; otherwise the output,
    readable, where backward starts. large: how much larger cards are drawn (presenting)."""
    fit(box, geo)
    if geo is None or shown is None or not len(geo.ids):
        return
    if card_pixels(box) >= OPEN_MIN_PX * large:
        return
    outputs = [n for n in geo.ids if shown.graph.nodes[n].output]
    along = 1 if geo.upward else 0
    root = outputs[0] if outputs else geo.ids[int(np.argmax(geo.pos[:, along]))]
    x, y = geo.pos[geo.index[root]]
    scale = OPEN_CARD_PX * large / CARD_W  # pixels per scene unit
    width, height = box.width() / scale, box.height() / scale
    if geo.upward:  # the output near the top edge, its inputs below it
        rect = QRectF(x - width / 2, y + 2 * CARD_H - height, width, height)
    else:  # flowing right: the output near the right edge
        rect = QRectF(x + 2 * CARD_W - width, y - height / 2, width, height)
    box.setRange(rect, padding=0)


def card_pixels(box: pg.ViewBox) -> float:
    """How wide a card is on screen, in pixels (0 before the view has a size)."""
    pixel = box.viewPixelSize()[0] if box.width() > 0 else 0.0
    return CARD_W / pixel if pixel > 0 else 0.0


def place_minimap(minimap: Minimap, widget: QWidget) -> None:
    """In the widget's bottom right corner."""
    minimap.move(
        widget.width() - minimap.width() - MINIMAP_MARGIN,
        widget.height() - minimap.height() - MINIMAP_MARGIN,
    )


def update_minimap(minimap: Minimap, box: pg.ViewBox, geo: Geometry | None, enabled: bool) -> None:
    """Shown, with the view's frame on it, whenever part of the graph is out of sight."""
    if geo is None or not len(geo.ids) or not enabled:
        minimap.hide()
        return
    x0, y0, x1, y1 = geo.bounds()
    visible = box.viewRect()
    whole = visible.contains(QRectF(x0, y0, x1 - x0, y1 - y0).adjusted(1, 1, -1, -1))
    minimap.set_frame(visible)
    minimap.setVisible(not whole)


class ZoomCache:
    """Draws the layers straight to the screen while the zoom changes, cached once it rests.

    A cached layer is re-rendered into a pixmap at every new zoom level, which costs
    more than drawing it; panning and stepping, at one zoom level, gain from the cache.
    """

    def __init__(self, parent: QObject, box: pg.ViewBox, layers: list[QGraphicsItem]) -> None:
        self._box = box
        self._layers = layers
        self._scale = 0.0  # scene units per pixel, to tell a zoom from a pan
        self._caching = True
        self._rest = QTimer(parent, singleShot=True, interval=ZOOM_REST_MS)
        self._rest.timeout.connect(self._cache_again)

    def range_changed(self) -> None:
        box = self._box
        scale = box.viewPixelSize()[0] if box.width() > 0 else 0.0
        if scale == self._scale:
            return
        self._scale = scale
        if self._caching:
            self._caching = False
            for item in self._layers:
                item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self._rest.start()

    def stop(self) -> None:
        self._rest.stop()

    def _cache_again(self) -> None:
        self._caching = True
        for item in self._layers:
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
