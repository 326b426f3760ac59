"""Per-step looks of the graph: fills and outlines of cards, and which edges are lit.

Highlighting restyles the batched items the view built; nothing is rebuilt on a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from explorer.ui.graph.edges_item import EdgesItem
from explorer.ui.graph.frames_item import FramesItem
from explorer.ui.graph.nodes_item import NodesItem
from explorer.ui.model import ExplorerModel
from explorer.view import grad_scale, step_style
from explorer.view.geometry import Geometry
from explorer.view.replay import Cursor, StepView

HAIRLINE_EDGES = 1500  # more edges than this are drawn one pixel wide
FLOW_WINDOW = 400  # steps between redraws of the edges that carried gradient earlier


@dataclass
class Layers:
    """The batched items the graph is drawn with, bottom to top."""

    frames: FramesItem
    edges: EdgesItem
    stub_lines: EdgesItem
    # Edges that carried gradient: those sent up to a recent step (redrawn now and then)
    # and those sent since (a few, redrawn each step), so a step repaints little.
    flow_before: EdgesItem
    flow: EdgesItem
    active_edges: EdgesItem
    nodes: NodesItem
    stubs: NodesItem
    # with Colour by Gradient Size: the edges that carried gradient, a layer per size
    sized: list[EdgesItem]

    def cached(self) -> list[Any]:
        """The layers Qt may cache as pixmaps."""
        edges = [self.edges, self.stub_lines, self.flow_before, self.flow, self.active_edges]
        return [*edges, *self.sized, self.nodes, self.frames]


class Styler:
    """Restyles the layers from the model's cursor, selection and theme."""

    def __init__(self, model: ExplorerModel, layers: Layers) -> None:
        self.model = model
        self.layers = layers
        self.geo: Geometry | None = None
        self._brushes: dict[str, QBrush] = {}
        self._pens: dict[str, QPen] = {}
        self._stub_pen = QPen()
        self._stub_style = 0
        self._memory_scale: grad_scale.Scale | None = None  # of the memory lens, per graph
        self._lit = np.zeros(0, dtype=bool)  # mask over drawn edges: carried gradient so far
        self._before = np.zeros(0, dtype=bool)  # ... sent up to the split step
        self._flow_split: tuple[int, int] | None = None  # (pass, last step) drawn "before"
        self._shown_cursor: Cursor | None = None  # the replay cursor the scene shows
        self.active_shown: str | None = None  # the running node's card as last styled
        self._selected_shown: str | None = None

    # -- what is drawn -------------------------------------------------------------------
    def look(self, node: str) -> tuple[str, str] | None:
        """A drawn card's fill and outline colours (#rrggbb), or None if it is not drawn."""
        geo = self.geo
        if geo is None or node not in geo.index:
            return None
        return self.layers.nodes.look(geo.index[node])

    def lit_edges(self) -> set[tuple[str, str, int]]:
        """The edges drawn as having carried gradient (including the ones sent just now)."""
        geo = self.geo
        if geo is None:
            return set()
        return {geo.edge_keys[i] for i in np.flatnonzero(self._lit)}

    # -- building and theme --------------------------------------------------------------
    def set_geometry(self, geo: Geometry | None) -> None:
        """A new graph: its edge pens, its constants' stubs, nothing lit yet."""
        self.geo = geo
        if geo is None:
            return
        self.set_edge_pens()
        self._flow_split = None
        count = len(geo.stub_pos)
        self.layers.stubs.set_styles(list(range(count)), [self._stub_style] * count)
        self._shown_cursor = self.model.cursor

    def set_theme(self) -> None:
        theme, layers = self.model.theme, self.layers
        self._brushes.clear()
        self._stub_pen = pen(theme.edge_faded, 1.0)
        self.set_edge_pens()
        layers.stubs.reset_styles()
        self._stub_style = layers.stubs.style_id(self._brush(theme.const), self._stub_pen)
        count = len(self.geo.stub_pos) if self.geo is not None else 0
        layers.stubs.set_styles(list(range(count)), [self._stub_style] * count)
        layers.nodes.reset_styles()
        wide = theme.line_scale
        self._pens = {
            "normal": pen(theme.edge, 1.3 * wide),
            "running": pen(theme.active, 4.0 * wide),
            "selected": pen(theme.selection, 4.0 * wide),
            "nonfinite": pen(theme.error, 4.0 * wide, Qt.PenStyle.DashLine),
            "call": pen(theme.call_frame, 2.2 * wide),
        }

    def set_edge_pens(self) -> None:
        """Bold lines for a graph one can read; hairlines for thousands of edges.

        Qt draws a one-pixel cosmetic line on a fast path; wider ones are stroked, which
        costs about twenty times as much once there are thousands of them.
        """
        theme, layers = self.model.theme, self.layers
        many = self.geo is not None and len(self.geo.edge_keys) > HAIRLINE_EDGES
        wide = theme.line_scale
        layers.edges.setPen(pen(theme.edge, 1.0 if many else 1.4 * wide))
        dashed = pen(theme.edge_faded, 1.0 if many else 1.2 * wide)
        dashed.setStyle(Qt.PenStyle.DashLine)
        layers.stub_lines.setPen(dashed)
        layers.flow.setPen(pen(theme.flow, 1.0 if many else 3.2 * wide))
        layers.flow_before.setPen(layers.flow.pen())
        layers.active_edges.setPen(pen(theme.active, 4.5 * wide))
        for k, item in enumerate(layers.sized):
            item.setPen(pen(grad_scale.bin_colour(k, theme), 1.0 if many else 3.2 * wide))

    def _brush(self, color: str) -> QBrush:
        brush = self._brushes.get(color)
        if brush is None:
            brush = self._brushes[color] = QBrush(QColor(color))
        return brush

    # -- stepping ------------------------------------------------------------------------
    def moved_nodes(self) -> set[str] | None:
        """Cards whose look changes between the cursor shown and the model's; None: all."""
        model, before = self.model, self._shown_cursor
        self._shown_cursor = model.cursor
        return step_style.moved_cards(
            model.replay, before, model.cursor, model.shown, self.active_shown
        )

    def selection_moved(self, node: object) -> set[str]:
        """The cards a new selection restyles: the one selected before and node."""
        return {self._selected_shown, node} - {None}  # type: ignore[return-value]

    def restyle_edges(self) -> None:
        """Light the edges that carried gradient so far, and those the running node sends.

        Gradient flows along the edges sent by every step up to the cursor. Those sent up to
        a split step are drawn as one layer, redrawn only when the cursor leaves the window
        of FLOW_WINDOW steps after the split; the few sent since are redrawn each step.
        """
        geo, replay, cursor, layers = self.geo, self.model.replay, self.model.cursor, self.layers
        assert geo is not None
        count = len(geo.edge_keys)
        if replay is None or not 0 <= cursor.pass_index < len(replay.passes):
            self._lit = np.zeros(count, dtype=bool)
            for item in (layers.flow_before, layers.flow, layers.active_edges, *layers.sized):
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
            layers.flow_before.show_only(self._before)
        since = self._sent_mask(steps[split[1] + 1 : max(at, split[1] + 1)])
        active = self._sent_mask(steps[at : at + 1] if at >= 0 else [])
        layers.flow.show_only(since & ~active)
        layers.active_edges.show_only(active)
        self._lit = self._before | since | active
        self._size_edges(since & ~active)

    def _size_edges(self, since: np.ndarray) -> None:
        """With Colour by Gradient Size: the lit edges (but the running node's) drawn in their
        size's colour instead; since: those lit after the split step."""
        layers, model, geo = self.layers, self.model, self.geo
        lit = self._before | since
        bins = np.full(len(lit), -1)
        if model.grad_lens and model.replay is not None and geo is not None and lit.any():
            scale = model.replay.grad_norms(model.cursor.pass_index)[1]
            grads = step_style.drawn_edge_grads(model.shown, model.step_view())
            for edge, grad in grads.items():
                index = geo.edge_index.get(edge)
                norm = grad_scale.summary_norm(grad)
                if index is not None and lit[index] and norm is not None:
                    bins[index] = grad_scale.edge_bin(norm, scale)
            sized = bins >= 0
            layers.flow_before.show_only(self._before & ~sized)
            layers.flow.show_only(since & ~sized)
        for k, item in enumerate(layers.sized):
            item.show_only(bins == k)

    def _sent_mask(self, steps: list) -> np.ndarray:
        geo, replay, shown = self.geo, self.model.replay, self.model.shown
        assert geo is not None and replay is not None and shown is not None
        return step_style.sent_mask(replay, shown, geo.edge_index, steps)

    def restyle_nodes(self, changed: set[str] | None) -> None:
        """Set fill and outline of the changed nodes (all when None), then repaint once."""
        geo, shown = self.geo, self.model.shown
        if self.model.memory_lens and changed is None:
            self._memory_scale = self.model.memory_scale()
        if geo is None or shown is None or not len(geo.ids):
            return
        step = self.model.step_view()
        nodes = geo.ids if changed is None else [n for n in changed if n in geo.index]
        indices, styles = [], []
        for node in nodes:
            indices.append(geo.index[node])
            styles.append(self._card_style(node, step))
        self.layers.nodes.set_styles(indices, styles)
        self.active_shown = None if step.active is None else shown.visible(step.active)
        self._selected_shown = self.model.selected

    def _card_style(self, node: str, step: StepView) -> int:
        model = self.model
        assert model.shown is not None
        attrs = model.shown.graph.nodes[node]
        if attrs.kind == "call":
            return self._call_style(node, step)
        fill = step_style.card_fill(attrs, node, step)
        if model.grad_lens and node in step.done and model.replay is not None:
            norms, scale = model.replay.grad_norms(model.cursor.pass_index)
            if node in norms:
                fill = grad_scale.fill(norms[node], scale, model.theme)
        elif model.time_lens and node in step.done and model.replay is not None:
            seconds, scale = model.replay.step_seconds(model.cursor.pass_index)
            if node in seconds:
                fill = grad_scale.fill(seconds[node], scale, model.theme)
        elif model.memory_lens and attrs.saved_bytes:
            fill = grad_scale.fill(float(attrs.saved_bytes), self._memory_scale, model.theme)
        outline = step_style.card_outline(node, step, model.selected)
        return self._style(fill, outline)

    def _call_style(self, card: str, step: StepView) -> int:
        """A module card: lit while a node inside runs, "ran" once all of them have."""
        model = self.model
        assert model.shown is not None
        span = model.span(card)
        fill = step_style.call_fill(card, step, model.shown, span, model.cursor.step_index)
        outline = step_style.call_outline(card, step, model.shown, model.selected)
        return self._style(fill, outline)

    def _style(self, fill: str, outline: str) -> int:
        """fill is a Theme colour's name, or a colour (#rrggbb) of the gradient-size scale."""
        color = fill if fill.startswith("#") else getattr(self.model.theme, fill)
        return self.layers.nodes.style_id(self._brush(color), self._pens[outline])


def pen(color: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A cosmetic pen (as wide on screen at any zoom) with round ends and joins."""
    line = QPen(QColor(color))
    line.setStyle(style)
    line.setWidthF(width)
    line.setCosmetic(True)
    line.setCapStyle(Qt.PenCapStyle.RoundCap)
    line.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return line
