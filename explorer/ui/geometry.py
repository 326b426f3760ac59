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
    edge_lines: np.ndarray  # (e, 2, 2): start and end of each edge
    stub_pos: np.ndarray  # (s, 2): faded stubs for inputs that need no gradient
    stub_lines: np.ndarray  # (s, 2, 2)
    stub_owner: list[tuple[str, int]]  # (op node, slot) of each stub

    def bounds(self) -> tuple[float, float, float, float]:
        if not len(self.pos):
            return (-1.0, -1.0, 1.0, 1.0)
        low = self.pos.min(axis=0) - np.array([CARD_W, CARD_H])
        high = self.pos.max(axis=0) + np.array([CARD_W, CARD_H])
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def build(graph: nx.MultiDiGraph, layout: dict[str, tuple[float, float]], upward: bool) -> Geometry:
    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    raw = np.array([layout.get(n, (0.0, 0.0)) for n in ids], dtype=float).reshape(-1, 2)
    if upward:
        pos = np.column_stack([raw[:, 0] * GAP_ACROSS, raw[:, 1] * GAP_ALONG])
    else:
        pos = np.column_stack([raw[:, 1] * GAP_ACROSS, -raw[:, 0] * GAP_ALONG])
    keys, lines = _edges(graph, index, pos, upward)
    stub_pos, stub_lines, owners = _stubs(graph, index, pos, upward)
    return Geometry(ids, index, pos, upward, keys, lines, stub_pos, stub_lines, owners)


def _exit_and_entry(upward: bool) -> tuple[np.ndarray, np.ndarray]:
    """Offsets from a card's centre to where edges leave it and arrive at it."""
    if upward:
        return np.array([0.0, CARD_H / 2]), np.array([0.0, -CARD_H / 2])
    return np.array([CARD_W / 2, 0.0]), np.array([-CARD_W / 2, 0.0])


def _edges(graph, index, pos, upward):
    keys = list(graph.edges(keys=True))
    out, into = _exit_and_entry(upward)
    across = np.array([1.0, 0.0]) if upward else np.array([0.0, 1.0])
    lines = np.zeros((len(keys), 2, 2))
    parallel: dict[tuple[str, str], int] = {}
    for source, target, _slot in keys:
        parallel[(source, target)] = parallel.get((source, target), 0) + 1
    seen: dict[tuple[str, str], int] = {}
    for i, (source, target, _slot) in enumerate(keys):
        count = parallel[(source, target)]
        k = seen.get((source, target), 0)
        seen[(source, target)] = k + 1
        shift = across * (k - (count - 1) / 2) * 0.35
        lines[i, 0] = pos[index[source]] + out + shift
        lines[i, 1] = pos[index[target]] + into + shift
    return keys, lines


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


def arrow_path_arrays(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and connect arrays drawing each line with a small arrowhead at its end."""
    if not len(lines):
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
    start, end = lines[:, 0], lines[:, 1]
    direction = end - start
    length = np.linalg.norm(direction, axis=1, keepdims=True)
    unit = direction / np.where(length == 0, 1, length)
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    left = end - unit * ARROW + normal * ARROW * 0.6
    right = end - unit * ARROW - normal * ARROW * 0.6
    # each edge: start-end, then left-end-right; a gap after each
    points = np.stack([start, end, left, end, right], axis=1).reshape(-1, 2)
    connect = np.tile(np.array([1, 0, 1, 1, 0], dtype=bool), len(lines))
    return points[:, 0], points[:, 1], connect
