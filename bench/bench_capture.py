"""Benchmark: run + capture + backward trace of an nn.LSTMCell unrolled N steps.

Prints the figures; asserts nothing. Usage: python bench/bench_capture.py [STEPS] [REPEATS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from explorer.graph import trace
from explorer.runs import session as pipeline
from explorer.runs.session import Session

SCRIPT = """\
cell = nn.LSTMCell(10, 20)
x = torch.randn({steps}, 1, 10)
h = torch.zeros(1, 20)
c = torch.zeros(1, 20)
for t in range({steps}):
    h, c = cell(x[t], (h, c))
loss = h.sum()
loss.backward()
"""


def timed(times: dict[str, float], owner: object, name: str, key: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[key] += time.perf_counter() - start

    setattr(owner, name, wrapper)


PARTS = ("capture", "hooks", "backward", "layout")


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    times: dict[str, float] = defaultdict(float)
    timed(times, trace.PassRecorder, "__init__", "capture")  # walks the graph, reads saved
    timed(times, trace.PassRecorder, "__enter__", "hooks")
    timed(times, torch.Tensor, "backward", "backward")  # the engine, with the hooks recording
    timed(times, pipeline, "layered", "layout")
    rows: list[dict[str, float]] = []
    for _ in range(repeats):
        times.clear()
        session = Session(SCRIPT.format(steps=steps))
        start = time.perf_counter()
        snapshot = session.run()
        total = time.perf_counter() - start
        assert snapshot.problem is None, snapshot.problem
        rows.append({**times, "total": total})
    nodes, edges = snapshot.graph.number_of_nodes(), snapshot.graph.number_of_edges()
    print(
        f"nn.LSTMCell x {steps}: {nodes:,} nodes, {edges:,} edges, "
        f"{len(snapshot.passes[0].steps):,} steps; median of {repeats} runs"
    )
    for row in rows:
        row["forward and rest"] = row["total"] - sum(row[k] for k in PARTS)
    for key in (*PARTS, "forward and rest", "total"):
        print(f"  {key:<22}{statistics.median(r[key] for r in rows):7.3f} s")
    capture_trace = statistics.median(r["capture"] + r["hooks"] + r["backward"] for r in rows)
    print(f"  {'capture + trace':<22}{capture_trace:7.3f} s   (goal: under 3 s)")


if __name__ == "__main__":
    main()
