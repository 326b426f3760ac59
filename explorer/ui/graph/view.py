"""The graph in the centre: batched cards and edges, restyled (not rebuilt) as the replay moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QPainterPath,
    QPen,
    QPixmapCache,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QToolTip,
)

from explorer.ui.graph.boxes_item import BoxesItem
from explorer.ui.graph.edges_item import EdgesItem
from explorer.ui.graph.minimap import Minimap
from explorer.ui.graph.nodes_item import NodesItem
from explorer.ui.model import ExplorerModel
from explorer.view import geometry, labels
from explorer.view.geometry import CARD_H, CARD_W, Geometry

LABEL_MIN_PX = 46  # cards narrower than this on screen show no text
EDGE_LABELS_MAX = 160  # edges that may carry a gradient label
LINE_HEIGHT = 0.3  # scene units per text line on a card
OPEN_MIN_PX = 60  # a graph whose cards would be narrower than this opens on its output
OPEN_CARD_PX = 120  # ... with its cards this wide
HAIRLINE_EDGES = 1500  # more edges than this are drawn one pixel wide
FLOW_WINDOW = 400  # steps between redraws of the edges that carried gradient earlier
CACHE_KB = 256 * 1024  # room for the cached layers of a large window
ZOOM_REST_MS = 250  # layers are cached again once the zoom has not changed for this long


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
        self._font = QFont()
        self._font.setPixelSize(40)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view = pg.ViewBox(lockAspect=True, enableMenu=False)
        self.view.setAspectLocked(True)
        self.setCentralItem(self.view)
        self._edges = self._add(EdgesItem(z=0))
        self._stub_lines = self._add(EdgesItem(z=0))
        # Edges that carried gradient: those sent up to a recent step (redrawn now and then)
        # and those sent since (a few, redrawn each step), so a step repaints little.
        self._flow_before = self._add(EdgesItem(z=1))
        self._flow = self._add(EdgesItem(z=1))
        self._active_edges = self._add(EdgesItem(z=2))
        self._nodes = NodesItem(CARD_W, CARD_H)
        self._nodes.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._nodes.setZValue(3)
        self.view.addItem(self._nodes)
        self._stubs = NodesItem(geometry.STUB_SIZE, geometry.STUB_SIZE, dots=True)
        self._stubs.setZValue(3)
        self.view.addItem(self._stubs)
        self._boxes = BoxesItem(self._font)
        self._boxes.setZValue(-1)
        self.view.addItem(self._boxes)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.scene().sigMouseMoved.connect(self._on_scene_moved)
        self._label_layer = QGraphicsRectItem()
        self._label_layer.setPen(QPen(Qt.PenStyle.NoPen))
        self._label_layer.setZValue(4)
        self.view.addItem(self._label_layer)
        self._node_labels: dict[str, QGraphicsSimpleTextItem] = {}
        self._edge_labels: dict[tuple[str, str, int], _Pill] = {}
        self._brushes: dict[str, QBrush] = {}
        self._pens: dict[str, QPen] = {}
        self._label_color = QColor()
        self._lit = np.zeros(0, dtype=bool)  # mask over drawn edges: carried gradient so far
        self._flow_split: tuple[int, int] | None = None  # (pass, last step) drawn "before"
        self._shown_cursor: Any = None  # the replay cursor the scene shows
        self._label_keys: list[Any] = []  # node ids, then (node, slot) of constants' stubs
        self._label_pos = np.zeros((0, 2))
        self._all_labels = False  # text on every card whatever the zoom (for exports)
        self._active_shown: str | None = None
        self._selected_shown: str | None = None
        self.minimap = Minimap(self)
        self.minimap.go_to.connect(self._go_to)
        self.minimap_enabled = True  # shown whenever part of the graph is out of sight
        self.minimap.hide()
        self._scale = 0.0  # scene units per pixel, to tell a zoom from a pan
        self._caching = True
        self._zoom_rest = QTimer(self, singleShot=True, interval=ZOOM_REST_MS)
        self._zoom_rest.timeout.connect(self._cache_again)
        self.view.sigRangeChanged.connect(self._on_range_changed)
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.cursor_changed.connect(self._on_cursor_changed)
        model.selection_changed.connect(self._on_selection_changed)
        model.theme_changed.connect(self._on_theme_changed)
        model.grouping_changed.connect(self._on_grouping_changed)
        self._on_theme_changed()

    def _add(self, item: EdgesItem) -> EdgesItem:
        self.view.addItem(item)
        return item

    # -- public --------------------------------------------------------------------------
    def set_upward(self, upward: bool) -> None:
        if upward != self.upward:
            self.upward = upward
            self._on_snapshot_changed()

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
        self._zoom_rest.stop()
        self.deleteLater()

    def set_minimap_enabled(self, enabled: bool) -> None:
        self.minimap_enabled = enabled
        self._update_minimap()

    def _go_to(self, x: float, y: float) -> None:
        rect = self.view.viewRect()
        rect.moveCenter(QPointF(x, y))
        self.view.setRange(rect, padding=0)

    def _place_minimap(self) -> None:
        margin = 10
        self.minimap.move(
            self.width() - self.minimap.width() - margin,
            self.height() - self.minimap.height() - margin,
        )

    def _update_minimap(self) -> None:
        geo = self.geometry_
        if geo is None or not len(geo.ids) or not self.minimap_enabled:
            self.minimap.hide()
            return
        x0, y0, x1, y1 = geo.bounds()
        visible = self.view.viewRect()
        whole = visible.contains(QRectF(x0, y0, x1 - x0, y1 - y0).adjusted(1, 1, -1, -1))
        self.minimap.set_frame(visible)
        self.minimap.setVisible(not whole)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if hasattr(self, "minimap"):  # pyqtgraph resizes the view while it is constructed
            self._place_minimap()

    def zoom_to_selection(self) -> None:
        """Frame the selected card with a little of its neighbourhood."""
        if self.model.selected is not None:
            self.center_on(self.model.selected)

    def fit(self) -> None:
        if self.geometry_ is not None:
            x0, y0, x1, y1 = self.geometry_.bounds()
            self.view.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.02)

    def center_on(self, node: str) -> None:
        if self.geometry_ is None or node not in self.geometry_.index:
            return
        x, y = self.geometry_.pos[self.geometry_.index[node]]
        rect = self.view.viewRect()
        width = min(rect.width(), CARD_W * 8)
        height = min(rect.height(), CARD_H * 8)
        self.view.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0)

    def card_text(self, node: str) -> str | None:
        """The text on node's card, or None while cards are too small to read."""
        item = self._node_labels.get(node)
        if item is None or not self._label_layer.isVisible():
            return None
        return item.text()

    def card_look(self, node: str) -> tuple[str, str] | None:
        """A drawn card's fill and outline colours (#rrggbb), or None if it is not drawn."""
        geo = self.geometry_
        if geo is None or node not in geo.index:
            return None
        return self._nodes.look(geo.index[node])

    def lit_edges(self) -> set[tuple[str, str, int]]:
        """The edges drawn as having carried gradient (including the ones sent just now)."""
        geo = self.geometry_
        if geo is None:
            return set()
        return {geo.edge_keys[i] for i in np.flatnonzero(self._lit)}

    # -- building ------------------------------------------------------------------------
    def _on_snapshot_changed(self) -> None:
        self._build()
        self.open_view()  # first: whether the cards' text is readable decides what _restyle writes
        self._restyle(None)

    def open_view(self) -> None:
        """The whole graph when its cards can be read at that size; otherwise the output,
        readable, where backward starts (the minimap and Fit show the rest)."""
        self.fit()
        geo, shown = self.geometry_, self.model.shown
        large = self.model.theme.line_scale  # presenting: cards larger still
        if geo is None or shown is None or not len(geo.ids):
            return
        if self._card_pixels() >= OPEN_MIN_PX * large:
            return
        outputs = [n for n in geo.ids if shown.graph.nodes[n].get("output")]
        along = 1 if geo.upward else 0
        root = outputs[0] if outputs else geo.ids[int(np.argmax(geo.pos[:, along]))]
        x, y = geo.pos[geo.index[root]]
        scale = OPEN_CARD_PX * large / CARD_W  # pixels per scene unit
        width, height = self.view.width() / scale, self.view.height() / scale
        if geo.upward:  # the output near the top edge, its inputs below it
            rect = QRectF(x - width / 2, y + 2 * CARD_H - height, width, height)
        else:  # flowing right: the output near the right edge
            rect = QRectF(x + 2 * CARD_W - width, y - height / 2, width, height)
        self.view.setRange(rect, padding=0)

    def _card_pixels(self) -> float:
        pixel = self.view.viewPixelSize()[0] if self.view.width() > 0 else 0.0
        return CARD_W / pixel if pixel > 0 else 0.0

    def _follow(self, node: str | None) -> None:
        """Keep the running node in sight while stepping through a graph larger than the view."""
        geo = self.geometry_
        if geo is None or node is None or node not in geo.index:
            return
        x, y = geo.pos[geo.index[node]]
        rect = self.view.viewRect()
        inner = rect.adjusted(rect.width() * 0.1, rect.height() * 0.1,
                              -rect.width() * 0.1, -rect.height() * 0.1)  # fmt: skip
        if not inner.contains(QPointF(x, y)):
            rect.moveCenter(QPointF(x, y))
            self.view.setRange(rect, padding=0)

    def _on_grouping_changed(self) -> None:
        """Keep the zoom; centre on what was opened or closed if it went out of sight."""
        rect = self.view.viewRect()
        self._build()
        self.view.setRange(rect, padding=0)
        self._restyle(None)

    def _build(self) -> None:
        snapshot, shown = self.model.snapshot, self.model.shown
        for item in [*self._node_labels.values(), *self._edge_labels.values()]:
            _remove(item)
        self._node_labels.clear()
        self._edge_labels.clear()
        self._boxes.clear()
        if snapshot is None or shown is None:
            self.geometry_ = None
            return
        self.geometry_ = geo = geometry.build(shown.graph, shown.layout, self.upward, shown.routes)
        self._set_edge_pens()
        self._boxes.set_boxes(shown.boxes, geo)
        self.minimap.set_points(geo.pos, geo.bounds())
        self._place_minimap()
        self._nodes.set_positions(geo.pos)
        boxes = geo.edge_boxes()
        for item in (self._edges, self._flow_before, self._flow, self._active_edges):
            item.set_arrays(geo.bare(), boxes, geo.arrows())
        self._flow_split = None
        self._stub_lines.set_arrays(geo.stub_arrays(), geo.stub_boxes())
        self._stubs.set_positions(geo.stub_pos)
        self._stubs.set_styles(
            list(range(len(geo.stub_pos))), [self._stub_style] * len(geo.stub_pos)
        )
        self._shown_cursor = self.model.cursor
        # what may carry text: every card, then every constant's stub
        self._label_keys = [*geo.ids, *geo.stub_owner]
        self._label_pos = np.vstack([geo.pos, geo.stub_pos.reshape(-1, 2)])

    def _set_edge_pens(self) -> None:
        """Bold lines for a graph one can read; hairlines for thousands of edges.

        Qt draws a one-pixel cosmetic line on a fast path; wider ones are stroked, which
        costs about twenty times as much once there are thousands of them.
        """
        theme = self.model.theme
        many = self.geometry_ is not None and len(self.geometry_.edge_keys) > HAIRLINE_EDGES
        wide = theme.line_scale
        self._edges.setPen(_pen(theme.edge, 1.0 if many else 1.4 * wide))
        dashed = _pen(theme.edge_faded, 1.0 if many else 1.2 * wide)
        dashed.setStyle(Qt.PenStyle.DashLine)
        self._stub_lines.setPen(dashed)
        self._flow.setPen(_pen(theme.flow, 1.0 if many else 3.2 * wide))
        self._flow_before.setPen(self._flow.pen())
        self._active_edges.setPen(_pen(theme.active, 4.5 * wide))

    def _on_cursor_changed(self) -> None:
        self._restyle(self._moved_nodes())
        self._follow(self._active_shown)

    def _on_selection_changed(self, node: object) -> None:
        changed = {self._selected_shown, node} - {None}
        self._restyle_nodes(changed)

    def _on_theme_changed(self) -> None:
        theme = self.model.theme
        self.setBackground(theme.background)
        self._brushes.clear()
        self._set_edge_pens()
        self._stubs.reset_styles()
        self._stub_pen = _pen(theme.edge_faded, 1.0)
        self._stub_style = self._stubs.style_id(self._brush(theme.const), self._stub_pen)
        count = len(self.geometry_.stub_pos) if self.geometry_ is not None else 0
        self._stubs.set_styles(list(range(count)), [self._stub_style] * count)
        self._nodes.reset_styles()
        wide = theme.line_scale
        self._pens = {
            "normal": _pen(theme.edge, 1.3 * wide),
            "running": _pen(theme.active, 4.0 * wide),
            "selected": _pen(theme.selection, 4.0 * wide),
            "group": _pen(theme.box, 2.2 * wide),
        }
        self._boxes.set_theme(theme)
        self.minimap.set_theme(theme)
        if self.geometry_ is not None:
            self.minimap.set_points(self.geometry_.pos, self.geometry_.bounds())
        self._label_color = QColor(theme.node_text)
        self._restyle(None)

    # -- restyling -----------------------------------------------------------------------
    def _brush(self, color: str) -> QBrush:
        brush = self._brushes.get(color)
        if brush is None:
            brush = self._brushes[color] = QBrush(QColor(color))
        return brush

    def _moved_nodes(self) -> set[str] | None:
        """Nodes whose look changes between the cursor shown and the model's; None: all."""
        replay, cursor, shown = self.model.replay, self.model.cursor, self._shown_cursor
        self._shown_cursor = cursor
        if replay is None or shown is None or shown.pass_index != cursor.pass_index:
            return None
        steps = replay.passes[cursor.pass_index].steps if replay.passes else []
        low, high = sorted((shown.step_index, cursor.step_index))
        moved = {steps[i].node for i in range(max(low, 0), min(high + 1, len(steps)))}
        if self.model.shown is not None and self.model.shown.owner is not None:
            moved = {self.model.shown.visible(n) for n in moved}
        return moved | {self._active_shown} - {None}

    def _edge_grads(self, step: Any) -> dict:
        """The gradient each drawn edge carried so far (an edge between cards that stands for
        several of the graph's edges carries no single one)."""
        shown = self.model.shown
        if shown is None or shown.edge_of is None:
            return step.edge_grads
        edge_of = shown.edge_of
        return {
            edge_of[e]: grad
            for e, grad in step.edge_grads.items()
            if e in edge_of and edge_of[e] in shown.single
        }

    def _restyle(self, changed: set[str] | None) -> None:
        geo = self.geometry_
        if geo is None:
            return
        self._restyle_edges()
        self._restyle_nodes(changed)
        self._update_labels(changed)
        if len(geo.edge_keys) <= EDGE_LABELS_MAX:
            self._update_edge_labels(self._edge_grads(self.model.step_view()))

    def _restyle_edges(self) -> None:
        """Light the edges that carried gradient so far, and those the running node sends.

        Gradient flows along the edges sent by every step up to the cursor. Those sent up to
        a split step are drawn as one layer, redrawn only when the cursor leaves the window
        of FLOW_WINDOW steps after the split; the few sent since are redrawn each step.
        """
        geo, replay, cursor = self.geometry_, self.model.replay, self.model.cursor
        assert geo is not None
        count = len(geo.edge_keys)
        if replay is None or not 0 <= cursor.pass_index < len(replay.passes):
            self._lit = np.zeros(count, dtype=bool)
            for item in (self._flow_before, self._flow, self._active_edges):
                item.show_only(self._lit)
            return
        steps = replay.passes[cursor.pass_index].steps
        at = min(cursor.step_index, len(steps) - 1)
        split = self._flow_split
        if (
            split is None
            or split[0] != cursor.pass_index
            or not split[1] <= at <= split[1] + FLOW_WINDOW
        ):
            split = self._flow_split = (cursor.pass_index, max(-1, at - FLOW_WINDOW // 2))
            self._before = self._sent_mask(steps[: split[1] + 1])
            self._flow_before.show_only(self._before)
        since = self._sent_mask(steps[split[1] + 1 : max(at, split[1] + 1)])
        active = self._sent_mask(steps[at : at + 1] if at >= 0 else [])
        self._flow.show_only(since & ~active)
        self._active_edges.show_only(active)
        self._lit = self._before | since | active

    def _sent_mask(self, steps: list) -> np.ndarray:
        """A mask over the drawn edges: those the given steps sent gradient along."""
        geo, replay, shown = self.geometry_, self.model.replay, self.model.shown
        assert geo is not None and replay is not None and shown is not None
        index, edge_of = geo.edge_index, shown.edge_of
        mask = np.zeros(len(geo.edge_keys), dtype=bool)
        hit = []
        for step in steps:
            for edge, _ in replay.sent_edges(step):
                drawn = edge if edge_of is None else edge_of.get(edge)
                if drawn is not None:
                    hit.append(index[drawn])
        mask[hit] = True
        return mask

    def _restyle_nodes(self, changed: set[str] | None) -> None:
        """Set fill and outline of the changed nodes (all when None), then repaint once."""
        geo, shown = self.geometry_, self.model.shown
        if geo is None or shown is None or not len(geo.ids):
            return
        theme = self.model.theme
        step = self.model.step_view()
        nodes = geo.ids if changed is None else [n for n in changed if n in geo.index]
        indices, styles = [], []
        for node in nodes:
            attrs = shown.graph.nodes[node]
            if attrs.get("kind") == "group":
                indices.append(geo.index[node])
                styles.append(self._group_style(node, step))
                continue
            if node == step.accumulated:
                color = theme.accumulated
            elif node in step.done and node != step.active:
                color = theme.done
            elif attrs.get("kind") == "leaf":
                color = theme.leaf
            elif attrs.get("output"):
                color = theme.output
            else:
                color = theme.op
            if node == self.model.selected:
                pen = self._pens["selected"]
            elif node == step.active:
                pen = self._pens["running"]
            else:
                pen = self._pens["normal"]
            indices.append(geo.index[node])
            styles.append(self._nodes.style_id(self._brush(color), pen))
        self._nodes.set_styles(indices, styles)
        self._active_shown = None if step.active is None else shown.visible(step.active)
        self._selected_shown = self.model.selected

    def _group_style(self, card: str, step: Any) -> int:
        """A module card: lit while a node inside runs, "ran" once all of them have.

        Its nodes need not run in one stretch: the engine runs the ready node made last, so
        a call's first ops (a weight's transpose) may wait until the end of the pass.
        """
        theme, shown, at = self.model.theme, self.model.shown, self.model.cursor.step_index
        span = self.model.span(card)
        running = step.active is not None and shown.visible(step.active) == card
        color = theme.done if span is not None and at >= span[1] else theme.group
        if step.accumulated is not None and shown.visible(step.accumulated) == card:
            color = theme.accumulated
        if card == self.model.selected:
            pen = self._pens["selected"]
        else:
            pen = self._pens["running" if running else "group"]
        return self._nodes.style_id(self._brush(color), pen)

    # -- labels --------------------------------------------------------------------------
    def set_all_labels(self, on: bool) -> None:
        """Text on every card at any zoom (for rendering the whole graph to a file), or only
        on the readable cards in view, as on screen."""
        self._all_labels = on
        self._sync_labels()

    def _update_labels(self, changed: set[str] | None) -> None:
        """Rewrite the text of the changed cards that carry text (all of them when None)."""
        if changed is None:
            self._drop_labels()  # fresh text comes as the cards come into view
        else:
            self._write_labels([n for n in changed if n in self._node_labels])
        self._sync_labels()

    def _sync_labels(self) -> None:
        """Text only on the cards in and near the view, and only while it can be read.

        A label is a scene item of its own: tens of thousands of them would make every pan
        slow, while those on screen at a readable zoom are a few hundred.
        """
        readable = self._all_labels or self._readable()
        self._label_layer.setVisible(readable)
        self._boxes.set_names_visible(readable)
        if self.geometry_ is None or self.model.shown is None:
            return
        if not readable:
            self._drop_labels()
            return
        wanted = self._keys_near_view()
        gone = [key for key in self._node_labels if key not in wanted]
        for key in gone:
            _remove(self._node_labels.pop(key))
        self._write_labels([key for key in wanted if key not in self._node_labels])

    def _keys_near_view(self) -> set[Any]:
        if self._all_labels:
            return set(self._label_keys)
        rect = self.view.viewRect()
        margin_x, margin_y = rect.width() / 2, rect.height() / 2  # ready for a short pan
        x, y = self._label_pos[:, 0], self._label_pos[:, 1]
        near = (
            (x >= rect.left() - margin_x) & (x <= rect.right() + margin_x)
            & (y >= rect.top() - margin_y) & (y <= rect.bottom() + margin_y)
        )  # fmt: skip
        return {self._label_keys[i] for i in np.flatnonzero(near)}

    def _write_labels(self, keys: list[Any]) -> None:
        geo, shown = self.geometry_, self.model.shown
        if geo is None or shown is None or not keys:
            return
        nodes = [k for k in keys if isinstance(k, str)]
        grads = self._node_grads(nodes)
        for node in nodes:
            x, y = geo.pos[geo.index[node]]
            lines = labels.node_lines(shown.graph.nodes[node], grads.get(node))
            self._place(
                self._node_labels, node, "\n".join(lines), x, y, self._label_color, len(lines)
            )
        muted = QColor(self.model.theme.muted)
        stubs = (
            {owner: i for i, owner in enumerate(geo.stub_owner)} if len(nodes) < len(keys) else {}
        )
        for key in keys:
            if isinstance(key, tuple):
                x, y = geo.stub_pos[stubs[key]]
                text = labels.const_text(shown.graph.nodes[key[0]], key[1])
                self._place(self._node_labels, key, text, x + 0.2, y, muted, 0.75, left=True)

    def _drop_labels(self) -> None:
        for item in self._node_labels.values():
            _remove(item)
        self._node_labels.clear()

    def _node_grads(self, nodes: list[str]) -> dict[str, Any]:
        """The gradient each of nodes received so far in this pass (leaves: their new .grad)."""
        replay, cursor = self.model.replay, self.model.cursor
        out: dict[str, Any] = {}
        if replay is None or not 0 <= cursor.pass_index < len(replay.passes):
            return out
        steps = replay.passes[cursor.pass_index].steps
        for node in nodes:
            index = replay.step_index(cursor.pass_index, node)
            if index is not None and index <= cursor.step_index:
                step = steps[index]
                out[node] = (
                    step.grad_after if step.grad_after is not None else (step.grad_in or [None])[0]
                )
        return out

    def _update_edge_labels(self, grads: dict) -> None:
        geo = self.geometry_
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
                pill = self._edge_labels[key] = _Pill(self._label_layer, self._font)
            pill.show_text(labels.tensor_text(grad, 14), x, y, theme)
        for key, pill in self._edge_labels.items():
            pill.setVisible(key in shown)

    def _place(self, pool, key, text, x, y, color, lines: float, left: bool = False) -> None:
        """Text centred on (x, y), or starting at x when left; `lines` tall on a card's scale."""
        item = pool.get(key)
        if item is None:
            item = pool[key] = QGraphicsSimpleTextItem(self._label_layer)
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

    def _readable(self) -> bool:
        pixel = self.view.viewPixelSize()[0] if self.view.width() > 0 else 1.0
        return pixel > 0 and CARD_W / pixel >= LABEL_MIN_PX

    def _on_range_changed(self, *args: Any) -> None:
        self._pause_caches_while_zooming()
        self._sync_labels()
        self._update_minimap()

    def _pause_caches_while_zooming(self) -> None:
        """Draw straight to the screen while the zoom changes, cache again once it rests.

        A cached layer is re-rendered into a pixmap at every new zoom level, which costs
        more than drawing it; panning and stepping, at one zoom level, gain from the cache.
        """
        scale = self.view.viewPixelSize()[0] if self.view.width() > 0 else 0.0
        if scale == self._scale:
            return
        self._scale = scale
        if self._caching:
            self._caching = False
            for item in self._cached_layers():
                item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self._zoom_rest.start()

    def _cache_again(self) -> None:
        self._caching = True
        for item in self._cached_layers():
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _cached_layers(self) -> list[QGraphicsItem]:
        edges = [self._edges, self._stub_lines, self._flow_before, self._flow, self._active_edges]
        return [*edges, self._nodes, self._boxes]

    # -- interaction ---------------------------------------------------------------------
    def node_at(self, scene_x: float, scene_y: float) -> str | None:
        """The node under a point of the scene (in the widget's scene coordinates)."""
        geo = self.geometry_
        if geo is None:
            return None
        point = self.view.mapSceneToView(QPointF(scene_x, scene_y))
        index = self._nodes.index_at(point.x(), point.y())
        return None if index is None else geo.ids[index]

    def box_at(self, scene_x: float, scene_y: float) -> str | None:
        """The innermost open module call whose frame holds a point of the scene."""
        point = self.view.mapSceneToView(QPointF(scene_x, scene_y))
        return self._boxes.call_at(point.x(), point.y())

    def _on_scene_clicked(self, event: Any) -> None:
        x, y = event.scenePos().x(), event.scenePos().y()
        node = self.node_at(x, y)
        if event.double():
            shown = self.model.shown
            if node is not None and shown is not None and node in shown.members:
                self.model.expand(node)
                return
            if node is None and (call := self.box_at(x, y)) is not None:
                self.model.collapse(call)
                return
            if node is not None:
                self.node_activated.emit(node)
        self.model.select(node)

    def _on_scene_moved(self, position: QPointF) -> None:
        shown = self.model.shown
        node = self.node_at(position.x(), position.y())
        if node is None or shown is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), labels.tooltip(shown.graph.nodes[node]), self)

    def keyPressEvent(self, event: Any) -> None:
        """Arrows step, Home/End jump, Space plays, F fits, Z zooms to the selection,
        Escape clears the selection."""
        model = self.model
        keys = {
            Qt.Key.Key_Right: model.step_forward, Qt.Key.Key_Left: model.step_back,
            Qt.Key.Key_Home: model.to_start, Qt.Key.Key_End: model.to_end,
            Qt.Key.Key_Space: model.toggle_play, Qt.Key.Key_F: self.fit,
            Qt.Key.Key_Z: self.zoom_to_selection,
            Qt.Key.Key_Escape: lambda: model.select(None),
        }  # fmt: skip
        action = keys.get(Qt.Key(event.key()))
        if action is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
            return
        action()
        event.accept()


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
        self.setPen(_pen(theme.flow, 1.0))
        self.setPos(x, y)
        self._text.setTransform(QTransform.fromScale(factor, -factor))
        self._text.setPos(-width / 2, height * 0.4)


def _remove(item: QGraphicsItem) -> None:
    item.setParentItem(None)
    if item.scene() is not None:
        item.scene().removeItem(item)


def _pen(color: str, width: float) -> QPen:
    pen = QPen(QColor(color))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen
