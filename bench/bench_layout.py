"""Benchmark: the layered layout of real models' graphs with their module calls as clusters.

The models of bench/bench_models.py, captured with the module calls each node was made in
(modules named by their class, `LSTMCell#3` the fourth call), as the window gets them.
Prints per graph: nodes, edges, module calls, layers, layout seconds (best of --repeat),
crossings of the edges as drawn (counted as bench_models.py counts them), and how many
frames, drawn as the window draws them, overlap a sibling frame or hold a card not theirs.
With graphviz's `dot` installed, also dot's time and crossings on the same DAG with the
same clusters (the DOT export). Asserts nothing.
Usage: python bench/bench_layout.py [--only NAME] [--repeat N] [--dot-seconds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import torch
from bench_models import CORPUS, _NoNames, crossings, our_polylines, run_dot

from explorer.data.snapshot import Snapshot
from explorer.graph.capture import GraphCapture
from explorer.graph.modules import ModuleTracker
from explorer.layout.sugiyama import layered
from explorer.view import geometry
from explorer.view.calls import CallTree


class _Calls(_NoNames):
    """Names nothing but the module calls each node was made in."""

    def __init__(self, tracker: ModuleTracker) -> None:
        self.tracker = tracker

    def module_path(self, node):
        return self.tracker.calls_of.get(node._sequence_nr())


def frame_faults(graph, layout) -> int:
    """Frames (every call open) that overlap a sibling frame or a card that is not theirs."""
    snapshot = Snapshot(graph=graph, layout=layout.positions, routes=layout.routes)
    tree = CallTree(snapshot)
    shown = tree.shown(set())
    geo = geometry.build(shown.graph, shown.layout, upward=True, routes=shown.routes)
    if not shown.frames:
        return 0
    deepest = max(f.depth for f in shown.frames)
    half = np.array([geometry.CARD_W / 2, geometry.CARD_H / 2])
    boxes, members = [], []
    for frame in shown.frames:
        points = geo.pos[[geo.index[m] for m in frame.members]]
        pad = 0.3 * (1 + deepest - frame.depth)
        boxes.append(np.concatenate([points.min(0) - half - pad, points.max(0) + half + pad]))
        boxes[-1][3] += 0.34
        members.append(set(frame.members))
    boxes = np.array(boxes)
    cards = np.column_stack([geo.pos - half, geo.pos + half])
    faults = 0
    for i, box in enumerate(boxes):
        hit = _overlapping(box, cards)
        outside = [geo.ids[j] for j in np.flatnonzero(hit) if geo.ids[j] not in members[i]]
        others = np.flatnonzero(_overlapping(box, boxes))
        siblings = [j for j in others if not (members[j] <= members[i] or members[i] <= members[j])]
        faults += bool(outside or siblings)
    return faults


def _overlapping(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    return (
        (box[0] < boxes[:, 2])
        & (boxes[:, 0] < box[2])
        & (box[1] < boxes[:, 3])
        & (boxes[:, 1] < box[3])
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dot-seconds", type=float, default=20.0)
    parser.add_argument("--no-frames", action="store_true", help="skip counting frame faults")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"{'graph':<20}{'nodes':>7}{'edges':>7}{'calls':>7}{'layers':>8}{'layout':>9}"
          f"{'crossings':>11}{'faults':>8}{'dot':>9}{'dot crossings':>15}")  # fmt: skip
    for name, build in CORPUS.items():
        if args.only and args.only not in name:
            continue
        tracker = ModuleTracker()
        with tracker:
            root = build().grad_fn
        naming = _Calls(tracker)
        capture = GraphCapture(naming)
        capture.add([root])
        graph = capture.graph
        calls = {c for _, a in graph.nodes(data=True) for c in (a.calls or ())}
        seconds = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            layout = layered(graph)
            seconds.append(time.perf_counter() - start)
        drawn = crossings(our_polylines(graph, layout))
        layers = int(max(y for _, y in layout.positions.values())) + 1
        faults = "-" if args.no_frames else str(frame_faults(graph, layout))
        dot_time, dot_lines = run_dot(graph, args.dot_seconds)
        if dot_time is None:
            dot_text = theirs = "-"
        elif dot_time == float("inf"):
            dot_text, theirs = "timeout", "-"
        else:
            counted = crossings(dot_lines)
            dot_text, theirs = (
                f"{dot_time:.2f}s",
                "not counted" if counted is None else str(counted),
            )
        shown = "not counted" if drawn is None else str(drawn)
        size = f"{name:<20}{graph.number_of_nodes():>7}{graph.number_of_edges():>7}"
        print(f"{size}{len(calls):>7}{layers:>8}{min(seconds):>8.2f}s{shown:>11}{faults:>8}"
              f"{dot_text:>9}{theirs:>15}")  # fmt: skip


if __name__ == "__main__":
    main()
