"""Benchmark: Run → graph painted, and one backward step's update, in the real window.

Prints the figures; asserts nothing. Usage: python bench/bench_ui.py [REPEATS]
Runs offscreen unless a display is set (QT_QPA_PLATFORM decides).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from harness import open_window, wait_for

# A chain of multiply-adds sharing one weight: two nodes a link, and edges back to w.
SCRIPT = """\
x = torch.full((4,), 0.5, requires_grad=True)
w = torch.full((4,), 1.01, requires_grad=True)
y = x
for i in range({links}):
    y = y * w + 0.1
loss = y.sum()
loss.backward()
"""
SIZES = {30: 14, 500: 249, 3000: 1499}  # graph nodes wanted: chain links (two ops a link)
STEPS = 60


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with open_window(1440, 900) as window:
        measure(window, repeats)


def measure(window, repeats: int) -> None:
    seconds: list[float] = []
    run = window.worker.run

    def timed_run(text: str):  # each run's own request says how long the worker took
        request = run(text)
        request.answered.connect(lambda snapshot: seconds.append(request.seconds))
        return request

    window.worker.run = timed_run
    print(f"{'nodes':>6} {'edges':>6} {'run→painted':>12} {'worker':>8} {'scene':>8} "
          f"{'paint':>8} {'step update':>12}")  # fmt: skip
    for links in SIZES.values():
        rows = []
        for _ in range(repeats):
            window.editor.setPlainText(SCRIPT.format(links=links))
            start = time.perf_counter()
            window.run_script()
            wait_for(window.model.snapshot_changed)
            arrived = time.perf_counter()
            window.graph.viewport().repaint()
            painted = time.perf_counter()
            window.model.stop()
            step_times = []
            for _ in range(STEPS):
                t0 = time.perf_counter()
                window.model.step_forward()
                window.graph.viewport().repaint()
                step_times.append(time.perf_counter() - t0)
            rows.append((painted - start, seconds[-1], arrived - start, painted - arrived,
                         statistics.median(step_times)))  # fmt: skip
        graph = window.model.snapshot.graph
        total, work, scene, paint, step = (statistics.median(c) for c in zip(*rows, strict=True))
        size = f"{graph.number_of_nodes():>6} {graph.number_of_edges():>6}"
        times = f"{total:>11.3f}s {work:>7.3f}s {scene - work:>7.3f}s {paint:>7.3f}s"
        print(f"{size} {times} {step * 1000:>10.1f}ms")
    print("run→painted: from pressing Run to the graph painted; worker: the script in the worker;")
    print("scene: transfer and building the scene; paint: the first paint; step: one step forward.")


if __name__ == "__main__":
    main()
