"""Where nodes, cards and edges go in the scene, from the layout: numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

CARD_W, CARD_H = 2.2, 1.1  # a node's card, in scene units
GAP_ALONG, GAP_ACROSS = 2.0, 3.1  # layer distance, distance between neighbours in a layer
STUB_SIZE = 0.32
ARROW = 0.18


@dataclass
class Geometry:
    """Scene positions for one graph, in one direction."""

    ids: list[str]
    index: dict[str, int]
    pos: np.ndarray  # (n, 2) card centres
    upward: bool  # True: inputs at the bottom, flow upward; False: left to right
    edge_keys: list[tuple[str, str, int]]
    edge_points: list[np.ndarray]  # each edge as a polyline (k, 2), bends in between
    stub_pos: np.ndarray  # (s, 2): faded stubs for inputs that need no gradient
    stub_lines: np.ndarray  # (s, 2, 2)
    stub_owner: list[tuple[str, int]]  # (op node, slot) of each stub

    def bounds(self) -> tuple[float, float, float, float]:
        if not len(self.pos):
            return (-1.0, -1.0, 1.0, 1.0)
        low = self.pos.min(axis=0) - np.array([CARD_W, CARD_H])
        high = self.pos.max(axis=0) + np.array([CARD_W, CARD_H])
        bent = [p for p in self.edge_points if len(p) > 2]  # routes may swing wider than cards
        if bent:
            points = np.vstack(bent)
            low, high = np.minimum(low, points.min(axis=0)), np.maximum(high, points.max(axis=0))
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def build(
    graph: nx.MultiDiGraph,
    layout: dict[str, tuple[float, float]],
    upward: bool,
    routes: dict[tuple[str, str, int], list[tuple[float, float]]] | None = None,
) -> Geometry:
    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    raw = np.array([layout.get(n, (0.0, 0.0)) for n in ids], dtype=float).reshape(-1, 2)
    pos = _scene(raw, upward)
    keys, lines = _edges(graph, index, pos, upward, routes or {})
    stub_pos, stub_lines, owners = _stubs(graph, index, pos, upward)
    return Geometry(ids, index, pos, upward, keys, lines, stub_pos, stub_lines, owners)


def _scene(raw: np.ndarray, upward: bool) -> np.ndarray:
    """Layout units (x across a layer, y = layer) to scene units in the chosen direction."""
    if upward:
        return np.column_stack([raw[:, 0] * GAP_ACROSS, raw[:, 1] * GAP_ALONG])
    return np.column_stack([raw[:, 1] * GAP_ACROSS, -raw[:, 0] * GAP_ALONG])


def _exit_and_entry(upward: bool) -> tuple[np.ndarray, np.ndarray]:
    """Offsets from a card's centre to where edges leave it and arrive at it."""
    if upward:
        return np.array([0.0, CARD_H / 2]), np.array([0.0, -CARD_H / 2])
    return np.array([CARD_W / 2, 0.0]), np.array([-CARD_W / 2, 0.0])


def _edges(graph, index, pos, upward, routes):
    keys = list(graph.edges(keys=True))
    out, into = _exit_and_entry(upward)
    across = np.array([1.0, 0.0]) if upward else np.array([0.0, 1.0])
    parallel: dict[tuple[str, str], int] = {}
    for source, target, _slot in keys:
        parallel[(source, target)] = parallel.get((source, target), 0) + 1
    seen: dict[tuple[str, str], int] = {}
    polylines: list[np.ndarray] = []
    for key in keys:
        source, target, _slot = key
        count = parallel[(source, target)]
        k = seen.get((source, target), 0)
        seen[(source, target)] = k + 1
        shift = across * (k - (count - 1) / 2) * 0.35
        bends = routes.get(key)
        middle = _scene(np.array(bends, dtype=float), upward) if bends else np.zeros((0, 2))
        start = pos[index[source]] + out + shift
        end = pos[index[target]] + into + shift
        polylines.append(np.vstack([start, middle + shift, end]))
    return keys, polylines


def midpoint(points: np.ndarray) -> np.ndarray:
    """Where a label sits on a polyline: the middle of its middle segment."""
    middle = (len(points) - 1) // 2
    return (points[middle] + points[middle + 1]) / 2


def _stubs(graph, index, pos, upward):
    """A faded dot beside each op for every input that needs no gradient."""
    owners: list[tuple[str, int]] = []
    points: list[np.ndarray] = []
    lines: list[np.ndarray] = []
    if upward:
        corner = np.array([CARD_W / 2, -CARD_H / 2])
        first, step = np.array([0.35, -0.3]), np.array([0.45, 0.0])
    else:
        corner = np.array([-CARD_W / 2, -CARD_H / 2])
        first, step = np.array([-0.3, -0.35]), np.array([0.0, -0.45])
    for node, slots in graph.nodes(data="const_slots"):
        for k, slot in enumerate(slots or ()):
            anchor = pos[index[node]] + corner
            centre = anchor + first + step * k
            owners.append((node, slot))
            points.append(centre)
            lines.append(np.array([centre, anchor]))
    if not points:
        return np.zeros((0, 2)), np.zeros((0, 2, 2)), owners
    return np.array(points), np.array(lines), owners


def arrow_path_arrays(polylines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and connect arrays drawing each polyline with a small arrowhead at its end."""
    straight = [p for p in polylines if len(p) == 2]
    bent = [p for p in polylines if len(p) > 2]
    parts = [_straight_arrays(np.array(straight).reshape(-1, 2, 2))]
    parts += [_bent_arrays(points) for points in bent]
    points = np.vstack([p for p, _ in parts])
    connect = np.concatenate([c for _, c in parts])
    return points[:, 0], points[:, 1], connect


def _arrowheads(before: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    direction = end - before
    length = np.linalg.norm(direction, axis=-1, keepdims=True)
    unit = direction / np.where(length == 0, 1, length)
    normal = np.stack([-unit[..., 1], unit[..., 0]], axis=-1)
    return end - unit * ARROW + normal * ARROW * 0.6, end - unit * ARROW - normal * ARROW * 0.6


def _straight_arrays(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many two-point edges at once: start-end, then left-end-right; a gap after each."""
    start, end = lines[:, 0], lines[:, 1]
    left, right = _arrowheads(start, end)
    points = np.stack([start, end, left, end, right], axis=1).reshape(-1, 2)
    return points, np.tile(np.array([1, 0, 1, 1, 0], dtype=bool), len(lines))


def _bent_arrays(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    left, right = _arrowheads(points[-2], points[-1])
    connect = np.ones(len(points) + 3, dtype=bool)
    connect[len(points) - 1] = False
    connect[-1] = False
    return np.vstack([points, left, points[-1], right]), connect
