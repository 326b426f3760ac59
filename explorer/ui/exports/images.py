"""The graph as a picture: PNG, SVG or PDF, drawn by a hidden view of its own.

The window's view draws cards' text only while cards are big enough on screen, and shows
only what fits in it. A picture is drawn by a second, hidden view of a private copy of the
model instead, sized so the whole graph (or the chosen area) is drawn at a scale where the
text is readable, so exporting never moves the window's zoom or its replay.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from explorer.ui.exports import pages
from explorer.ui.exports.portable_svg import opaque_fills, portable_strokes
from explorer.ui.graph.view import GraphView
from explorer.ui.model import ExplorerModel
from explorer.view.geometry import CARD_H, CARD_W
from explorer.view.replay import Cursor, Replay

IMAGE_FORMATS = (".png", ".svg", ".pdf")
READABLE_PX = 110 / CARD_W  # pixels per scene unit: a card 110 px wide, its text ~14 px tall
MARGIN = 0.2  # scene units of background around the whole graph (bounds already pad cards)
TILE_PX = 512  # device pixels a side of the tiles an image is drawn in
PNG_RATIO = 2.0  # device pixels per pixel: sharp on high-density screens and projectors
PNG_MAX_PIXELS = 36e6  # device pixels of one PNG (about 140 MB while drawn)
VECTOR_MAX_PIXELS = 60e6  # pixels of an SVG; only decides if text is drawn
MAX_SIDE = 30_000  # pixels on the longer side of an SVG
# A PDF is printed on A4 pages at a readable size: at most this long (some 240 pages) on
# its longer side before it is drawn smaller.
PDF_MAX_SIDE = 250_000
PNG_MAX_SIDE = 8_000  # device pixels on the longer side of a PNG, unless asked for more
PNG_LARGEST_SIDE = 32_000  # device pixels a side that image viewers still open
WHITE = "#ffffff"
CARD_PAD_PX = 4  # pixels around a card that a page break keeps clear of


@dataclass(frozen=True)
class ImageOptions:
    """What a picture shows: the whole graph or the window's visible area, on what ground."""

    visible_area: bool = False  # the window's visible area instead of the whole graph
    white: bool = False  # a white background (for print) instead of the theme's


