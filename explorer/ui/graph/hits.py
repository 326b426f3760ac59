"""What is under the mouse: the card or module frame at a point, clicks and hover tooltips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip

from explorer.view import labels, step_style

if TYPE_CHECKING:
    from explorer.ui.graph.view import GraphView


def node_at(view: GraphView, scene_x: float, scene_y: float) -> str | None:
    """The node under a point of the scene (in the widget's scene coordinates)."""
    geo = view.geometry_
    if geo is None:
        return None
    point = view.view.mapSceneToView(QPointF(scene_x, scene_y))
    index = view.layers.nodes.index_at(point.x(), point.y())
    return None if index is None else geo.ids[index]


def frame_at(view: GraphView, scene_x: float, scene_y: float) -> str | None:
    """The innermost open module call whose frame holds a point of the scene."""
    point = view.view.mapSceneToView(QPointF(scene_x, scene_y))
    return view.layers.frames.call_at(point.x(), point.y())


def clicked(view: GraphView, event: Any) -> None:
    """A click selects; a double click opens a card, closes a frame or activates a node."""
    model = view.model
    x, y = event.scenePos().x(), event.scenePos().y()
    node = node_at(view, x, y)
    if event.double():
        shown = model.shown
        if node is not None and shown is not None and node in shown.members:
            model.expand(node)
            return
        if node is None and (call := frame_at(view, x, y)) is not None:
            model.collapse(call)
            return
        if node is not None:
            view.node_activated.emit(node)
    model.select(node)


def hovered(view: GraphView, position: QPointF) -> None:
    """The tooltip of the node under the mouse, or none."""
    text = tooltip_at(view, position.x(), position.y())
    if text is None:
        QToolTip.hideText()
        return
    QToolTip.showText(QCursor.pos(), text, view)


def tooltip_at(view: GraphView, scene_x: float, scene_y: float) -> str | None:
    """The whole of what the card at a point says, with its gradient at the current step."""
    model = view.model
    node = node_at(view, scene_x, scene_y)
    if node is None or model.shown is None:
        return None
    grad = step_style.node_grads(model.replay, model.cursor, [node]).get(node)
    return labels.tooltip(model.shown.graph.nodes[node], grad)
