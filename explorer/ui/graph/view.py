"""The graph in the centre: batched cards and edges, restyled (not rebuilt) as the replay moves.

The widget assembles the layers and answers the model's signals; where it looks (camera),
how cards and edges look at a step (styling), the text on them (card_text) and what is
under the mouse (hits) each have a module of their own.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPixmapCache
from PySide6.QtWidgets import QGraphicsItem, QLabel

from explorer.ui.graph import camera, hits
from explorer.ui.graph.card_text import EDGE_LABELS_MAX, CardText
from explorer.ui.graph.edges_item import EdgesItem
from explorer.ui.graph.frames_item import FramesItem
from explorer.ui.graph.minimap import Minimap
from explorer.ui.graph.nodes_item import NodesItem
from explorer.ui.graph.styling import Layers, Styler
from explorer.ui.model import ExplorerModel
from explorer.view import captions, geometry, grad_scale, step_style
from explorer.view.calls import Shown
from explorer.view.geometry import CARD_H, CARD_W, Geometry

CACHE_KB = 256 * 1024  # room for the cached layers of a large window
STALE_TEXT = "Not the current script: the run was cancelled. Run again to update."
STALE_MARGIN = 8  # between the not-current mark and the top of the view
EMPTY_NOTE_WIDTH = 520  # the empty graph's note wraps within this many pixels

# The keys the graph answers while it has the focus: (key, as the shortcuts page writes it,
# what it does, whose method: the view's or its model's). The page is made from this table.
GRAPH_KEYS = (
    (Qt.Key.Key_Right, "→", "Step forward", "model", "step_forward"),
    (Qt.Key.Key_Left, "←", "Step back", "model", "step_back"),
    (Qt.Key.Key_Home, "Home", "First step", "model", "to_start"),
    (Qt.Key.Key_End, "End", "Last step", "model", "to_end"),
    (Qt.Key.Key_Space, "Space", "Play or pause", "model", "toggle_play"),
    (Qt.Key.Key_F, "F", "Fit the graph", "view", "fit"),
    (Qt.Key.Key_Z, "Z", "Zoom to the selected card", "view", "zoom_to_selection"),
    (Qt.Key.Key_Escape, "Esc", "Clear the selection", "model", "clear_selection"),
)
_KEY_METHODS = {key: (owner, method) for key, _, _, owner, method in GRAPH_KEYS}


class GraphView(pg.GraphicsView):
    """Draws the model's snapshot; restyles on cursor, selection and theme signals."""

    node_activated = Signal(str)  # a node was double-clicked

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        # Each cached layer is a viewport-sized pixmap; Qt's default 10 MB cache holds only
        # two at full HD, and an evicted layer is repainted edge by edge on every pan.
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), CACHE_KB))
        self.model = model
        self.upward = True
        self.geometry_: Geometry | None = None
        font = QFont()
        font.setPixelSize(40)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view = pg.ViewBox(lockAspect=True, enableMenu=False)
        self.view.setAspectLocked(True)
        self.setCentralItem(self.view)
        self.layers = self._add_layers(font)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.scene().sigMouseMoved.connect(self._on_scene_moved)
        self._text = CardText(model, self.view, self.layers.frames, font)
        self._styler = Styler(model, self.layers)
        self.minimap = Minimap(self)
        self.minimap.go_to.connect(self._go_to)
        self.minimap_enabled = True  # shown whenever part of the graph is out of sight
        self._drawn: Shown | None = None  # the graph as drawn now, so a new pass keeps it
        self.minimap.hide()
        self.stale_mark = QLabel(STALE_TEXT, self)  # over a graph a cancelled run left behind
        self.stale_mark.hide()
        self.empty_note = QLabel(captions.EMPTY_GRAPH, self)  # over a graph with no nodes
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.setWordWrap(True)
        self.empty_note.hide()
        self._zoom_cache = camera.ZoomCache(self, self.view, self.layers.cached())
        self.view.sigRangeChanged.connect(self._on_range_changed)
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.cursor_changed.connect(self._on_cursor_changed)
        model.selection_changed.connect(self._on_selection_changed)
        model.theme_changed.connect(self._on_theme_changed)
        model.lens_changed.connect(self._on_lens_changed)
        model.collapsed_changed.connect(self._on_collapsed_changed)
        self._on_theme_changed()

    def _add_layers(self, font: QFont) -> Layers:
        nodes = NodesItem(CARD_W, CARD_H)
        nodes.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        layers = Layers(
            frames=FramesItem(font),
            edges=EdgesItem(z=0),
            stub_lines=EdgesItem(z=0),
            flow_before=EdgesItem(z=1),
            flow=EdgesItem(z=1),
            active_edges=EdgesItem(z=2),
            nodes=nodes,
            stubs=NodesItem(geometry.STUB_SIZE, geometry.STUB_SIZE, dots=True),
            sized=[EdgesItem(z=1) for _ in range(grad_scale.EDGE_BINS)],
        )
        layers.nodes.setZValue(3)
        layers.stubs.setZValue(3)
        layers.frames.setZValue(-1)
        for item in (layers.edges, layers.stub_lines, layers.flow_before, layers.flow):
            self.view.addItem(item)
        for item in layers.sized:
            self.view.addItem(item)
        for item in (layers.active_edges, layers.nodes, layers.stubs, layers.frames):
            self.view.addItem(item)
        return layers

    # -- public --------------------------------------------------------------------------
    def set_upward(self, upward: bool) -> None:
        if upward != self.upward:
            self.upward = upward
            self._redraw()

    def graph_bounds(self) -> QRectF:
        """Everything drawn, in the graph's units: cards, edges, module frames and their
        names, and the labels beside constants."""
        geo = self.geometry_
        if geo is None:
            return QRectF(-1.0, -1.0, 2.0, 2.0)
        x0, y0, x1, y1 = geo.bounds()
        return QRectF(x0, y0, x1 - x0, y1 - y0).united(self.view.childGroup.childrenBoundingRect())

    def dispose(self) -> None:
        """Stop the view's timers, then let Qt delete it (a hidden view made for an export)."""
        self._zoom_cache.stop()
        self.deleteLater()

    def set_minimap_enabled(self, enabled: bool) -> None:
        self.minimap_enabled = enabled
        self._update_minimap()

    def zoom_to_selection(self) -> None:
        """Frame the selected card with a little of its neighbourhood."""
        if self.model.selected is not None:
            self.center_on(self.model.selected)

    def fit(self) -> None:
        camera.fit(self.view, self.geometry_)

    def center_on(self, node: str) -> None:
        camera.center_on(self.view, self.geometry_, node)

    def open_view(self) -> None:
        """The whole graph when its cards can be read at that size; otherwise the output,
        readable, where backward starts (the minimap and Fit show the rest)."""
        line_scale = self.model.theme.line_scale  # presenting: cards larger still
        camera.open_view(self.view, self.geometry_, self.model.shown, line_scale)

    def card_text(self, node: str) -> str | None:
        """The text on node's card, or None while cards are too small to read."""
        return self._text.text(node)

    def card_look(self, node: str) -> tuple[str, str] | None:
        """A drawn card's fill and outline colours (#rrggbb), or None if it is not drawn."""
        return self._styler.look(node)

    def lit_edges(self) -> set[tuple[str, str, int]]:
        """The edges drawn as having carried gradient (including the ones sent just now)."""
        return self._styler.lit_edges()

    def set_all_labels(self, on: bool) -> None:
        """Text on every card at any zoom (for rendering the whole graph to a file), or only
        on the readable cards in view, as on screen."""
        self._text.set_all(on)

    def node_at(self, scene_x: float, scene_y: float) -> str | None:
        """The node under a point of the scene (in the widget's scene coordinates)."""
        return hits.node_at(self, scene_x, scene_y)

    def frame_at(self, scene_x: float, scene_y: float) -> str | None:
        """The innermost open module call whose frame holds a point of the scene."""
        return hits.frame_at(self, scene_x, scene_y)

    # -- building ------------------------------------------------------------------------
    def mark_not_current(self) -> None:
        """Say over the graph that it is not the script's: its run was cancelled."""
        self.stale_mark.adjustSize()
        self._place_stale_mark()
        self.stale_mark.show()
        self.stale_mark.raise_()

    def _place_stale_mark(self) -> None:
        # top centre, where the minimap (bottom right) and the cards' start leave it free
        self.stale_mark.move(max(0, (self.width() - self.stale_mark.width()) // 2), STALE_MARGIN)

    def _place_empty_note(self) -> None:
        width = min(self.width() - 2 * STALE_MARGIN, EMPTY_NOTE_WIDTH)
        self.empty_note.setFixedWidth(max(width, 1))
        self.empty_note.adjustSize()
        x = (self.width() - self.empty_note.width()) // 2
        y = (self.height() - self.empty_note.height()) // 2
        self.empty_note.move(max(0, x), max(0, y))

    def _show_empty_note(self) -> None:
        """Say why the graph is empty after a run that made none (not over an error)."""
        snapshot = self.model.snapshot
        empty = (
            snapshot is not None
            and snapshot.problem is None
            and snapshot.graph.number_of_nodes() == 0
        )
        self.empty_note.setVisible(empty)
        if empty:
            self._place_empty_note()
            self.empty_note.raise_()

    def _on_snapshot_changed(self) -> None:
        self.stale_mark.hide()  # a new answer: the graph is the one asked for again
        self._show_empty_note()
        if self.model.shown is not None and self.model.shown is self._drawn:
            self._restyle(None)  # a backward pass was added: the cards stay as they are
        else:
            self._redraw()

    def _redraw(self) -> None:
        self._build()
        self.open_view()  # first: whether the cards' text is readable decides what _restyle writes
        self._restyle(None)

    def _on_collapsed_changed(self, whole: bool = False) -> None:
        """One call opened or closed: keep the zoom. All of them at once (Collapse All,
        Expand All, Fold): the graph is another, so the view opens on it anew."""
        if whole:
            self._redraw()
            return
        rect = self.view.viewRect()
        self._build()
        self.view.setRange(rect, padding=0)
        self._restyle(None)

    def _build(self) -> None:
        snapshot, shown, layers = self.model.snapshot, self.model.shown, self.layers
        self._drawn = shown
        self._text.set_geometry(None)
        layers.frames.clear()
        if snapshot is None or shown is None:
            self.geometry_ = None
            self._styler.set_geometry(None)
            return
        self.geometry_ = geo = geometry.build(shown.graph, shown.layout, self.upward, shown.routes)
        layers.frames.set_frames(shown.frames, geo)
        self.minimap.set_points(geo.pos, geo.bounds())
        self._place_minimap()
        layers.nodes.set_positions(geo.pos)
        boxes = geo.edge_boxes()
        for item in (layers.edges, layers.flow_before, layers.flow, layers.active_edges):
            item.set_arrays(geo.bare(), boxes, geo.arrows())
        for item in layers.sized:
            item.set_arrays(geo.bare(), boxes, geo.arrows())
        layers.stub_lines.set_arrays(geo.stub_arrays(), geo.stub_boxes())
        layers.stubs.set_positions(geo.stub_pos)
        self._styler.set_geometry(geo)
        self._text.set_geometry(geo)

    # -- restyling -----------------------------------------------------------------------
    def _on_cursor_changed(self) -> None:
        self._restyle(self._styler.moved_nodes())
        camera.follow(self.view, self.geometry_, self._styler.active_shown)

    def _on_selection_changed(self, node: object) -> None:
        self._styler.restyle_nodes(self._styler.selection_moved(node))

    def _on_lens_changed(self) -> None:
        self._restyle(None)

    def _on_theme_changed(self) -> None:
        theme = self.model.theme
        self.setBackground(theme.background)
        self._styler.set_theme()
        self.layers.frames.set_theme(theme)
        self.minimap.set_theme(theme)
        if self.geometry_ is not None:
            self.minimap.set_points(self.geometry_.pos, self.geometry_.bounds())
        self._text.set_color(theme.node_text)
        self.empty_note.setStyleSheet(f"color: {theme.muted}; padding: 8px;")
        self.stale_mark.setStyleSheet(
            f"background: {theme.panel}; color: {theme.error}; border: 1px solid {theme.error};"
            " border-radius: 4px; padding: 4px 8px;"
        )
        self._restyle(None)

    def _restyle(self, changed: set[str] | None) -> None:
        geo = self.geometry_
        if geo is None:
            return
        self._styler.restyle_edges()
        self._styler.restyle_nodes(changed)
        self._text.update(changed)
        if len(geo.edge_keys) <= EDGE_LABELS_MAX:
            grads = step_style.drawn_edge_grads(self.model.shown, self.model.step_view())
            self._text.update_edge_labels(grads)

    # -- camera --------------------------------------------------------------------------
    def _go_to(self, x: float, y: float) -> None:
        camera.go_to(self.view, x, y)

    def _place_minimap(self) -> None:
        camera.place_minimap(self.minimap, self)

    def _update_minimap(self) -> None:
        camera.update_minimap(self.minimap, self.view, self.geometry_, self.minimap_enabled)

    def _on_range_changed(self, *args: Any) -> None:
        self._zoom_cache.range_changed()
        self._text.sync()
        self._update_minimap()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if hasattr(self, "minimap"):  # pyqtgraph resizes the view while it is constructed
            self._place_minimap()
            self._place_stale_mark()
            self._place_empty_note()

    # -- interaction ---------------------------------------------------------------------
    def _on_scene_clicked(self, event: Any) -> None:
        hits.clicked(self, event)

    # The scene makes every click a sigMouseClicked that this view acts on, but leaves Qt's
    # event unaccepted, so it would travel on to the widgets around the view. Accept it here.
    def mousePressEvent(self, event: Any) -> None:
        super().mousePressEvent(event)
        event.accept()

    def mouseReleaseEvent(self, event: Any) -> None:
        super().mouseReleaseEvent(event)
        event.accept()

    def mouseDoubleClickEvent(self, event: Any) -> None:
        super().mouseDoubleClickEvent(event)
        event.accept()

    def _on_scene_moved(self, position: QPointF) -> None:
        hits.hovered(self, position)

    def keyPressEvent(self, event: Any) -> None:
        """The keys of GRAPH_KEYS, each calling its method of the view or of its model."""
        found = _KEY_METHODS.get(Qt.Key(event.key()))
        if found is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
            return
        owner, method = found
        getattr(self if owner == "view" else self.model, method)()
        event.accept()
