"""Benchmark: capture and layout of real models' graphs, and graphviz dot on the same DAGs.

Prints per graph: nodes, edges, capture and layout seconds, crossings of our layout, and
(when graphviz's `dot` is installed) dot's time and crossings, with a time limit, and how
many times longer dot took than our layout. bench/bench_window.py opens the same models in the
window (first paint, a step's update, frames per second, peak memory).
Asserts nothing. Usage: python bench/bench_models.py [--dot-seconds N] [--only NAME]

Crossings are those of the edges as drawn, counted the same way on both sides (see
crossings()): ours run through the layout's bend points (an edge without a route is a
straight line), dot's through the control points of its splines from `dot -Tplain`, taken
as a polyline (close to the B-spline they define), each from node centre to node centre.
Above CROSSINGS_MAX_EDGES edges, or too many pieces to compare, it prints "not counted".
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx
import numpy as np
import torch
from torch import nn

from explorer.data.export import to_dot
from explorer.graph.capture import GraphCapture
from explorer.layout.sugiyama import Layout, layered


class _NoNames:
    def leaf_name(self, tensor):
        return None

    def output_name(self, node):
        return None

    def output_value(self, node):
        return None

    def module_path(self, node):
        return None


def mlp() -> torch.Tensor:
    model = nn.Sequential(
        nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
    )
    return model(torch.randn(8, 20)).sum()


def convnet() -> torch.Tensor:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )  # fmt: skip
    return nn.functional.cross_entropy(model(torch.randn(4, 1, 14, 14)), torch.tensor([1, 2, 3, 4]))


def transformer(layers: int) -> Callable[[], torch.Tensor]:
    def build() -> torch.Tensor:
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0)
        encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        return encoder(torch.randn(10, 2, 32)).sum()

    return build


def dense_block(steps: int = 120) -> Callable[[], torch.Tensor]:
    """Each step reads the concatenation of all earlier outputs: O(steps²) edges."""

    def build() -> torch.Tensor:
        features = [torch.randn(1, 4, requires_grad=True)]
        for _ in range(steps):
            features.append(torch.tanh(torch.cat(features, dim=1).sum(dim=1, keepdim=True) * 0.1))
        return torch.cat(features, dim=1).sum()

    return build


def lstm(steps: int) -> Callable[[], torch.Tensor]:
    def build() -> torch.Tensor:
        cell = nn.LSTMCell(10, 20)
        x = torch.randn(steps, 1, 10)
        h = c = torch.zeros(1, 20)
        for t in range(steps):
            h, c = cell(x[t], (h, c))
        return h.sum()

    return build


CORPUS: dict[str, Callable[[], torch.Tensor]] = {
    "mlp": mlp,
    "convnet": convnet,
    "transformer x6": transformer(6),
    "transformer x24": transformer(24),
    "dense concat x120": dense_block(120),
    "lstm cell x200": lstm(200),
    "lstm cell x2000": lstm(2000),
}


CROSSINGS_MAX_EDGES = 5_000  # larger graphs print "not counted"
CROSSINGS_MAX_PIECES = 3_000_000  # edge pieces after cutting at every bend height


def crossings(polylines: list[np.ndarray]) -> int | None:
    """Crossings between the drawn edges, each a polyline (k, 2) from tail to head.

    Every polyline is cut at each height where any node sits or any edge bends, so within
    one band between consecutive cut heights every edge piece is a straight segment; two
    pieces cross inside the band exactly when their x order at the band's bottom and at its
    top is strictly opposite. Two edges that meet exactly on a cut, both passing through
    it, cross there when their order just below and just above the cut is opposite. Meeting
    at a shared node is no crossing; two edges sharing an end but crossing elsewhere are.
    Edges drawn on top of each other (parallel edges sharing a route) never count.
    """
    if len(polylines) > CROSSINGS_MAX_EDGES:
        return None
    points = [np.asarray(line, dtype=float) for line in polylines]
    owner = np.repeat(np.arange(len(points)), [len(line) - 1 for line in points])
    start = np.concatenate([line[:-1] for line in points])
    end = np.concatenate([line[1:] for line in points])
    rising = (start[:, 1] <= end[:, 1])[:, None]
    low, high = np.where(rising, start, end), np.where(rising, end, start)
    keep = high[:, 1] > low[:, 1]  # a flat segment lies on a cut: it spans no band
    low, high, owner = low[keep], high[keep], owner[keep]
    cuts = np.unique(np.concatenate([low[:, 1], high[:, 1]]))
    first = np.searchsorted(cuts, low[:, 1])
    pieces = np.searchsorted(cuts, high[:, 1]) - first
    if pieces.sum() > CROSSINGS_MAX_PIECES:
        return None
    segment = np.repeat(np.arange(len(low)), pieces)
    band = np.repeat(first - np.cumsum(pieces) + pieces, pieces) + np.arange(pieces.sum())
    edge = owner[segment]
    bottom = _x_at(low[segment], high[segment], cuts[band])
    top = _x_at(low[segment], high[segment], cuts[band + 1])
    inside = _opposite_pairs(band, bottom, top) - _opposite_pairs(
        band * len(points) + edge, bottom, top
    )
    # An edge passing through a cut: one piece ends there and the same edge's next begins.
    through = np.flatnonzero((edge[:-1] == edge[1:]) & (band[1:] == band[:-1] + 1))
    _, at = np.unique(top[through], return_inverse=True)
    meeting = band[through] * (len(through) + 1) + at.ravel()  # same cut, same x
    on_cuts = _opposite_pairs(meeting, bottom[through], top[through + 1])
    return inside + on_cuts


def _x_at(low: np.ndarray, high: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x of each segment at height y, exactly the end's x at either end (so ties stay ties)."""
    t = (y - low[:, 1]) / (high[:, 1] - low[:, 1])
    inside = low[:, 0] + (high[:, 0] - low[:, 0]) * t
    return np.where(y == low[:, 1], low[:, 0], np.where(y == high[:, 1], high[:, 0], inside))