class ExportScene:
    """A hidden GraphView of a private copy of the model, framed on one area of the graph.

    region: the area to draw, in the view's scene units (None: the whole graph).
    scale: pixels per scene unit (None: readable text); lowered to keep the picture within
    max_pixels pixels.
    """

    def __init__(
        self,
        model: ExplorerModel,
        upward: bool = True,
        region: QRectF | None = None,
        scale: float | None = None,
        max_pixels: float = VECTOR_MAX_PIXELS,
        white: bool = False,
        max_side: float = MAX_SIDE,
    ) -> None:
        self.model = private_copy(model)
        self.view = GraphView(self.model)
        self.view.set_minimap_enabled(False)
        self.view.upward = upward
        self.background = QColor(WHITE if white else self.model.theme.background)
        # The view builds its scene on this signal, as the window's does after a run.
        self.model.snapshot_changed.emit()
        self.region = QRectF(region) if region is not None else self._whole_graph()
        self.set_scale(_fitted_scale(self.region, scale or READABLE_PX, max_pixels, max_side))

    def set_scale(self, scale: float) -> None:
        """Draw the region at scale pixels per scene unit."""
        self.scale = scale
        self.size = QSize(
            max(1, round(self.region.width() * scale)), max(1, round(self.region.height() * scale))
        )
        self._frame()

    def _whole_graph(self) -> QRectF:
        """The cards, edges, module frames with their names, and the constants' labels."""
        return self.view.graph_bounds().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    def _frame(self) -> None:
        """Give the view's box the picture's size in pixels and show exactly the region."""
        box = QRectF(0, 0, self.size.width(), self.size.height())
        # pyqtgraph's own resize step, which a hidden widget never receives
        pg.GraphicsView.setRange(self.view, box, padding=0, disableAutoPixel=False)
        self.view.view.setRange(self.region, padding=0)
        self.view.scene().prepareForPaint()

    def move_to(self, cursor: Cursor) -> None:
        """Show the replay at cursor (the window's own replay does not move)."""
        self.model.move_to(cursor)
        # The view pans to keep the running card in sight, as the window's does; a picture
        # (and every frame of an animation) keeps showing exactly its region.
        self._frame()

    def image_point(self, x: float, y: float) -> QPointF:
        """Where a point of the graph (scene units) lands in the picture, in pixels."""
        self.view.scene().prepareForPaint()
        return self.view.view.mapViewToScene(QPointF(x, y))

    # -- drawing -------------------------------------------------------------------------
    def paint(self, painter: QPainter, target: QRectF, source: QRectF | None = None) -> None:
        """Draw the framed region (or the part source of it, in pixels of the picture), with
        its background, into target of painter's device."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(target, self.background)
        scene = self.view.scene()
        scene.prepareForPaint()
        # Cached layers would be drawn as pixmaps: into an SVG or PDF they must be drawn
        # as lines and shapes, and into a PNG at its own resolution.
        empty = []
        for item in scene.items():
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            # an empty path is written to SVG as d="", which Qt's own SVG reader rejects
            if isinstance(item, QGraphicsPathItem) and item.isVisible() and item.path().isEmpty():
                empty.append(item)
                item.hide()
        if source is None:
            source = QRectF(0, 0, self.size.width(), self.size.height())
        scene.render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
        for item in empty:
            item.show()

    def image(self, ratio: float = PNG_RATIO) -> QImage:
        """The picture as an image of size × ratio device pixels, drawn tile by tile.

        Qt's antialiased strokes get slower than linearly with the height of the image they
        are drawn into (the whole graph's edges are one path): 15 s for 900 edges into a
        9,000-pixel image, 20 ms into a 900-pixel one. Small tiles keep it linear.
        """
        width, height = self.size.width(), self.size.height()
        image = _image(round(width * ratio), round(height * ratio), ratio, self.background)
        tile = TILE_PX / ratio
        painter = QPainter(image)
        try:
            for top in range(0, math.ceil(height / tile)):
                for left in range(0, math.ceil(width / tile)):
                    source = QRectF(left * tile, top * tile, tile, tile)
                    source = source.intersected(QRectF(0, 0, width, height))
                    part = self._tile(source, ratio)
                    painter.drawImage(source.topLeft(), part)
        finally:
            painter.end()
        return image

    def _tile(self, source: QRectF, ratio: float) -> QImage:
        part = _image(
            math.ceil(source.width() * ratio), math.ceil(source.height() * ratio), ratio, None
        )
        painter = QPainter(part)
        try:
            self.paint(painter, QRectF(0, 0, source.width(), source.height()), source)
        finally:
            painter.end()
        return part

    def png(self, ratio: float = PNG_RATIO) -> bytes:
        return png_bytes(self.image(ratio))

    def svg(self, title: str = "Autograd graph") -> bytes:
        buffer = _buffer()
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(self.size)
        generator.setResolution(pages.SCREEN_DPI)
        generator.setViewBox(QRectF(0, 0, self.size.width(), self.size.height()))
        generator.setTitle(title)
        generator.setDescription("Drawn by Autograd Explorer")
        painter = QPainter(generator)
        try:
            self.paint(painter, QRectF(0, 0, self.size.width(), self.size.height()))
        finally:
            painter.end()
        svg = portable_strokes(_generic_fonts(bytes(buffer.data().data())))
        return opaque_fills(svg, self.background.name())

    def pdf(self, title: str = "Autograd graph") -> bytes:
        """One A4 page, or several in reading order for a graph too large for one."""
        plan = self.page_plan()
        buffer = _buffer()
        writer = QPdfWriter(buffer)
        writer.setTitle(title)
        writer.setCreator("Autograd Explorer")
        writer.setResolution(pages.SCREEN_DPI)
        writer.setPageLayout(plan.layout)
        painter = QPainter(writer)
        try:
            room = pages.room(plan.layout)
            for number, page in enumerate(plan.pages):
                if number:
                    writer.newPage()
                source = page.source
                target = pages.placed(source.width(), source.height(), room, plan)
                self.paint(painter, target, source)
        finally:
            painter.end()
        return bytes(buffer.data().data())

    def page_plan(self) -> pages.PagePlan:
        """The PDF's pages, breaking between the cards where it can."""
        width, height = self.size.width(), self.size.height()
        return pages.plan_pages(width, height, *self.card_spans())

    def card_spans(self) -> tuple[list[pages.Span], list[pages.Span]]:
        """Where each card lies in the picture, in pixels: top to bottom, left to right."""
        geo = self.view.geometry_
        if geo is None or not len(geo.pos):
            return [], []
        origin, unit = self.image_point(0.0, 0.0), self.image_point(1.0, 1.0)
        half = np.array([CARD_W / 2, CARD_H / 2])
        low = _to_image(geo.pos - half, origin, unit)
        high = _to_image(geo.pos + half, origin, unit)
        ends = np.sort(np.stack([low, high]), axis=0)  # a downward y flips low and high
        ends += np.array([-CARD_PAD_PX, CARD_PAD_PX])[:, None, None]  # outlines, arrowheads
        rows = list(zip(ends[0, :, 1].tolist(), ends[1, :, 1].tolist(), strict=True))
        columns = list(zip(ends[0, :, 0].tolist(), ends[1, :, 0].tolist(), strict=True))
        return rows, columns

    def close(self) -> None:
        self.view.dispose()


def picture_bytes(
    model: ExplorerModel,
    upward: bool,
    suffix: str,
    options: ImageOptions = ImageOptions(),
    region: QRectF | None = None,
    scale: float | None = None,
) -> bytes:
    """The graph as a .png, .svg or .pdf file's bytes, at the model's current step."""
    return draw_picture(model, upward, suffix, options, region, scale)[0]


def draw_picture(
    model: ExplorerModel,
    upward: bool,
    suffix: str,
    options: ImageOptions = ImageOptions(),
    region: QRectF | None = None,
    scale: float | None = None,
    png_side: int = PNG_MAX_SIDE,
) -> tuple[bytes, float]:
    """The picture's bytes, and its size as a share of the readable size (1: readable).

    png_side: the longest side of a PNG in its pixels; a larger graph is drawn smaller.
    """
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"unknown picture format {suffix!r}; use {', '.join(IMAGE_FORMATS)}")
    limit, side = VECTOR_MAX_PIXELS, MAX_SIDE
    if suffix == ".png":
        limit, side = PNG_MAX_PIXELS / PNG_RATIO**2, min(png_side, PNG_LARGEST_SIDE) / PNG_RATIO
    elif suffix == ".pdf":
        limit, side = math.inf, PDF_MAX_SIDE
    scene = ExportScene(model, upward, region, scale, limit, options.white, side)
    try:
        share = scene.scale / (scale or READABLE_PX)
        if suffix == ".png":
            return scene.png(), share
        return (scene.svg() if suffix == ".svg" else scene.pdf()), share
    finally:
        scene.close()


