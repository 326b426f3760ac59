"""Benchmark: `python main.py export MODEL -o out.json` as a whole process, start-up included.

For each model file (written to a temporary folder) it times the command over several runs
(min, median, max) and prints the JSON's size, with the default values (every value of
tensors up to 64 elements, a summary of larger ones) and with `--values all`; then, when
installed, graphviz's `dot -Tsvg` on the exported .dot and torchviz's make_dot on the same
model (each skipped with a message when absent). Asserts nothing.

Usage: python bench/bench_export.py [--only NAME] [--runs N] [--no-all] [--dot-seconds N]
                                   [--writer]

--writer adds, for each model, the JSON writer's own seconds (explorer.data.export.write),
timed in this process around each of the runs.

Each row ends with the load average: on a shared 2-core machine the whole-process times move
with other work far more than with ours (the MLP took 2.1 s alone and 26-28 s at a load of 8).
Same-load figures, one process, the same recorded runs: the LSTM x 2,000's JSON by default in
10-13.5 s against 33-36 s for json.dumps of the same data; 2 million float32 values written in
1.8-3.4 s through orjson against 14-17 s through Python's float text, which chose orjson.
The README's "Export format" section holds the last table printed here.

The JSON's layout was chosen by measurement, the LSTM x 2,000's writer in its export process
(load 1.6-2.9): each value on its own line (json.dumps' indent=1 layout, our encoder) 83 MB
in 6.0 s; objects indented by orjson (2 spaces, its only indent) with arrays of numbers on one
line 71 MB, 11 MB of it indentation (so about 60.5 MB with 1 space, which orjson cannot
write); the same with each tensor object on one line too 58 MB in 1.5-2.3 s (0.45 s of it
writing the file), against 44 MB for orjson's compact text of the same data. The last is the
layout written: readable where it is structure, and a tensor is one line as an array is.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))  # this tree's explorer, for --writer

from bench_window import MODELS as WINDOW_MODELS  # noqa: E402

# The same model files the window's bench opens (bench/bench_window.py), seeded.
HEADER = "import torch\nfrom torch import nn\n\ntorch.manual_seed(0)\n"
EXPORTED = ("mlp", "transformer x24", "dense concat x120", "lstm cell x2000")
MODELS = {name: WINDOW_MODELS[name] for name in EXPORTED}


def timed(command: list[str], cwd: Path, limit: float | None = None) -> float:
    """The command's seconds; inf past the limit."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=limit)
    except subprocess.TimeoutExpired:
        return float("inf")
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return seconds


def export(model: Path, out: Path, runs: int, *flags: str) -> list[float]:
    command = [sys.executable, str(ROOT / "main.py"), "export", str(model), "-o", str(out)]
    return [timed([*command, "--trusted", *flags], model.parent) for _ in range(runs)]


def row(name: str, what: str, seconds: list[float], size: str) -> str:
    """A table row; the load average tells how busy the machine was (the figures are only
    comparable at a like load)."""
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    load = os.getloadavg()[0]
    return f"| {name} | {what} | {low:.1f} s | {mid:.1f} s | {high:.1f} s | {size} | {load:.1f} |"


def megabytes(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:,.1f} MB"


def nodes(path: Path) -> int:
    return len(json.loads(path.read_text(encoding="utf-8"))["graph"]["nodes"])


def writer(name: str, model: Path, out: Path, runs: int, *flags: str) -> str:
    """The JSON writer's own seconds, timed in this process around export.write."""
    from explorer import app
    from explorer.data import export

    seconds: list[float] = []
    write = export.write

    def timed(snapshot: Any, path: Path, values: str = "small") -> None:
        start = time.perf_counter()
        write(snapshot, path, values)
        seconds.append(time.perf_counter() - start)

    export.write = timed
    try:
        for _ in range(runs):
            app.main(["export", str(model), "-o", str(out), "--trusted", *flags])
    finally:
        export.write = write
    return row(name, f"writer {' '.join(flags) or 'default'}", seconds, megabytes(out))


def graphviz(name: str, folder: Path, model: Path, runs: int, limit: float) -> str:
    dot = shutil.which("dot")
    if dot is None:
        return f"| {name} | dot -Tsvg | skipped: graphviz's dot is not installed | | | | |"
    source = folder / "graph.dot"
    export(model, source, 1)
    command = [dot, "-Tsvg", str(source), "-o", str(folder / "graph.svg")]
    seconds = []
    for _ in range(runs):
        seconds.append(timed(command, folder, limit))
        if seconds[-1] == float("inf"):
            return f"| {name} | dot -Tsvg | over {limit:.0f} s (stopped) | | | | |"
    return row(name, "dot -Tsvg", seconds, "")


def torchviz(name: str, folder: Path, model: Path, runs: int, limit: float) -> str:
    """torchviz's make_dot of the same model's output, drawn to SVG (by graphviz's dot, as
    torchviz does), as a whole process."""
    if importlib.util.find_spec("torchviz") is None:
        return f"| {name} | torchviz | skipped: torchviz is not installed | | | | |"
    script = folder / "torchviz_run.py"
    script.write_text(
        f"exec(open({str(model)!r}).read())\nfrom torchviz import make_dot\n"
        "make_dot(model(example_input).sum()).render('torchviz', format='svg')\n"
    )
    seconds = []
    for _ in range(runs):
        seconds.append(timed([sys.executable, str(script)], folder, limit))
        if seconds[-1] == float("inf"):
            return f"| {name} | torchviz | over {limit:.0f} s (stopped) | | | | |"
    svg = folder / "torchviz.svg"
    return row(name, "torchviz", seconds, megabytes(svg) + " SVG" if svg.exists() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="graphs whose name holds this")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-all", action="store_true", help="skip --values all")
    parser.add_argument(
        "--dot-seconds", type=float, default=30.0, help="dot's and torchviz's time limit"
    )
    parser.add_argument("--writer", action="store_true", help="time the JSON writer alone too")
    args = parser.parse_args()
    print("| graph | export | min | median | max | JSON | load |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, text in MODELS.items():
        if args.only not in name:
            continue
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary)
            model = folder / (name.replace(" ", "_") + ".py")
            model.write_text(HEADER + text, encoding="utf-8")
            out = folder / "out.json"
            seconds = export(model, out, args.runs)
            label = f"{name} ({nodes(out):,} nodes)"
            print(row(label, "default", seconds, megabytes(out)), flush=True)
            if not args.no_all:
                seconds = export(model, out, args.runs, "--values", "all")
                print(row(label, "--values all", seconds, megabytes(out)), flush=True)
            if args.writer:
                print(writer(label, model, out, args.runs), flush=True)
            print(graphviz(label, folder, model, args.runs, args.dot_seconds), flush=True)
            print(torchviz(label, folder, model, args.runs, args.dot_seconds), flush=True)


if __name__ == "__main__":
    main()