def _opposite_pairs(group: np.ndarray, bottom: np.ndarray, top: np.ndarray) -> int:
    """Pairs in one group whose bottom order and top order are strictly opposite."""
    _, bottom_rank = np.unique(bottom, return_inverse=True)
    _, top_rank = np.unique(top, return_inverse=True)
    # Sorted by bottom (ties by top, so tied bottoms never count), the answer is the number
    # of strict inversions of the top ranks within each group.
    order = np.lexsort((top_rank, bottom_rank, group))
    _, group_rank = np.unique(group, return_inverse=True)
    span = int(top_rank.max()) + 1 if len(top_rank) else 1
    return _inversions(group_rank[order].astype(np.int64) * span + top_rank[order])


def _inversions(values: np.ndarray) -> int:
    """Pairs i < j with values[i] > values[j]: a bottom-up merge sort, each level in numpy."""
    _, values = np.unique(values, return_inverse=True)  # dense ranks keep keys small
    count, total, width = len(values), 0, 1
    big = count + 1
    position = np.arange(count)
    while width < count:
        block = position // (2 * width)
        right = position % (2 * width) >= width
        keyed = block * big + values  # each half is sorted; blocks keep apart
        left_keys = keyed[~right]
        block_end = np.searchsorted(left_keys, block[right] * big + big)
        total += int((block_end - np.searchsorted(left_keys, keyed[right], "right")).sum())
        values = np.sort(keyed, kind="stable") - block * big  # merges the two runs
        width *= 2
    return total


def our_polylines(graph: nx.MultiDiGraph, layout: Layout) -> list[np.ndarray]:
    """Each edge through its bends; an edge without bends is a straight line."""
    lines = []
    for u, v, k in graph.edges(keys=True):
        bends = layout.routes.get((u, v, k), [])
        lines.append(np.array([layout.positions[u], *bends, layout.positions[v]]))
    return lines


def dot_polylines(plain: str) -> list[np.ndarray]:
    """Each edge of `dot -Tplain` output: its spline's control points, from node centre to
    node centre (splines stop at the node's outline; the centres make shared ends ties)."""
    centre: dict[str, tuple[float, float]] = {}
    edges: list[tuple[str, str, list[float]]] = []
    for line in plain.splitlines():
        parts = shlex.split(line)
        if parts and parts[0] == "node":
            centre[parts[1]] = (float(parts[2]), float(parts[3]))
        elif parts and parts[0] == "edge":
            count = int(parts[3])
            edges.append((parts[1], parts[2], [float(p) for p in parts[4 : 4 + 2 * count]]))
    lines = []
    for tail, head, flat in edges:
        controls = np.array(flat).reshape(-1, 2)
        if len(controls) and np.hypot(*(controls[0] - centre[head])) < np.hypot(
            *(controls[0] - centre[tail])
        ):
            controls = controls[::-1]  # listed from the head: put it tail first
        lines.append(np.array([centre[tail], *controls, centre[head]]))
    return lines


def run_dot(graph: nx.MultiDiGraph, limit: float) -> tuple[float | None, list[np.ndarray]]:
    """dot's seconds (None without dot, inf past the limit) and its drawn edges."""
    dot = shutil.which("dot")
    if dot is None:
        return None, []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "g.dot"
        source.write_text(to_dot(graph))
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [dot, "-Tplain", str(source)], capture_output=True, text=True, timeout=limit
            )
        except subprocess.TimeoutExpired:
            return float("inf"), []
        seconds = time.perf_counter() - start
    return seconds, dot_polylines(done.stdout)


def _shown(count: int | None) -> str:
    return "not counted" if count is None else str(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dot-seconds", type=float, default=60.0)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    torch.manual_seed(0)
    names = _NoNames()  # the capture holds it weakly
    print(f"{'graph':<20}{'nodes':>7}{'edges':>8}{'capture':>9}{'layout':>8}{'crossings':>13}"
          f"{'dot':>9}{'dot crossings':>15}{'dot time ÷ ours':>17}")  # fmt: skip
    for name, build in CORPUS.items():
        if args.only and args.only not in name:
            continue
        root = build().grad_fn
        capture = GraphCapture(names)
        start = time.perf_counter()
        capture.add([root])
        captured = time.perf_counter() - start
        graph = capture.graph
        start = time.perf_counter()
        layout = layered(graph)
        laid = time.perf_counter() - start
        ours = _shown(crossings(our_polylines(graph, layout)))
        dot_time, dot_lines = run_dot(graph, args.dot_seconds)
        laid_at_least = max(laid, 0.001)  # the timer's grain, against dividing by zero
        if dot_time is None:
            dot_text = theirs = ratio = "-"
        elif dot_time == float("inf"):
            dot_text, theirs = "timeout", "-"
            ratio = f"> {args.dot_seconds / laid_at_least:,.0f}×"
        else:
            dot_text, theirs = f"{dot_time:.2f}s", _shown(crossings(dot_lines))
            ratio = f"{dot_time / laid_at_least:,.0f}×"
        print(f"{name:<20}{graph.number_of_nodes():>7}{graph.number_of_edges():>8}"
              f"{captured:>8.2f}s{laid:>7.2f}s{ours:>13}{dot_text:>9}{theirs:>15}"
              f"{ratio:>17}")  # fmt: skip


if __name__ == "__main__":
    main()
