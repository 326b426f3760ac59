"""A simple layered layout: inputs at the bottom, each node one layer above its highest input."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np

LAYER_GAP = 1.0
NODE_GAP = 1.0


def layered_layout(graph: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Positions (x, y) with y the longest path from an input; x orders each layer by barycenter."""
    if graph.number_of_nodes() == 0:
        return {}
    layer: dict[str, int] = {}
    order = list(nx.topological_sort(graph))
    for node in order:
        layer[node] = max((layer[p] + 1 for p in graph.predecessors(node)), default=0)
    # Then as late as possible: a node sits just below its lowest consumer, so a leaf used
    # near the top (a weight, a target) is drawn beside it and not at the bottom.
    for node in reversed(order):
        above = [layer[s] for s in graph.successors(node)]
        if above:
            layer[node] = min(above) - 1
    rows: dict[int, list[str]] = defaultdict(list)
    for node in graph.nodes:  # insertion order: capture order, deterministic
        rows[layer[node]].append(node)
    x: dict[str, float] = {}
    for depth in sorted(rows):
        row = rows[depth]
        if depth > 0:
            row.sort(key=lambda n: _barycenter(graph, n, x))
        offset = (len(row) - 1) / 2
        for i, node in enumerate(row):
            x[node] = (i - offset) * NODE_GAP
    return {n: (x[n], layer[n] * LAYER_GAP) for n in graph.nodes}


def _barycenter(graph: nx.MultiDiGraph, node: str, x: dict[str, float]) -> float:
    below = [x[p] for p in graph.predecessors(node) if p in x]
    return float(np.mean(below)) if below else 0.0