def write_file(path: Path, data: bytes) -> None:
    """Write data to path; a file left half-written (a full disk) is removed."""
    existed = path.exists()
    try:
        path.write_bytes(data)
    except OSError:
        if not existed:
            path.unlink(missing_ok=True)
        raise


def private_copy(model: ExplorerModel) -> ExplorerModel:
    """The same graph, collapsed calls, theme and step on a model of its own.

    Rendering the frames of a pass moves this copy's cursor; the window, its panes and the
    user's place in the replay stay as they are. The call tree's laid-out graph is shared:
    it is plain data that is never changed once made.
    """
    copy = ExplorerModel()
    copy.theme = model.theme
    copy.snapshot = model.snapshot
    copy.replay = Replay(model.snapshot) if model.snapshot is not None else None
    copy.call_tree, copy.shown = model.call_tree, model.shown
    copy.collapsed, copy.fold = set(model.collapsed), model.fold
    copy.cursor = model.cursor
    return copy


def _to_image(points: np.ndarray, origin: QPointF, unit: QPointF) -> np.ndarray:
    """Points of the graph (scene units) as pixels of the picture: the view only scales
    and moves them."""
    scale = np.array([unit.x() - origin.x(), unit.y() - origin.y()])
    return points * scale + np.array([origin.x(), origin.y()])


def _image(width: int, height: int, ratio: float, fill: QColor | None) -> QImage:
    image = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(fill if fill is not None else QColor(0, 0, 0, 0))
    return image


def png_bytes(image: QImage) -> bytes:
    buffer = _buffer()
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def _generic_fonts(svg: bytes) -> bytes:
    """Follow each font family with the generic sans-serif, for machines without it.

    Qt names the family it drew with ("Sans Serif", "DejaVu Sans"); a browser that lacks it
    would fall back to a serif face.
    """
    return re.sub(rb'font-family="([^"]*)"', rb'font-family="\1, sans-serif"', svg)


def _buffer() -> QBuffer:
    buffer = QBuffer()
    buffer.setData(QByteArray())
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    return buffer


def _fitted_scale(region: QRectF, scale: float, max_pixels: float, max_side: float) -> float:
    """scale, lowered until the region is at most max_pixels pixels and max_side a side."""
    area = max(region.width() * region.height(), 1e-9)
    scale = min(scale, math.sqrt(max_pixels / area))
    return min(scale, max_side / max(region.width(), region.height(), 1e-9))
