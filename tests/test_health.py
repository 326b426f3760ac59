"""Where a pass's first NaN or infinity starts, checked against PyTorch's own anomaly mode."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import explorer
from explorer.data import nonfinite
from explorer.data.health import FirstNonFinite, first_nonfinite
from explorer.lessons import program, read_lesson
from explorer.runs.session import run_script
from explorer.view import grad_scale

WHERE_TRAP = (
    "x = torch.tensor([0., 1., 4.], requires_grad=True)\n"
    "y = torch.where(x > 0, torch.sqrt(x), 0.)\n"
    "y.sum().backward()\n"
)
ROOT = Path(__file__).resolve().parents[1]
BIG_WHERE_TRAP = WHERE_TRAP.replace("torch.tensor([0., 1., 4.]", "torch.zeros(20000")


def _found(script: str, index: int = 0) -> tuple[FirstNonFinite | None, object]:
    snapshot = run_script(script)
    assert snapshot.problem is None, snapshot.problem
    return first_nonfinite(snapshot.passes[index]), snapshot


@contextlib.contextmanager
def _anomaly_mode() -> Iterator[None]:
    """torch.autograd.detect_anomaly, without the warning it gives on entering."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Anomaly Detection has been enabled")
        warnings.filterwarnings("ignore", message="Error detected in")  # its forward trace
        with torch.autograd.detect_anomaly(check_nan=True):
            yield


def _anomaly(script: str) -> str:
    """The backward function PyTorch's anomaly mode blames for the first NaN."""
    with _anomaly_mode(), pytest.raises(RuntimeError) as raised:
        exec(script, {"torch": torch})
    return re.search(r"Function '(\w+)' returned nan", str(raised.value)).group(1)


@pytest.mark.parametrize("script", [WHERE_TRAP, BIG_WHERE_TRAP])
def test_the_where_trap_starts_at_the_sqrt_as_anomaly_mode_says(script: str) -> None:
    found, snapshot = _found(script)
    assert found is not None and found.origin == "op"
    assert snapshot.graph.nodes[found.node].op == _anomaly(script) == "SqrtBackward0"
    assert snapshot.passes[0].steps[found.step - 1].node == found.node
    words = nonfinite.why(snapshot.graph, found)
    assert "torch.where trap" in words
    if script is WHERE_TRAP:  # the values were kept: the sqrt at 0 is named
        assert "sqrt at 0" in words


@pytest.mark.parametrize(
    ("script", "op", "words"),
    [
        ("x = torch.tensor([0., 2.], requires_grad=True)\ntorch.log(x).sum().backward()\n",
         "LogBackward0", "log at 0"),
        ("x = torch.tensor([0., 2.], requires_grad=True)\n(x ** 0.5).sum().backward()\n",
         "PowBackward0", "x ** 0.5 at 0"),
        ("a = torch.tensor([1., 2.])\nb = torch.tensor([0., 1.], requires_grad=True)\n"
         "(a / b).sum().backward()\n", "DivBackward0", "division by 0"),
        ("x = torch.tensor([100., 1.], requires_grad=True)\ntorch.exp(x).sum().backward()\n",
         "ExpBackward0", "exp overflowed"),
        ("x = torch.tensor([1., 0.5], requires_grad=True)\ntorch.acos(x).sum().backward()\n",
         "AcosBackward0", "acos at ±1"),
    ],
)  # fmt: skip
def test_an_infinite_slope_is_found_at_its_op_and_explained(
    script: str, op: str, words: str
) -> None:
    found, snapshot = _found(script)
    assert found is not None
    assert snapshot.graph.nodes[found.node].op == op
    namespace: dict = {"torch": torch}
    exec(script, namespace)  # in plain PyTorch the leaf's gradient is not finite either
    leaf = namespace["x"] if "x" in namespace else namespace["b"]
    assert not torch.isfinite(leaf.grad).all()
    assert words in nonfinite.why(snapshot.graph, found)


def test_a_nan_in_the_roots_gradient_is_where_it_starts() -> None:
    script = (
        "x = torch.ones(3, requires_grad=True)\ny = 2 * x\n"
        "y.backward(torch.tensor([1., float('nan'), 1.]))\n"
    )
    found, snapshot = _found(script)
    assert found == FirstNonFinite(1, snapshot.passes[0].root, "root")
    assert nonfinite.why(snapshot.graph, found) == nonfinite.ROOT


