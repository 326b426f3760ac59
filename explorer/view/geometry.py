"""Where nodes, cards and edges go in the scene, from the layout: numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.data.nodes import AutogradGraph

CARD_W, CARD_H = 2.2, 1.1  # a node's card, in scene units
GAP_ALONG, GAP_ACROSS = 2.0, 3.1  # layer distance, distance between neighbours in a layer
STUB_SIZE = 0.32
ARROW = 0.18


@dataclass
class PathArrays:
    """Points of many polylines in one array, ready for one QPainterPath.

    connect[i] says whether point i joins point i + 1; owner[i] is the polyline it belongs to,
    so any subset of the polylines is a mask away.
    """

    x: np.ndarray
    y: np.ndarray
    connect: np.ndarray
    owner: np.ndarray

    def subset(self, chosen: np.ndarray | None) -> PathArrays:
        """Only the polylines whose index is in chosen (a boolean mask over polylines)."""
        if chosen is None:
            return self
        keep = chosen[self.owner]
        return PathArrays(self.x[keep], self.y[keep], self.connect[keep], self.owner[keep])


@dataclass
class Geometry:
    """Scene positions for one graph, in one direction."""

    ids: list[str]
    index: dict[str, int]
    pos: np.ndarray  # (n, 2) card centres
    upward: bool  # True: inputs at the bottom, flow upward; False: left to right
    edge_keys: list[tuple[str, str, int]]
    # every edge as a polyline from tail to head, all in one array: edge i is
    # points[offsets[i]:offsets[i + 1]], with its bends in between
    edge_flat: np.ndarray  # (p, 2)
    edge_offsets: np.ndarray  # (e + 1,)
    stub_pos: np.ndarray  # (s, 2): faded stubs for inputs that need no gradient
    stub_lines: np.ndarray  # (s, 2, 2)
    stub_owner: list[tuple[str, int]]  # (op node, slot) of each stub

    def __post_init__(self) -> None:
        self.edge_index = {key: i for i, key in enumerate(self.edge_keys)}
        self._arrows: PathArrays | None = None
        self._bare: PathArrays | None = None
        self._bounds: tuple[float, float, float, float] | None = None

    def edge_line(self, i: int) -> np.ndarray:
        return self.edge_flat[self.edge_offsets[i] : self.edge_offsets[i + 1]]

    def arrows(self) -> PathArrays:
        """Every edge with an arrowhead at its end, laid out once."""
        if self._arrows is None:
            self._arrows = _arrow_arrays(self.edge_flat, self.edge_offsets)
        return self._arrows

    def bare(self) -> PathArrays:
        """Every edge without arrowheads."""
        if self._bare is None:
            self._bare = _bare_arrays(self.edge_flat, self.edge_offsets)
        return self._bare

    def edge_boxes(self) -> np.ndarray:
        """(e, 4): x0, y0, x1, y1 around each edge's polyline, arrowhead included."""
        return _boxes(self.edge_flat, self.edge_offsets, ARROW)

    def stub_boxes(self) -> np.ndarray:
        lines = self.stub_lines.reshape(-1, 2)
        return _boxes(lines, np.arange(0, len(lines) + 1, 2), 0.0)

    def stub_arrays(self) -> PathArrays:
        lines = self.stub_lines.reshape(-1, 2)
        return _bare_arrays(lines, np.arange(0, len(lines) + 1, 2))

    def bounds(self) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 around every card and edge (computed once)."""
        if self._bounds is None:
            self._bounds = self._measure()
        return self._bounds

    def _measure(self) -> tuple[float, float, float, float]:
        if not len(self.pos):
            return (-1.0, -1.0, 1.0, 1.0)
        low = self.pos.min(axis=0) - np.array([CARD_W, CARD_H])
        high = self.pos.max(axis=0) + np.array([CARD_W, CARD_H])
        if len(self.edge_flat):  # routes may swing wider than the cards
            low = np.minimum(low, self.edge_flat.min(axis=0))
            high = np.maximum(high, self.edge_flat.max(axis=0))
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def build(
    graph: AutogradGraph,
    layout: dict[str, tuple[float, float]],
    upward: bool,
    routes: dict[tuple[str, str, int], list[tuple[float, float]]] | None = None,
) -> Geometry:
    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    raw = np.array([layout.get(n, (0.0, 0.0)) for n in ids], dtype=float).reshape(-1, 2)
    pos = _scene(raw, upward)
    keys, flat, offsets = _edges(graph, index, pos, upward, routes or {})
    stub_pos, stub_lines, owners = _stubs(graph, index, pos, upward)
    return Geometry(ids, index, pos, upward, keys, flat, offsets, stub_pos, stub_lines, owners)


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
    """All edges' polylines in one array: tail, bends, head; parallel edges side by side."""
    keys = list(graph.edges(keys=True))
    out, into = _exit_and_entry(upward)
    across = np.array([1.0, 0.0]) if upward else np.array([0.0, 1.0])
    parallel: dict[tuple[str, str], int] = {}
    rank = np.zeros(len(keys))  # which of its parallel edges each one is
    for i, (source, target, _slot) in enumerate(keys):
        rank[i] = parallel.get((source, target), 0)
        parallel[(source, target)] = int(rank[i]) + 1
    count = np.array([parallel[(u, v)] for u, v, _ in keys], dtype=float)
    shift = across[None, :] * ((rank - (count - 1) / 2) * 0.35)[:, None]
    tails = np.array([index[u] for u, _, _ in keys], dtype=np.int64)
    heads = np.array([index[v] for _, v, _ in keys], dtype=np.int64)
    bends = [routes.get(key, ()) for key in keys]
    sizes = np.array([len(b) + 2 for b in bends], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    flat = np.zeros((int(offsets[-1]), 2))
    if not keys:
        return keys, flat, offsets
    flat[offsets[:-1]] = pos[tails] + out + shift
    flat[offsets[1:] - 1] = pos[heads] + into + shift
    inner = [point for b in bends for point in b]
    if inner:
        owner = np.repeat(np.arange(len(keys)), sizes - 2)
        slots = np.concatenate([np.arange(1, n - 1) for n in sizes]) + offsets[owner]
        flat[slots] = _scene(np.array(inner, dtype=float), upward) + shift[owner]
    return keys, flat, offsets


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
    for node, attrs in graph.nodes(data=True):
        for k, slot in enumerate(attrs.const_slots or ()):
            anchor = pos[index[node]] + corner
            centre = anchor + first + step * k
            owners.append((node, slot))
            points.append(centre)
            lines.append(np.array([centre, anchor]))
    if not points:
        return np.zeros((0, 2)), np.zeros((0, 2, 2)), owners
    return np.array(points), np.array(lines), owners


def _arrow_arrays(flat: np.ndarray, offsets: np.ndarray) -> PathArrays:
    """Each polyline, then its arrowhead (left wing, tip, right wing), all vectorised."""
    count = len(offsets) - 1
    if not count:
        return _bare_arrays(flat, offsets)
    sizes = np.diff(offsets)
    ends = offsets[1:] - 1
    left, right = _arrowheads(flat[ends - 1], flat[ends])
    out_offsets = np.concatenate([[0], np.cumsum(sizes + 3)])
    owner = np.repeat(np.arange(count), sizes)
    points = np.zeros((int(out_offsets[-1]), 2))
    points[np.arange(len(flat)) + 3 * owner] = flat
    wing = out_offsets[1:] - 3
    points[wing], points[wing + 1], points[wing + 2] = left, flat[ends], right
    connect = np.ones(len(points), dtype=bool)
    connect[wing - 1] = False  # from the polyline's end, no line to the left wing
    connect[wing + 2] = False  # nor from the right wing to the next polyline
    return PathArrays(points[:, 0], points[:, 1], connect, np.repeat(np.arange(count), sizes + 3))


def _boxes(flat: np.ndarray, offsets: np.ndarray, pad: float) -> np.ndarray:
    if len(offsets) < 2:
        return np.zeros((0, 4))
    starts = offsets[:-1]
    low = np.minimum.reduceat(flat, starts, axis=0) - pad
    high = np.maximum.reduceat(flat, starts, axis=0) + pad
    return np.column_stack([low, high])


def _bare_arrays(flat: np.ndarray, offsets: np.ndarray) -> PathArrays:
    """The polylines alone."""
    connect = np.ones(len(flat), dtype=bool)
    connect[offsets[1:] - 1] = False  # no line on to the next polyline
    owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return PathArrays(flat[:, 0].copy(), flat[:, 1].copy(), connect, owner)


def _arrowheads(before: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    direction = end - before
    length = np.linalg.norm(direction, axis=-1, keepdims=True)
    unit = direction / np.where(length == 0, 1, length)
    normal = np.stack([-unit[..., 1], unit[..., 0]], axis=-1)
    return end - unit * ARROW + normal * ARROW * 0.6, end - unit * ARROW - normal * ARROW * 0.6
