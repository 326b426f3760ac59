"""Benchmark: scripts that once crashed, hung or ran away, each run as `python main.py export`.

Each case is a whole process, as a user runs it: its exit status, wall seconds, peak memory
(the child's own accounting) and the first line it printed. A case "runs" (exit 0) or is
"refused" (exit 1 or 2 with one line); a signal, a traceback or more than one line is a fault.
Prints the figures; asserts nothing. Usage: python bench/bench_limits.py [NAME ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 200  # a case still running after this is a hang

CASES = {
    "normalize-10000": "x = torch.randn(4, requires_grad=True)\ny = x\n"
    "for i in range(10000):\n    y = F.normalize(y, dim=0)\n",
    "rnn-cell-20000": "cell = nn.RNNCell(3, 3)\nh = torch.zeros(1, 3)\nx = torch.randn(1, 3)\n"
    "for i in range(20000):\n    h = cell(x, h)\n",
    "sum-600000": "x = torch.randn(3, requires_grad=True)\ny = sum([x] * 600000)\n",
    "activation-node": "x = torch.randn(2, 4, requires_grad=True)\ny = x.sum()\n"
    "layer = nn.TransformerEncoderLayer(4, 2, 8, activation=y.grad_fn)\n",
    "deep-list-index": "x = torch.randn(4)\na = [0]\n"
    "for i in range(99999):\n    a = [a]\ny = x[a]\n",
    "positional-meta": 'l = nn.Linear(2, 2, True, "meta")\n',
    "linear-1.5e9": "l = nn.Linear(10, 1000)\nx = torch.randn(1500000, 10)\ny = l(x)\n",
    "conv-1.7e9": "c = nn.Conv2d(1, 1000, 3, padding=1)\n"
    "x = torch.randn(1, 1, 1300, 1300)\ny = c(x)\n",
    "abs-in-a-loop": "x = torch.randn(20000000)\nkeep = []\n"
    "for i in range(100):\n    keep.append(abs(x))\n",
    "tolist-in-a-loop": "x = torch.randn(1000000)\nfor i in range(1000):\n    a = x.tolist()\n",
    "20000-std-one-line": "x = torch.randn(5000000)\ny = [" + ",".join(["x.std()"] * 20000) + "]\n",
    "slow-convs": "x = torch.randn(1, 64, 512, 512)\nc = nn.Conv2d(64, 64, 15, padding=7)\n"
    "y = c(x)\nz = c(y)\nw = c(z)\n",
    "integer-division-by-0": "a = torch.tensor(1) // 0\n",
}


def run(name: str, script: str, folder: Path) -> str:
    source = folder / f"{name}.py"
    source.write_text(script)
    command = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", "out.json"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=folder)
        deadline = start + SECONDS
        while (done := os.wait4(child.pid, os.WNOHANG))[0] == 0:
            if time.perf_counter() > deadline:
                child.kill()
                child.wait()
                return f"{name:22} HANG past {SECONDS} s"
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        _, status, usage = done
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    lines = [line for line in stderr.splitlines() if line.strip()]
    verdict = "runs" if child.returncode == 0 else "refused"
    if child.returncode < 0 or "Traceback" in stderr or len(lines) > 1:
        verdict = "FAULT"
    said = lines[0].split(": error: ", 1)[-1][:90] if lines else ""
    return (
        f"{name:22} {verdict:8} exit {child.returncode:3}  {seconds:6.1f} s  "
        f"{usage.ru_maxrss / 1024:6.0f} MB  {said}"
    )


def main(names: list[str]) -> None:
    chosen = {n: CASES[n] for n in names} if names else CASES
    print(f"{len(chosen)} cases, each `python main.py export CASE.py -o out.json`: peak RSS")
    with tempfile.TemporaryDirectory() as folder:
        for name, script in chosen.items():
            print(run(name, script, Path(folder)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
