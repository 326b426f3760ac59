"""Check numerically: a leaf's autograd gradient beside float64 central differences, worked out
here independently with plain PyTorch; and the plain words when the check cannot be made."""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QUrl

from explorer.data.reports import GradCheck
from explorer.runs import gradcheck
from explorer.runs.descent import Trainer
from explorer.runs.gradcheck import SAMPLE, check_leaf
from explorer.runs.model_file import ModelFileSession
from explorer.runs.session import Session
from explorer.ui.panels.numeric_check import CHECK_LINK
from explorer.ui.window.main_window import MainWindow
from explorer.worker.client import WorkerClient
from explorer.worker.protocol import CheckGradient, Reply, RunScript
from tests.helpers import WAIT_MS, run, session_ok

# App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
pytestmark = pytest.mark.usefixtures("private_paths", "no_modal_dialogs")

NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\n"
    "y = 2*x**2+3\n"
    "y.backward(torch.ones_like(x))\n"
    "x.grad\n"
)


def leaf_node(session, name: str) -> str:
    graph = session.snapshot().graph
    (node,) = [
        n for n, a in graph.nodes(data=True) if a["kind"] == "leaf" and a.get("name") == name
    ]
    return node


def central_differences(f, x: torch.Tensor, indices, step: float = 1e-6) -> list[float]:
    """Plain float64 central differences of f at the flat indices of x."""
    x = x.detach().double()
    out = []
    for index in indices:
        h = step * max(1.0, abs(float(x.reshape(-1)[index])))
        shift = torch.zeros(x.numel(), dtype=torch.float64)
        shift[index] = h
        shift = shift.reshape(x.shape)
        out.append(float((f(x + shift) - f(x - shift)) / (2 * h)))
    return out


def test_the_notes_example_agrees_with_finite_differences() -> None:
    session, _ = session_ok(NOTES)
    check = check_leaf(session, leaf_node(session, "x"))
    assert check.problem == ""
    assert check.autograd == [16.0] * 6
    expected = central_differences(
        lambda x: (2 * x**2 + 3).sum(), torch.full((2, 3), 4.0), range(6)
    )
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-9)
    np.testing.assert_allclose(check.numeric, 16.0, rtol=1e-8)
    assert check.agree and check.verdict.startswith("They agree")
    assert check.indices == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert not check.sampled and check.numel == 6
    assert check.max_abs < 1e-6 and check.max_rel < 1e-8


def test_a_leaf_used_twice_sums_both_paths() -> None:
    text = "x = torch.tensor([1.5, -2.0, 3.0], requires_grad=True)\ny = (x * x + torch.sin(x)).sum()\ny.backward()\n"  # noqa: E501
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, "x"))
    x = torch.tensor([1.5, -2.0, 3.0])
    np.testing.assert_allclose(check.autograd, (2 * x + torch.cos(x)).tolist(), rtol=1e-6)
    expected = central_differences(lambda v: (v * v + torch.sin(v)).sum(), x, range(3))
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-8)
    assert check.agree


def test_a_large_leaf_is_checked_on_a_sample_and_says_so() -> None:
    text = (
        "w = torch.randn(30, 20, requires_grad=True)\n"
        "x = torch.randn(8, 30)\n"
        "loss = torch.tanh(x @ w).pow(2).mean()\n"
        "loss.backward()\n"
    )
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, "w"))
    assert check.sampled and len(check.indices) == SAMPLE and check.numel == 600
    assert any(f"{SAMPLE} of 600 elements, chosen at random" in note for note in check.notes)
    torch.manual_seed(0)
    w, x = torch.randn(30, 20), torch.randn(8, 30)
    flat = [i * 20 + j for i, j in check.indices]
    expected = central_differences(lambda v: torch.tanh(x.double() @ v).pow(2).mean(), w, flat)
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-6, atol=1e-12)
    assert check.agree


def test_a_backward_asked_for_after_the_run_is_part_of_what_is_checked() -> None:
    session, _ = session_ok("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x ** 3\n")
    session.backward("y")  # a gradient of ones, as the window's Backward sends
    session.backward("y")  # and again: .grad is twice ∂Σy/∂x now
    check = check_leaf(session, leaf_node(session, "x"))
    assert check.autograd == [6.0, 24.0]
    np.testing.assert_allclose(check.numeric, [6.0, 24.0], rtol=1e-8)
    assert check.agree


