"""Benchmark: what timing each backward step costs. The recorder times a node between the
engine's hook before it and its hook after it; this measures those hooks alone on real
models' backward passes: plain PyTorch, then with a clock-only hook before and after every
node, and prints the difference per node. Asserts nothing.

Usage: python bench/bench_step_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn


def mlp() -> tuple[nn.Module, torch.Tensor]:
    layers: list[nn.Module] = []
    for _ in range(20):
        layers += [nn.Linear(64, 64), nn.Tanh()]
    return nn.Sequential(*layers), torch.randn(32, 64)


def lstm() -> tuple[nn.Module, torch.Tensor]:
    class Unrolled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = nn.LSTMCell(10, 20)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = c = torch.zeros(1, 20)
            for t in range(len(x)):
                h, c = self.cell(x[t], (h, c))
            return h

    return Unrolled(), torch.randn(300, 1, 10)


def nodes_of(root: torch.autograd.graph.Node) -> list:
    seen, stack = {root}, [root]
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return list(seen)


def backward_seconds(model: nn.Module, x: torch.Tensor, timed: bool) -> tuple[float, int]:
    loss = model(x).pow(2).sum()
    nodes = nodes_of(loss.grad_fn)
    handles, started = [], {}
    if timed:
        for node in nodes:
            if type(node).__name__ == "AccumulateGrad":
                continue

            def before(grads, node=node):
                started[node] = time.perf_counter()

            def after(grads_in, grads_out, node=node):
                started[node] = time.perf_counter() - started[node]

            handles += [node.register_prehook(before), node.register_hook(after)]
    t0 = time.perf_counter()
    loss.backward()
    seconds = time.perf_counter() - t0
    for handle in handles:
        handle.remove()
    model.zero_grad()
    return seconds, len(nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    torch.manual_seed(0)
    print("| model | nodes | backward, plain | with the clock hooks | per node |")
    print("| --- | --- | --- | --- | --- |")
    for name, make in (("MLP x20", mlp), ("LSTMCell x300", lstm)):
        model, x = make()
        backward_seconds(model, x, True)  # warm: the first pass allocates
        plain, timed, count = [], [], 0
        for _ in range(args.runs):  # alternated, so that load falls on both alike
            plain.append(backward_seconds(model, x, False)[0])
            seconds, count = backward_seconds(model, x, True)
            timed.append(seconds)
        a, b = statistics.median(plain), statistics.median(timed)
        each = (b - a) / count * 1e6
        print(f"| {name} | {count:,} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {each:.1f} µs |")


if __name__ == "__main__":
    main()
