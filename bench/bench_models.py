"""Benchmark: capture and layout of real models' graphs, and graphviz dot on the same DAGs.

Prints per graph: nodes, edges, capture and layout seconds, crossings of our layout, and
(when graphviz's `dot` is installed) dot's time and crossings, with a time limit.
Asserts nothing. Usage: python bench/bench_models.py [--dot-seconds N] [--only NAME]
"""

from __future__ import annotations

import argparse
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

from explorer.export import to_dot
from explorer.graph.capture import GraphCapture
from explorer.layout.sugiyama import layered


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


CROSSINGS_MAX_EDGES = 5_000  # counting is quadratic per layer: larger graphs print "-"


def crossings(graph: nx.MultiDiGraph, x: dict[str, float], y: dict[str, float]) -> int | None:
    """Crossings between edges of adjacent layers (after splitting long edges at each layer)."""
    if graph.number_of_edges() > CROSSINGS_MAX_EDGES:
        return None
    segments: dict[float, list[tuple[float, float]]] = {}
    for u, v in graph.edges():
        y0, y1 = y[u], y[v]
        if y1 <= y0:
            continue
        steps = max(1, round(y1 - y0))
        for k in range(steps):
            t0, t1 = k / steps, (k + 1) / steps
            xa, xb = x[u] + (x[v] - x[u]) * t0, x[u] + (x[v] - x[u]) * t1
            segments.setdefault(round(y0 + (y1 - y0) * t0, 6), []).append((xa, xb))
    total = 0
    for pairs in segments.values():
        a = np.array(pairs)
        if len(a) < 2:
            continue
        dx0 = a[:, 0][:, None] - a[:, 0][None, :]
        dx1 = a[:, 1][:, None] - a[:, 1][None, :]
        total += int(np.triu((dx0 * dx1) < 0, 1).sum())
    return total


def run_dot(graph: nx.MultiDiGraph, limit: float) -> tuple[float | None, int | None]:
    dot = shutil.which("dot")
    if dot is None:
        return None, None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "g.dot"
        source.write_text(to_dot(graph))
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [dot, "-Tplain", str(source)], capture_output=True, text=True, timeout=limit
            )
        except subprocess.TimeoutExpired:
            return float("inf"), None
        seconds = time.perf_counter() - start
    x, y = {}, {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            x[parts[1].strip('"')] = float(parts[2])
            y[parts[1].strip('"')] = float(parts[3])
    if not y:
        return seconds, None
    ranks = sorted(set(y.values()))
    rank_of = {value: i for i, value in enumerate(ranks)}
    return seconds, crossings(graph, x, {n: rank_of[v] for n, v in y.items()})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dot-seconds", type=float, default=60.0)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    torch.manual_seed(0)
    names = _NoNames()  # the capture holds it weakly
    print(f"{'graph':<20}{'nodes':>7}{'edges':>8}{'capture':>9}{'layout':>8}{'crossings':>10}"
          f"{'dot':>9}{'dot crossings':>15}")  # fmt: skip
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
        x = {n: p[0] for n, p in layout.positions.items()}
        y = {n: p[1] for n, p in layout.positions.items()}
        ours = crossings(graph, x, y)
        dot_time, dot_crossings = run_dot(graph, args.dot_seconds)
        dot_text = (
            "-"
            if dot_time is None
            else ("timeout" if dot_time == float("inf") else f"{dot_time:.2f}s")
        )
        print(f"{name:<20}{graph.number_of_nodes():>7}{graph.number_of_edges():>8}"
              f"{captured:>8.2f}s{laid:>7.2f}s{'-' if ours is None else ours:>10}{dot_text:>9}"
              f"{'-' if dot_crossings is None else dot_crossings:>15}")  # fmt: skip


if __name__ == "__main__":
    main()
