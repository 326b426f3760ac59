"""What the page draws: the graph as the window opens it, and its cards, edges and frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.data.snapshot import Snapshot
from explorer.view import geometry
from explorer.view.calls import CallTree, Shown
from explorer.view.geometry import Geometry


@dataclass
class Scene:
    """The drawn graph (module calls collapsed and folded as the window opens them) and where
    every card, edge and frame goes, in the window's scene units (y up)."""

    tree: CallTree
    shown: Shown
    geo: Geometry
    cards: list[str]  # drawn card ids, in drawing order
    card_index: dict[str, int]
    frames: list[tuple[str, int, np.ndarray]]  # (label, depth, x0 y0 x1 y1) of open calls


FRAME_PAD = 0.3  # as the window's frames: scene units per level of nesting
FRAME_NAME = 0.34


def scene_of(snapshot: Snapshot) -> Scene:
    tree = CallTree(snapshot)
    collapsed = tree.initial_collapsed()
    shown = tree.shown(collapsed, fold=bool(collapsed))
    geo = geometry.build(shown.graph, shown.layout, upward=True, routes=shown.routes)
    cards = list(geo.ids)
    return Scene(tree, shown, geo, cards, dict(geo.index), _frames(shown, geo))


def _frames(shown: Shown, geo: Geometry) -> list[tuple[str, int, np.ndarray]]:
    """Each open call's frame around its cards, outer ones a little wider, as the window's."""
    if not shown.frames:
        return []
    deepest = max(frame.depth for frame in shown.frames)
    half = np.array([geometry.CARD_W / 2, geometry.CARD_H / 2])
    out = []
    for frame in shown.frames:
        where = [geo.index[m] for m in frame.members if m in geo.index]
        if not where:
            continue
        points = geo.pos[where]
        pad = FRAME_PAD * (1 + deepest - frame.depth)
        low = points.min(axis=0) - half - pad
        high = points.max(axis=0) + half + pad + np.array([0.0, FRAME_NAME])
        out.append((frame.label, frame.depth, np.concatenate([low, high])))
    out.sort(key=lambda item: item[1])  # outer frames first, under the inner ones
    return out


def bounds(scene: Scene) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 around cards, edges, constants and frames."""
    x0, y0, x1, y1 = scene.geo.bounds()
    boxes = [np.array([[x0, y0, x1, y1]])]
    if scene.frames:
        boxes.append(np.array([rect for _, _, rect in scene.frames]))
    if len(scene.geo.stub_pos):
        stubs = scene.geo.stub_pos
        boxes.append(np.column_stack([stubs - 0.3, stubs + np.array([1.2, 0.3])]))
    every = np.vstack(boxes)
    return (
        float(every[:, 0].min()),
        float(every[:, 1].min()),
        float(every[:, 2].max()),
        float(every[:, 3].max()),
    )
