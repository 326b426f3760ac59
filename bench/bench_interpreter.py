"""Benchmark: what the script language costs on a training loop, against the same text as Python.

The loop is a 2-16-16-1 MLP trained 200 steps with MSE and SGD, one `loss.backward()` a step.
In process: `run_script` (the language, every backward pass recorded, the graph captured and
laid out), the interpreter alone with nothing recorded, and `exec` of the same text; each the
median of --runs after one warm-up run, and how many times plain Python's time each took.
As whole processes: `python main.py export` against `python -c` of the text with its imports,
the median of --processes runs each. Prints the figures; asserts nothing.

Torch runs one thread on both sides: on a 2-core machine shared with other work, a second
thread waiting for a core took plain Python's 0.1 s to 4 s and back from run to run, which
measures the machine, not the interpreter.
Usage: python bench/bench_interpreter.py [--runs N] [--processes N]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from explorer.lang.interpreter import Interpreter
from explorer.lang.limits import Limits
from explorer.lang.parse import parse
from explorer.runs.session import run_script

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """\
gen = torch.manual_seed(0)
x = torch.randn(64, 2)
y = (x[:, :1] * x[:, 1:]).sin()
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(200):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
print(loss.item())
"""
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
IMPORTS = "import math\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"


def median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # the first run pays one-off costs: imports, torch's first calls
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(runs: int) -> None:
    code = compile(SCRIPT, "<script>", "exec")
    names = {"torch": torch, "nn": nn, "F": F, "math": math, "print": lambda *a, **k: None}

    def app() -> None:
        assert run_script(SCRIPT).problem is None

    def interpreter() -> None:
        limits = Limits()
        Interpreter(SCRIPT, limits).run(parse(SCRIPT, limits))

    plain = median_seconds(lambda: exec(code, dict(names)), runs)
    print(f"in process, median of {runs} runs:")
    for label, work in (("run_script", app), ("interpreter, nothing recorded", interpreter)):
        seconds = median_seconds(work, runs)
        print(f"  {label:32} {seconds:7.3f} s  {seconds / plain:5.1f}x")
    print(f"  {'plain Python (exec)':32} {plain:7.3f} s")


def whole_process(processes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "train.py"
        source.write_text(SCRIPT)
        export = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", "out.json"]
        plain = [sys.executable, "-c", IMPORTS + SCRIPT]
        figures = {}
        for label, command in (("python main.py export", export), ("python -c", plain)):
            figures[label] = median_seconds(
                lambda command=command: subprocess.run(
                    command, cwd=folder, check=True, stdout=subprocess.DEVNULL, env=ONE_THREAD
                ),
                processes,
            )
    base = figures["python -c"]
    print(f"whole processes, median of {processes} runs:")
    for label, seconds in figures.items():
        print(f"  {label:32} {seconds:7.3f} s  {seconds / base:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--processes", type=int, default=3)
    options = parser.parse_args()
    torch.set_num_threads(1)
    in_process(options.runs)
    whole_process(options.processes)


if __name__ == "__main__":
    main()
