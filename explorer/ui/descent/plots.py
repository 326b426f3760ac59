"""The gradient-descent panel's plots: the loss per step, the loss surface with the path taken,
and the data with the fitted line."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from explorer.data.reports import DescentReport, LineFit, Surface
from explorer.ui.theme import Theme

CONTOURS = 9  # contour lines on a two-parameter surface
SMOOTHING = 4  # image pixels per grid step along each axis
WIDE = 640  # wider than this, the plots sit two to a row


class DescentPlots(QWidget):
    """Draws DescentReports; shows only the plots that make sense for the model."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Loss", "step", "loss")
        self.loss_curve = self.loss_plot.plot([], [])
        self.surface_plot = _plot("Loss surface and path", "", "")
        self.surface_image = pg.ImageItem()
        self.surface_curve = pg.PlotDataItem()
        self.path = pg.PlotDataItem()
        self.start = pg.ScatterPlotItem(size=9, symbol="s")
        self.now = pg.ScatterPlotItem(size=11, symbol="o")
        self.contours: list[pg.IsocurveItem] = []
        for item in (self.surface_image, self.surface_curve, self.path, self.start, self.now):
            self.surface_plot.addItem(item)
        self.surface_note = QLabel()
        self.surface_note.setWordWrap(True)
        self.fit_plot = _plot("Data and fitted line", "x", "y")
        self.points = pg.ScatterPlotItem(size=7)
        self.first_line = pg.PlotDataItem()
        self.line = pg.PlotDataItem()
        for item in (self.points, self.first_line, self.line):
            self.fit_plot.addItem(item)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self._wide: bool | None = None
        self._place()
        self.theme: Theme | None = None
        self.clear()

    # -- showing ---------------------------------------------------------------------------
    def clear(self) -> None:
        self.loss_curve.setData([], [])
        self.surface_plot.setVisible(False)
        self.surface_note.setVisible(False)
        self.fit_plot.setVisible(False)

    def show_report(self, report: DescentReport) -> None:
        self._show_losses(report.losses)
        self._show_surface(report)
        self._show_fit(report.fit)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in (self.loss_plot, self.surface_plot, self.fit_plot):
            plot.setBackground(theme.panel)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(theme.muted))
                axis.setTextPen(pg.mkPen(theme.text))
            plot.setTitle(plot.plotItem.titleLabel.text, color=theme.text)
        self.loss_curve.setPen(pg.mkPen(theme.selection, width=2))
        self.loss_curve.setSymbolBrush(pg.mkBrush(theme.selection))
        self.loss_curve.setSymbolPen(None)
        self.surface_curve.setPen(pg.mkPen(theme.muted, width=2))
        self.path.setPen(pg.mkPen(theme.flow, width=2))
        self.path.setSymbolBrush(pg.mkBrush(theme.flow))
        self.path.setSymbolPen(None)
        self.start.setBrush(pg.mkBrush(theme.panel))
        self.start.setPen(pg.mkPen(theme.flow, width=2))
        self.now.setBrush(pg.mkBrush(theme.active))
        self.now.setPen(pg.mkPen(theme.panel))
        self.points.setBrush(pg.mkBrush(theme.selection))
        self.points.setPen(None)
        self.first_line.setPen(pg.mkPen(theme.muted, width=1.5, style=Qt.PenStyle.DashLine))
        self.line.setPen(pg.mkPen(theme.flow, width=2.5))
        for contour in self.contours:
            contour.setPen(pg.mkPen(theme.panel, width=1))

    def _show_losses(self, losses: list[float]) -> None:
        values = np.array(losses, dtype=np.float64)
        steps = np.arange(values.size, dtype=np.float64)
        finite = np.isfinite(values)
        positive = int(finite.sum()) > 1 and bool((values[finite] > 0).all())
        # Log scale while every loss is above 0: the start and the end of a descent both show.
        self.loss_plot.setLogMode(y=positive)
        self.loss_plot.setLabel("left", "loss (log scale)" if positive else "loss")
        self.loss_curve.setData(steps[finite], values[finite])
        self.loss_curve.setSymbol("o" if values.size <= 60 else None)
        self.loss_curve.setSymbolSize(5)
        self.loss_plot.enableAutoRange()
        if values.size < 10:  # room for the steps to come, not a zoom on one point
            self.loss_plot.setXRange(0, 10, padding=0.02)

    # -- the surface -----------------------------------------------------------------------
    def _show_surface(self, report: DescentReport) -> None:
        surface = report.surface
        names = _axis_names(report)
        if surface is None:
            self.surface_plot.setVisible(False)
            count = report.scalar_count
            if count > 2:
                self.surface_note.setText(
                    f"The loss surface is drawn for models of one or two numbers; this one has "
                    f"{count:,}."
                )
            else:
                self.surface_note.setText("The loss surface appears after the first step.")
            self.surface_note.setVisible(bool(report.parameter_names))
            return
        self.surface_note.setVisible(False)
        self.surface_plot.setVisible(True)
        path = np.array([p for p in report.path if all(map(math.isfinite, p))], dtype=np.float64)
        if surface.ys is None:
            self._show_curve(surface, path, report.losses, names[0])
        else:
            self._show_image(surface, path, names)

    def _show_curve(
        self, surface: Surface, path: np.ndarray, losses: list[float], name: str
    ) -> None:
        self._clear_contours()
        self.surface_image.setVisible(False)
        self.surface_curve.setData(surface.xs, surface.values)
        self.surface_plot.setLabel("bottom", name)
        self.surface_plot.setLabel("left", "loss")
        finite = [(p[0], v) for p, v in zip(path, losses, strict=False) if math.isfinite(v)]
        xs = np.array([p for p, _ in finite])
        ys = np.array([v for _, v in finite])
        self.path.setData(xs, ys, symbol="o", symbolSize=5)
        self._mark_ends(xs, ys)
        self.surface_plot.enableAutoRange()

    def _show_image(self, surface: Surface, path: np.ndarray, names: list[str]) -> None:
        assert surface.ys is not None
        self.surface_curve.setData([], [])
        heights = _log_heights(surface.values)
        finite = heights[np.isfinite(heights)]
        top = float(finite.max()) if finite.size else 0.0
        # Not a finite loss: drawn as the highest. Drawn finer than the grid, interpolated, so
        # the colours shade smoothly; ImageItem's first index is x, ours is y.
        fine = _finer(np.where(np.isfinite(heights), heights, top), SMOOTHING)
        self.surface_image.setImage(fine.T, autoLevels=True)
        self.surface_image.setColorMap(pg.colormap.get("viridis"))
        x0, x1 = float(surface.xs[0]), float(surface.xs[-1])
        y0, y1 = float(surface.ys[0]), float(surface.ys[-1])
        # Pixel centres on the grid's points: the path is drawn in the same coordinates.
        dx = (x1 - x0) / max(fine.shape[1] - 1, 1)
        dy = (y1 - y0) / max(fine.shape[0] - 1, 1)
        self.surface_image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
        self.surface_image.setVisible(True)
        self._set_contours(heights, fine.shape)
        self.surface_plot.setLabel("bottom", names[0])
        self.surface_plot.setLabel("left", names[1])
        if path.size:
            self.path.setData(path[:, 0], path[:, 1], symbol="o", symbolSize=4)
            self._mark_ends(path[:, 0], path[:, 1])
        else:
            self.path.setData([], [])
            self._mark_ends(np.array([]), np.array([]))
        self.surface_plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _set_contours(self, heights: np.ndarray, image: tuple[int, int]) -> None:
        self._clear_contours()
        finite = heights[np.isfinite(heights)]
        if finite.size == 0 or float(finite.max()) == float(finite.min()):
            return
        filled = np.where(np.isfinite(heights), heights, finite.max()).T
        pen = pg.mkPen(self.theme.panel if self.theme else "w", width=1)
        # Contours are in the image's pixels: grid point i sits at i·(pixels - 1)/(points - 1).
        scale_x = (image[1] - 1) / max(filled.shape[0] - 1, 1)
        scale_y = (image[0] - 1) / max(filled.shape[1] - 1, 1)
        for level in np.linspace(finite.min(), finite.max(), CONTOURS + 2)[1:-1]:
            contour = pg.IsocurveItem(data=filled, level=float(level), pen=pen)
            contour.setParentItem(self.surface_image)
            contour.setZValue(5)
            contour.setTransform(QTransform.fromScale(scale_x, scale_y))
            contour.setPos(0.5, 0.5)  # pixel centres
            self.contours.append(contour)

    def _clear_contours(self) -> None:
        for contour in self.contours:
            contour.setParentItem(None)
            if contour.scene() is not None:
                contour.scene().removeItem(contour)
        self.contours.clear()

    def _mark_ends(self, xs: np.ndarray, ys: np.ndarray) -> None:
        if xs.size == 0:
            self.start.setData([], [])
            self.now.setData([], [])
            return
        self.start.setData([xs[0]], [ys[0]])
        self.now.setData([xs[-1]], [ys[-1]])

    # -- the line fit ----------------------------------------------------------------------
    def _show_fit(self, fit: LineFit | None) -> None:
        self.fit_plot.setVisible(fit is not None)
        if fit is None:
            return
        self.fit_plot.setLabel("bottom", fit.x_name)
        self.fit_plot.setLabel("left", fit.y_name)
        self.points.setData(fit.xs, fit.ys)
        low, high = float(np.min(fit.xs)), float(np.max(fit.xs))
        span = np.array([low, high])
        self.first_line.setData(span, fit.first_slope * span + fit.first_intercept)
        if math.isfinite(fit.slope) and math.isfinite(fit.intercept):
            self.line.setData(span, fit.slope * span + fit.intercept)
        else:
            self.line.setData([], [])
        self.fit_plot.enableAutoRange()

    # -- layout ------------------------------------------------------------------------------
    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        wide = self.width() > WIDE
        if wide == self._wide:
            return
        self._wide = wide
        for widget in (self.loss_plot, self.surface_plot, self.surface_note, self.fit_plot):
            self.grid.removeWidget(widget)
        if wide:
            self.grid.addWidget(self.loss_plot, 0, 0)
            self.grid.addWidget(self.surface_plot, 0, 1)
            self.grid.addWidget(self.surface_note, 1, 1)
            self.grid.addWidget(self.fit_plot, 0, 2)
        else:
            self.grid.addWidget(self.loss_plot, 0, 0)
            self.grid.addWidget(self.surface_plot, 1, 0)
            self.grid.addWidget(self.surface_note, 2, 0)
            self.grid.addWidget(self.fit_plot, 3, 0)


