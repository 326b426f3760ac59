"""Benchmark: the HTML stepper as the user makes it and opens it.

`python main.py export FILE -o pass.html` as a whole process (start-up, run, writing the page)
for the notes' example and for transformer encoders of 12 and 35 layers (about 630 and 1,820
nodes), against the same export to JSON; the page's size; and the page in headless Chromium,
from navigation to the first step drawn, then the median time of a step (→) and of a jump to
the last step (End). Prints the figures; asserts nothing.
Usage: python bench/bench_page.py [--processes N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "resources" / "examples" / "notes.py"
ENCODER = """import torch
from torch import nn

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0)
model = nn.TransformerEncoder(layer, num_layers={layers}, enable_nested_tensor=False)
example_input = torch.randn(10, 2, 32)
"""
CHROMIUM = "/usr/bin/chromium"


def export_seconds(source: Path, out: Path, trusted: bool, runs: int) -> list[float]:
    command = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", str(out)]
    if trusted:
        command.append("--trusted")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def browser_figures(page: Path) -> tuple[float, float, float] | None:
    """(load to first paint, a step, a jump to the end) in seconds; None without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        tab = browser.new_page(viewport={"width": 1400, "height": 800})
        start = time.perf_counter()
        tab.goto(page.as_uri())
        tab.wait_for_selector(".agx-caption:not(:empty)")
        tab.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        load = time.perf_counter() - start
        steps = []
        for _ in range(20):
            start = time.perf_counter()
            tab.keyboard.press("ArrowRight")
            tab.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            steps.append(time.perf_counter() - start)
        start = time.perf_counter()
        tab.keyboard.press("End")
        tab.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        jump = time.perf_counter() - start
        browser.close()
    return load, statistics.median(steps), jump


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cases = [("notes", NOTES, False)]
        for layers in (12, 35):
            model = work / f"encoder{layers}.py"
            model.write_text(ENCODER.format(layers=layers))
            cases.append((f"encoder x{layers}", model, True))
        print(f"{'case':<12} {'html s (med)':>12} {'json s (med)':>12} {'page KB':>8} "
              f"{'load s':>7} {'step ms':>8} {'end ms':>7}")  # fmt: skip
        for name, source, trusted in cases:
            page, data = work / f"{name}.html", work / f"{name}.json"
            html = statistics.median(export_seconds(source, page, trusted, args.processes))
            json_s = statistics.median(export_seconds(source, data, trusted, args.processes))
            shown = browser_figures(page)
            load, step, end = shown if shown else (float("nan"),) * 3
            print(
                f"{name:<12} {html:>12.2f} {json_s:>12.2f} {page.stat().st_size / 1024:>8.0f} "
                f"{load:>7.2f} {step * 1000:>8.1f} {end * 1000:>7.1f}"
            )


if __name__ == "__main__":
    main()