def test_a_grad_left_not_finite_by_an_earlier_pass_is_told_apart() -> None:
    script = WHERE_TRAP + "z = (x * 3).sum()\nz.backward()\n"
    first, snapshot = _found(script, 0)
    second = first_nonfinite(snapshot.passes[1])
    assert first is not None and first.origin == "op"
    assert second is not None and second.origin == "grad"
    assert snapshot.graph.nodes[second.node].kind == "leaf"
    assert nonfinite.why(snapshot.graph, second) == nonfinite.OLD_GRAD


def test_a_finite_pass_has_none_and_anomaly_mode_agrees() -> None:
    script = "x = torch.tensor([1., 4.], requires_grad=True)\ntorch.sqrt(x).sum().backward()\n"
    found, _ = _found(script)
    assert found is None
    with _anomaly_mode():
        exec(script, {"torch": torch})  # raises nothing


def test_the_first_is_the_engines_first_not_the_graphs() -> None:
    script = (
        "x = torch.tensor([0., 1.], requires_grad=True)\n"
        "a = torch.sqrt(x)\nb = torch.log(x)\n"
        "(a + b).sum().backward()\n"
    )
    found, snapshot = _found(script)
    steps = [snapshot.graph.nodes[s.node].op for s in snapshot.passes[0].steps]
    first_bad = min(steps.index("SqrtBackward0"), steps.index("LogBackward0"))
    assert found.step == first_bad + 1


def test_the_where_trap_lesson_finds_its_nan_and_its_fix_has_none() -> None:
    lesson = read_lesson(ROOT / "resources" / "lessons" / "09-where-trap.json")
    snapshot = run_script(program(lesson.cells))
    trap, fixed = (first_nonfinite(p) for p in snapshot.passes)
    assert snapshot.graph.nodes[trap.node].op == "SqrtBackward0"
    assert fixed is None
    namespace: dict = {"torch": torch}
    exec(program(lesson.cells), namespace)  # the same cells in plain PyTorch
    for name in ("x", "x2"):
        expected = namespace[name].grad.numpy()
        np.testing.assert_array_equal(snapshot.grads[name].values, expected)


def test_the_vanishing_gradients_lesson_shows_decades_between_first_and_last_layer() -> None:
    lesson = read_lesson(ROOT / "resources" / "lessons" / "10-vanishing-gradients.json")
    snapshot = run_script(program(lesson.cells))
    namespace: dict = {"torch": torch, "nn": torch.nn}
    exec(program(lesson.cells), namespace)  # the same cells in plain PyTorch
    for prefix, model in (("deep", namespace["deep"]), ("resnet", namespace["resnet"])):
        for name, parameter in model.named_parameters():
            got = snapshot.grads[f"{prefix}.{name}"].values
            np.testing.assert_array_equal(got, parameter.grad.numpy())
    sigmoid, residual = (grad_scale.pass_norms(p) for p in snapshot.passes)
    sigmoid_scale = grad_scale.scale_of(sigmoid)
    assert sigmoid_scale.high - sigmoid_scale.low >= 6  # the colours span six decades
    first, last = (_leaf(snapshot, f"deep.{k}.0.weight") for k in (0, 7))
    assert sigmoid[first] < 1e-6 * sigmoid[last]
    first, last = (_leaf(snapshot, f"resnet.{k}.linear.weight") for k in (0, 7))
    assert residual[first] > 0.1 * residual[last]


def _leaf(snapshot, name: str) -> str:
    return next(n for n, a in snapshot.graph.nodes(data=True) if a.name == name)


def test_the_export_and_the_api_carry_where_the_nan_started() -> None:
    snapshot = run_script(WHERE_TRAP + "z = (x.detach() * 2).sum()\n")
    found = first_nonfinite(snapshot.passes[0])
    recorded = snapshot.passes[0].first_nonfinite
    assert (recorded.step, recorded.node, recorded.origin) == (found.step, found.node, found.origin)
    assert recorded.why == nonfinite.why(snapshot.graph, found)
    (written,) = snapshot.to_dict()["backward"]
    assert written["health"] == {"first_nonfinite": {"step": found.step, "node": found.node}}
    finite = run_script("x = torch.ones(2, requires_grad=True)\n(x * 2).sum().backward()\n")
    assert finite.to_dict()["backward"][0]["health"] == {"first_nonfinite": None}
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with explorer.record() as rec:
        torch.where(x > 0, torch.sqrt(x), 0.0).sum().backward()
    (recorded,) = rec.snapshot.passes
    assert rec.snapshot.graph.nodes[recorded.first_nonfinite.node].op == "SqrtBackward0"