def test_random_numbers_are_drawn_again_from_the_same_seed() -> None:
    text = "x = torch.ones(3, requires_grad=True)\nnoise = torch.randn(3)\ny = (x * noise).sum()\ny.backward()\n"  # noqa: E501
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, "x"))
    torch.manual_seed(0)
    noise = torch.randn(3)
    np.testing.assert_allclose(check.numeric, noise.tolist(), rtol=1e-7)
    assert check.agree


def test_a_script_that_does_not_repeat_is_named_not_compared(monkeypatch) -> None:
    text = "x = torch.ones(3, requires_grad=True)\nnoise = torch.randn(3)\ny = (x * noise).sum()\ny.backward()\n"  # noqa: E501
    session, _ = session_ok(text)
    # Re-runs now draw other numbers than the run did.
    monkeypatch.setattr("explorer.runs.session.SEED", 1)
    check = check_leaf(session, leaf_node(session, "x"))
    assert "does not repeat" in check.problem
    assert check.numeric == [] and not check.agree


def test_a_leaf_without_a_gradient_says_to_run_backward() -> None:
    session, _ = session_ok("x = torch.ones(2, requires_grad=True)\ny = (x * 3).sum()\n")
    check = check_leaf(session, leaf_node(session, "x"))
    assert "has no gradient yet" in check.problem and "backward" in check.problem


def test_a_node_that_is_not_a_leaf_is_refused() -> None:
    session, _ = session_ok(NOTES)
    graph = session.snapshot().graph
    (op,) = [n for n, a in graph.nodes(data=True) if a["op"] == "MulBackward0"]
    assert "not a leaf tensor" in check_leaf(session, op).problem


def test_a_complex_leaf_is_not_a_float_tensor(tmp_path: Path) -> None:
    path = tmp_path / "complex_model.py"
    path.write_text(
        "import torch\nfrom torch import nn\n"
        "model = nn.Linear(2, 2, dtype=torch.cfloat)\n"
        "def loss():\n    return model(torch.ones(1, 2, dtype=torch.cfloat)).abs().sum()\n"
    )
    session = ModelFileSession(path, path.read_text())
    snapshot = session.run()
    assert snapshot.problem is None, snapshot.problem
    check = check_leaf(session, leaf_node(session, "model.weight"))
    assert "complex" in check.problem and "only real floating-point tensors" in check.problem


def test_a_model_file_is_not_re_run(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(
        "import torch\nfrom torch import nn\nmodel = nn.Linear(2, 1)\n"
        "def loss():\n    return model(torch.ones(3, 2)).sum()\n"
    )
    session = ModelFileSession(path, path.read_text())
    assert session.run().problem is None
    check = check_leaf(session, leaf_node(session, "model.weight"))
    assert "works on scripts, not on model files" in check.problem


def test_a_script_that_trains_itself_is_not_one_forward_pass() -> None:
    text = (
        "w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "loss = (w ** 2).sum()\n"
        "loss.backward()\n"
        "with torch.no_grad():\n"
        "    w -= 0.1 * w.grad\n"
    )
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, "w"))
    assert "changes w after using it" in check.problem


def test_a_leaf_with_no_name_cannot_be_found_again() -> None:
    session, _ = session_ok("y = (torch.ones(2, requires_grad=True) * 3).sum()\ny.backward()\n")
    graph = session.snapshot().graph
    (leaf,) = [n for n, a in graph.nodes(data=True) if a["kind"] == "leaf"]
    assert "no name" in check_leaf(session, leaf).problem


def test_module_parameters_and_float64_arithmetic_of_an_mlp() -> None:
    text = (
        "model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))\n"
        "x = torch.randn(4, 3)\n"
        "total = torch.zeros(1)\n"
        "for i in range(2):\n"
        "    total += model(x).pow(2).sum()\n"
        "total.backward()\n"
    )
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, "model.0.weight"))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    x = torch.randn(4, 3).double()
    model = model.double()
    weight = model[0].weight.detach().clone()

    def f(w: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            model[0].weight.copy_(w)
            return 2 * model(x).pow(2).sum()

    expected = central_differences(f, weight, [i * 3 + j for i, j in check.indices])
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-6)
    assert check.agree, check.verdict