def _plot(title: str, bottom: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setMinimumSize(160, 150)
    plot.setMenuEnabled(False)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)  # "b (x0.001)" would hide b's own values
    return plot


def _axis_names(report: DescentReport) -> list[str]:
    """One name per parameter number: w and b, or w[0] and w[1]."""
    names: list[str] = []
    for name, shape in zip(report.parameter_names, report.parameter_shapes, strict=True):
        count = math.prod(shape)
        names += [name] if count == 1 else [f"{name}[{i}]" for i in range(count)]
    return names + [""] * (2 - len(names))


def _finer(grid: np.ndarray, factor: int) -> np.ndarray:
    """grid interpolated (bilinear) to factor times as many points along each axis."""
    rows, columns = grid.shape
    ys = np.linspace(0, rows - 1, (rows - 1) * factor + 1)
    xs = np.linspace(0, columns - 1, (columns - 1) * factor + 1)
    along_x = np.array([np.interp(xs, np.arange(columns), row) for row in grid])
    return np.array([np.interp(ys, np.arange(rows), column) for column in along_x.T]).T


def _log_heights(values: np.ndarray) -> np.ndarray:
    """The loss in a log scale, so a long narrow valley shows; NaN where it is not finite."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.full(values.shape, np.nan)
    low = float(finite.min())
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = max(float(finite.max()) - low, 1e-12)
        return np.log10(values - low + 1e-3 * spread)
