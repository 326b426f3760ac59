"""Benchmark: real models in the real window, opened as model files through the worker.

Per graph it prints: nodes and edges, cards drawn as it opens (large graphs open with
their modules collapsed), open → painted, the size of the run's message from the worker,
one backward step's update, pan and zoom frames per second with the whole graph in view,
and peak memory of the worker and of the window.
Large graphs are measured again with every module expanded. Asserts nothing.

Usage: python bench/bench_window.py [--only NAME] [--steps N]
Runs offscreen unless a display is set (QT_QPA_PLATFORM decides).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from harness import open_window, settle, wait_for

from explorer.worker.protocol import encode_frame

HEADER = "import torch\nfrom torch import nn\n"
LSTM = """
class Unrolled(nn.Module):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps
        self.cell = nn.LSTMCell(10, 20)

    def forward(self, x):
        h = c = torch.zeros(1, 20)
        for t in range(self.steps):
            h, c = self.cell(x[t], (h, c))
        return h.sum()

model = Unrolled({steps})
example_input = torch.randn({steps}, 1, 10)
"""
TRANSFORMER = """
layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0)
model = nn.TransformerEncoder(layer, num_layers={layers}, enable_nested_tensor=False)
example_input = torch.randn(10, 2, 32)
"""
DENSE = """
class Dense(nn.Module):
    # each step reads the concatenation of all earlier outputs: O(steps^2) edges
    def forward(self, first):
        features = [first]
        for _ in range(120):
            features.append(torch.tanh(torch.cat(features, dim=1).sum(dim=1, keepdim=True) * 0.1))
        return torch.cat(features, dim=1).sum()

model = Dense()
example_input = torch.randn(1, 4, requires_grad=True)
"""
MODELS = {
    "mlp": """
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
example_input = torch.randn(8, 20)
""",
    "convnet": """
model = nn.Sequential(
    nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
    nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
)
x = torch.randn(4, 1, 14, 14)

def loss():
    return nn.functional.cross_entropy(model(x), torch.tensor([1, 2, 3, 4]))
""",
    "transformer x6": TRANSFORMER.format(layers=6),
    "transformer x24": TRANSFORMER.format(layers=24),
    "dense concat x120": DENSE,
    "lstm cell x200": LSTM.format(steps=200),
    "lstm cell x2000": LSTM.format(steps=2000),
}
FRAMES = 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one graph by name")
    parser.add_argument("--steps", type=int, default=40, help="backward steps timed per graph")
    args = parser.parse_args()
    names = [args.only] if args.only else list(MODELS)
    print(
        f"{'graph':<18} {'view':<9} {'nodes':>6} {'edges':>6} {'cards':>6} {'open→painted':>13} "
        f"{'message':>8} {'step':>8} {'pan fps':>8} {'zoom fps':>9} {'worker peak':>12} "
        f"{'window peak':>12}"
    )
    with tempfile.TemporaryDirectory() as folder, open_window(1440, 900, trust=True) as window:
        for name in names:
            path = Path(folder) / (name.replace(" ", "_") + ".py")
            path.write_text(HEADER + MODELS[name], encoding="utf-8")
            measure(window, name, path, args.steps)
    print("cards: what is drawn (modules collapsed to one card each count once); open→painted:")
    print("from opening the file to the graph painted, the worker's run included; step: one step")
    print("of the backward pass, restyle and repaint; fps: panning and zooming with all in view.")
    print("message: the run's Snapshot as it crossed the pipe (large saved tensors stay in the")
    print("worker until the Inspector asks for them).")


def measure(window, name: str, path: Path, steps: int) -> None:
    worker_pid = window.worker.client.pid
    _reset_peak(worker_pid)
    start = time.perf_counter()
    window.run_model_file(path)
    wait_for(window.model.snapshot_changed)
    window.graph.viewport().repaint()
    opened = time.perf_counter() - start
    if window.model.snapshot.problem is not None:
        print(f"{name:<18} failed: {window.model.snapshot.problem.message}")
        return
    # Pickled again as it arrived: what the worker left out is a mark here too.
    message = len(encode_frame(window.model.snapshot)) / 1e6
    window.backward()  # record the pass; it replies with the same graph and its steps
    wait_for(window.model.snapshot_changed)
    window.model.stop()
    _print_row(window, name, "opened", opened, steps, worker_pid, message)
    if window.model.collapsed:  # opened collapsed: measure it again with all expanded
        start = time.perf_counter()
        window.model.expand_all()
        window.graph.fit()
        window.graph.viewport().repaint()
        _print_row(window, name, "expanded", time.perf_counter() - start, steps, worker_pid)


def _print_row(
    window, name: str, view: str, seconds: float, steps: int, pid: int | None, message=None
) -> None:
    model, graph = window.model, window.graph
    graph.fit()
    settle(50)
    model.to_start()
    step = []
    for _ in range(min(steps, model.step_count())):
        t0 = time.perf_counter()
        model.step_forward()
        graph.viewport().repaint()
        step.append(time.perf_counter() - t0)
    pan, zoom = _frames(graph)
    nodes = model.snapshot.graph.number_of_nodes()
    edges = model.snapshot.graph.number_of_edges()
    cards = model.shown.graph.number_of_nodes()
    print(
        f"{name:<18} {view:<9} {nodes:>6,} {edges:>6,} {cards:>6,} {seconds:>12.2f}s "
        + (f"{message:>5.2f} MB " if message is not None else f"{'':>9}")
        + f"{statistics.median(step) * 1000 if step else float('nan'):>6.1f}ms "
        f"{pan:>8.0f} {zoom:>9.0f} {_peak_mb(pid):>9,.0f} MB "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>9,.0f} MB"
        + ("" if view == "opened" else "  (expand→painted)")
    )


def _frames(graph) -> tuple[float, float]:
    """Frames per second panning, then zooming in and out, with the whole graph in view."""
    graph.fit()
    settle(400)  # the layers are cached again once the zoom rests
    rect = graph.view.viewRect()
    times = []
    for i in range(FRAMES):
        t0 = time.perf_counter()
        graph.view.translateBy(x=rect.width() * (0.02 if i % 2 else -0.02))
        graph.viewport().repaint()
        times.append(time.perf_counter() - t0)
    pan = 1 / statistics.median(times)
    times = []
    for i in range(FRAMES):
        t0 = time.perf_counter()
        factor = 1.1 if i % 2 else 1 / 1.1
        graph.view.scaleBy(x=factor, y=factor)
        graph.viewport().repaint()
        times.append(time.perf_counter() - t0)
    graph.fit()
    return pan, 1 / statistics.median(times)


def _reset_peak(pid: int | None) -> None:
    """Start the worker's peak memory afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    if pid is not None:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak_mb(pid: int | None) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return float("nan")
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


if __name__ == "__main__":
    main()