def test_after_descent_steps_the_check_uses_the_new_values() -> None:
    text = "w = torch.tensor([1.0, -1.0], requires_grad=True)\nloss = (w ** 4).sum()\nloss.backward()\n"  # noqa: E501
    session = Session(text)
    session.run()
    trainer = Trainer()
    snapshot, report = trainer.handle(session, {"action": "step", "rate": 0.1, "steps": 2})
    assert snapshot is not None and report.new_graph
    shown = trainer.shown
    check = check_leaf(shown, leaf_node(shown, "w"), trainer.overrides_for(shown))
    w = torch.tensor([1.0, -1.0])
    for _ in range(2):
        w = w - 0.1 * 4 * w**3
    np.testing.assert_allclose(check.autograd, (4 * w**3).tolist(), rtol=1e-6)
    np.testing.assert_allclose(check.numeric, (4 * w.double() ** 3).tolist(), rtol=1e-6)
    assert check.agree


@pytest.mark.parametrize("name", ["x", "w"])
def test_every_leaf_of_a_script_with_two(name: str) -> None:
    text = "x = torch.tensor([0.5, 1.5], requires_grad=True)\nw = torch.tensor([2.0, -1.0], requires_grad=True)\ny = (torch.exp(w * x) / (1 + x * x)).sum()\ny.backward()\n"  # noqa: E501
    session, _ = session_ok(text)
    check = check_leaf(session, leaf_node(session, name))
    x, w = torch.tensor([0.5, 1.5]).double(), torch.tensor([2.0, -1.0]).double()
    if name == "x":
        expected = central_differences(lambda v: (torch.exp(w * v) / (1 + v * v)).sum(), x, [0, 1])
    else:
        expected = central_differences(lambda v: (torch.exp(v * x) / (1 + x * x)).sum(), w, [0, 1])
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-8)
    assert check.agree


def test_the_worker_checks_a_leaf_of_its_last_run() -> None:
    replies: queue.Queue[Reply] = queue.Queue()
    client = WorkerClient()
    try:
        client.submit(RunScript(NOTES), replies.put)
        graph = replies.get(timeout=60).value.graph
        (leaf,) = [n for n, kind in graph.nodes(data="kind") if kind == "leaf"]
        client.submit(CheckGradient(leaf), replies.put)
        reply = replies.get(timeout=60)
        assert isinstance(reply.value, GradCheck) and reply.value.agree
        assert reply.value.autograd == [16.0] * 6
    finally:
        client.stop()


# -- the inspector's link in the real window -----------------------------------------------------
def click_check(qtbot, win: MainWindow, name: str, words: str) -> str:
    (node,) = [
        n for n in win.leaves.leaf_nodes() if win.model.snapshot.graph.nodes[n]["name"] == name
    ]
    win.model.select(node)
    assert "Check numerically" in win.inspector.toPlainText()
    win.inspector.anchorClicked.emit(QUrl(CHECK_LINK))  # what a click on the link sends
    qtbot.waitUntil(lambda: words in win.inspector.toPlainText(), timeout=WAIT_MS)
    return win.inspector.toPlainText()


def test_the_inspector_checks_the_notes_example(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    page = click_check(qtbot, window, "x", "They agree")
    table = page.split("|diff|")[1].split("max |diff|")[0].split()
    assert table[:4] == ["[0,", "0]", "16", "16"]  # element, autograd, numeric (8 digits)
    assert len([t for t in table if t == "16"]) == 12
    assert "central differences in float64" in page


def test_the_inspector_says_when_there_is_no_gradient_yet(qtbot, window: MainWindow) -> None:
    run(qtbot, window, "x = torch.full((2,), 4., requires_grad=True)\ny = (2*x**2+3).sum()\n")
    page = click_check(qtbot, window, "x", "no gradient yet")
    assert "run backward first" in page.lower()
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        window.stepper.backward.click()  # a backward pass on request, then the check agrees
    window.model.stop()
    page = click_check(qtbot, window, "x", "They agree")
    assert page.count("16") >= 4


def test_a_slow_script_gets_fewer_elements_and_says_so(monkeypatch) -> None:
    session, _ = session_ok(NOTES)
    monkeypatch.setattr(gradcheck, "SECONDS", 0.0)  # as if every run took longer than allowed
    check = check_leaf(session, leaf_node(session, "x"))
    assert len(check.indices) == 1 and check.sampled and check.agree
    assert any(
        note.startswith("only 1 element: each run of the script takes") for note in check.notes
    )
