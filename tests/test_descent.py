"""Gradient descent on a script's loss: the same losses, values and surface as plain PyTorch doing
the same descent; divergence said in words; Reset; and what the panel refuses."""

from __future__ import annotations

import math
import queue
import subprocess
import sys

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from torch import nn

from explorer.data.reports import DescentReport
from explorer.runs import landscape
from explorer.runs.descent import MAX_STEPS, Descent, Trainer, Untrainable, check_rate
from explorer.runs.session import Session
from explorer.ui.descent.panel import DescentPanel
from explorer.ui.window.main_window import MainWindow
from explorer.worker.client import WorkerClient
from explorer.worker.protocol import Descend, Reply, RunScript
from tests.helpers import WAIT_MS, run

# App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
pytestmark = pytest.mark.usefixtures("private_paths", "no_modal_dialogs")

LINE = (
    "x = torch.tensor([1., 2., 3., 4., 5.])\n"
    "y = torch.tensor([3.1, 4.9, 7.2, 8.8, 11.1])\n"
    "w = torch.tensor(0.0, requires_grad=True)\n"
    "b = torch.tensor(0.0, requires_grad=True)\n"
    "pred = w * x + b\n"
    "loss = ((pred - y) ** 2).mean()\n"
    "loss.backward()\n"
)
WAIT = 60.0  # seconds: the worker imports torch first
X = [1.0, 2.0, 3.0, 4.0, 5.0]
Y = [3.1, 4.9, 7.2, 8.8, 11.1]


def plain_line_descent(rate: float, steps: int) -> tuple[list[float], list[tuple[float, float]]]:
    """The same gradient descent written in plain PyTorch, as the notes teach it."""
    x, y = torch.tensor(X), torch.tensor(Y)
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    losses, path = [], []
    for step in range(steps + 1):
        loss = ((w * x + b - y) ** 2).mean()
        losses.append(loss.item())
        path.append((w.item(), b.item()))
        if step == steps:
            break
        loss.backward()
        with torch.no_grad():
            w -= rate * w.grad
            b -= rate * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses, path


def steps(descent: Descent, rate: float, count: int) -> DescentReport:
    report = descent.step(rate, count, seconds=math.inf)
    assert report.steps_done == count, report.message
    return report


def test_the_loss_curve_equals_plain_pytorch_gradient_descent() -> None:
    report = steps(Descent(LINE), 0.02, 40)
    losses, path = plain_line_descent(0.02, 40)
    np.testing.assert_allclose(report.losses, losses, rtol=1e-6, atol=0)
    np.testing.assert_allclose(report.path, path, rtol=1e-6, atol=1e-7)
    assert report.learning_rates == [0.02] * 40
    assert report.loss_name == "loss" and report.parameter_names == ["w", "b"]
    assert report.losses[-1] < report.losses[0] / 100
    assert report.message == "" and not report.stopped and not report.diverged


def test_steps_taken_one_request_at_a_time_are_the_same_descent() -> None:
    descent = Descent(LINE)
    for _ in range(5):
        report = steps(descent, 0.02, 3)
    np.testing.assert_allclose(report.losses, plain_line_descent(0.02, 15)[0], rtol=1e-6)


def test_a_module_set_up_after_it_is_made_keeps_its_new_values() -> None:
    text = (
        "model = nn.Linear(1, 1)\n"
        "with torch.no_grad():\n"
        "    model.weight.fill_(0.5)\n"
        "x = torch.randn(20, 1)\n"
        "y = 3 * x + 1 + 0.1 * torch.randn(20, 1)\n"
        "loss = nn.MSELoss()(model(x), y)\n"
    )  # no backward in the script: each step runs loss.backward() itself
    report = steps(Descent(text), 0.1, 25)
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(0.5)
    x = torch.randn(20, 1)
    y = 3 * x + 1 + 0.1 * torch.randn(20, 1)
    losses = []
    for step in range(26):
        loss = nn.MSELoss()(model(x), y)
        losses.append(loss.item())
        if step == 25:
            break
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    np.testing.assert_allclose(report.losses, losses, rtol=1e-6)
    assert report.parameter_names == ["model.weight", "model.bias"]
    assert report.values == pytest.approx([model.weight.item(), model.bias.item()], rel=1e-6)
    fit = report.fit
    assert fit is not None and (fit.x_name, fit.y_name) == ("x", "y")
    assert fit.slope == pytest.approx(model.weight.item(), rel=1e-5)
    assert fit.intercept == pytest.approx(model.bias.item(), rel=1e-5, abs=1e-6)
    assert fit.first_slope == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(fit.xs, x.reshape(-1).double().numpy(), rtol=1e-7)
    np.testing.assert_allclose(fit.ys, y.reshape(-1).double().numpy(), rtol=1e-7)


def test_a_bigger_model_has_a_curve_but_no_surface_or_line() -> None:
    text = (
        "model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
        "x = torch.randn(8, 2)\n"
        "y = torch.randn(8, 1)\n"
        "loss = F.mse_loss(model(x), y)\n"
        "loss.backward()\n"
    )
    descent = Descent(text)
    report = steps(descent, 0.05, 10)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    losses = []
    for _ in range(11):
        loss = nn.functional.mse_loss(model(x), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
    np.testing.assert_allclose(report.losses, losses, rtol=1e-6)
    assert report.scalar_count == 17 and report.path == [] and report.values == []
    descent.update_surface()
    assert descent.surface is None and report.fit is None


def test_the_surface_is_the_loss_on_a_grid_around_the_path() -> None:
    descent = Descent(LINE)
    steps(descent, 0.02, 10)
    descent.update_surface()
    surface = descent.surface
    assert surface is not None and surface.ys is not None
    rows, columns = surface.values.shape
    assert 7 <= rows == columns <= 41
    lows, highs = zip(*descent.surface_box, strict=True)
    for w, b in descent.path:  # the path lies inside the surface drawn
        assert lows[0] <= w <= highs[0] and lows[1] <= b <= highs[1]
    x, y = torch.tensor(X), torch.tensor(Y)
    for j, i in [(0, 0), (rows // 2, columns // 3), (rows - 1, columns - 1)]:
        w = torch.tensor(surface.xs[i], dtype=torch.float32)
        b = torch.tensor(surface.ys[j], dtype=torch.float32)
        plain = ((w * x + b - y) ** 2).mean().item()
        assert surface.values[j, i] == pytest.approx(plain, rel=1e-6)


def test_one_parameter_has_a_loss_curve_along_its_axis() -> None:
    text = "w = torch.tensor([3.0], requires_grad=True)\nloss = ((w - 1) ** 2).sum()\n"
    descent = Descent(text)
    report = steps(descent, 0.1, 5)
    expected = [3.0]
    for _ in range(5):
        expected.append(expected[-1] - 0.1 * 2 * (expected[-1] - 1))
    np.testing.assert_allclose([p[0] for p in report.path], expected, rtol=1e-6)
    descent.update_surface()
    surface = descent.surface
    assert surface is not None and surface.ys is None
    np.testing.assert_allclose(surface.values, (surface.xs.astype(np.float32) - 1) ** 2, rtol=1e-5)


def test_too_large_a_learning_rate_grows_the_loss_and_says_so() -> None:
    descent = Descent(LINE)
    report = descent.step(0.2, 100, seconds=math.inf)
    assert report.stopped and report.steps_done == 5
    assert report.message == "the loss grew for 5 steps in a row: the learning rate is too large"
    assert all(b > a for a, b in zip(report.losses, report.losses[1:], strict=False))
    np.testing.assert_allclose(report.losses, plain_line_descent(0.2, 5)[0], rtol=1e-6)
    assert not report.diverged  # still finite: a smaller rate can go on from here
    assert descent.step(0.001, 1).steps_done == 1


def test_a_loss_that_stops_being_finite_stops_the_run_until_reset() -> None:
    trainer = Trainer()
    session = Session(LINE)
    session.run()
    _, report = trainer.handle(session, {"action": "step", "rate": 5000.0, "steps": 1000})
    assert report.diverged and report.stopped and report.steps_done < 1000
    assert "the learning rate is too large" in report.message
    assert "inf" in report.message or "nan" in report.message
    assert not math.isfinite(report.losses[-1])
    assert all(math.isfinite(v) for v in report.losses[:-1])
    _, again = trainer.handle(session, {"action": "step", "rate": 0.01, "steps": 1})
    assert again.steps_done == 0 and "press Reset" in again.message
    _, reset = trainer.handle(session, {"action": "reset"})
    assert reset.losses == [report.losses[0]] and not reset.diverged


def test_reset_returns_to_the_scripts_own_values_and_graph() -> None:
    session = Session(LINE)
    first = session.run()
    trainer = Trainer()
    snapshot, report = trainer.handle(session, {"action": "step", "rate": 0.02, "steps": 20})
    assert report.new_graph and report.values != [0.0, 0.0]
    leaf_values = {
        a["name"]: float(a["value"].values) for _, a in snapshot.graph.nodes(data=True)
        if a["kind"] == "leaf"
    }  # fmt: skip
    assert leaf_values == pytest.approx(dict(zip(["w", "b"], report.values, strict=True)))
    snapshot, reset = trainer.handle(trainer.shown, {"action": "reset"})
    assert reset.losses == [report.losses[0]] and reset.values == [0.0, 0.0]
    assert reset.new_graph and snapshot is not None
    assert snapshot.grads["w"].values == first.grads["w"].values


def test_the_new_graph_can_be_stepped_backward_again() -> None:
    session = Session("w = torch.tensor([2.0], requires_grad=True)\nloss = (w ** 2).sum()\n")
    session.run()
    trainer = Trainer()
    trainer.handle(session, {"action": "step", "rate": 0.25, "steps": 1})
    snapshot = trainer.shown.backward("loss")
    assert snapshot.problem is None and len(snapshot.passes) == 1
    assert snapshot.grads["w"].values.tolist() == [2.0]  # 2·w at w = 2 - 0.25·4 = 1


def test_the_parameters_are_the_named_leaves_of_the_loss() -> None:
    text = (
        "w = torch.ones(2, requires_grad=True)\n"
        "unused = torch.ones(3, requires_grad=True)\n"
        "loss = (w * torch.ones(2, requires_grad=True)).sum()\n"
    )
    report = Descent(text).report()
    assert report.parameter_names == ["w"]
    assert report.untrained == ["a leaf of shape 2 with no name"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x = torch.full((2,3), 4., requires_grad=True)\ny = 2*x**2+3\n", "no scalar loss"),
        ("loss = (torch.ones(3, requires_grad=True) * 2).sum()\n", "no parameters"),
        ("x = torch.ones(3)\nloss = x.sum()\n", "no scalar loss"),
        ("w = torch.ones(2, requires_grad=True)\nfor i in range(3):\n    loss = (w ** 2).sum()\n"
         "    loss.backward()\n    with torch.no_grad():\n        w -= 0.1 * w.grad\n",
         "changes w after using it"),
        ("x = torch.ones(2) @ torch.ones(3)\n", "the script has an error"),
    ],
)  # fmt: skip
def test_what_cannot_be_trained_is_said(text: str, words: str) -> None:
    with pytest.raises(Untrainable, match=words):
        Descent(text)


def test_hostile_learning_rates_and_step_counts() -> None:
    for rate in (math.nan, math.inf, -math.inf, "0.1", True, None):
        assert "must be a finite number" in check_rate(rate)
    assert "above 0" in check_rate(0.0) and "above 0" in check_rate(-0.5)
    assert "too large" in check_rate(1e9)
    assert check_rate(0.01) == "" and check_rate(3) == ""
    descent = Descent("w = torch.tensor([1.0], requires_grad=True)\nloss = (w ** 2).sum()\n")
    refused = descent.step(-1.0, 10)
    assert refused.steps_done == 0 and "above 0" in refused.message
    capped = descent.step(1e-6, 10**9, seconds=math.inf)
    assert capped.steps_done == MAX_STEPS and len(capped.losses) == MAX_STEPS + 1
    assert descent.step(1e-6, -5).steps_done == 1


def test_the_trainer_refuses_what_it_cannot_train() -> None:
    trainer = Trainer()
    assert "run one first" in trainer.handle(None, {})[1].problem
    broken = Session("x = torch.ones(2) @ torch.ones(3)\n")
    broken.run()
    trainer.forget()
    assert "has an error" in trainer.handle(broken, {})[1].problem


def test_the_worker_steps_and_sends_the_new_graph() -> None:
    replies: queue.Queue[Reply] = queue.Queue()
    client = WorkerClient()
    try:
        client.submit(RunScript(LINE), replies.put)
        assert replies.get(timeout=WAIT).value.problem is None
        request = client.submit(Descend("step", rate=0.02, steps=12, graph=True), replies.put)
        reply = replies.get(timeout=WAIT)
        assert reply.id == request and reply.kind == "answered"
        report, snapshot = reply.value.report, reply.value.snapshot
        assert isinstance(report, DescentReport) and report.new_graph
        np.testing.assert_allclose(report.losses, plain_line_descent(0.02, 12)[0], rtol=1e-6)
        w = next(a for _, a in snapshot.graph.nodes(data=True) if a.get("name") == "w")
        assert float(w["value"].values) == pytest.approx(report.values[0])
        # The script's own backward pass, recorded again at the new values, to step through.
        assert len(snapshot.passes) == 1 and snapshot.passes[0].steps
        x, y = torch.tensor(X), torch.tensor(Y)
        w, b = (torch.tensor(v, requires_grad=True) for v in plain_line_descent(0.02, 12)[1][-1])
        ((w * x + b - y) ** 2).mean().backward()
        assert float(snapshot.grads["w"].values) == pytest.approx(w.grad.item(), rel=1e-5)
        assert float(snapshot.grads["b"].values) == pytest.approx(b.grad.item(), rel=1e-5)
    finally:
        client.stop()


# -- the panel in the real window ----------------------------------------------------------------
def idle(panel: DescentPanel) -> bool:
    return panel._pending is None and not panel._remaining


def open_panel(qtbot, win: MainWindow, text: str) -> DescentPanel:
    run(qtbot, win, text)
    win.docks["descent"].raise_()  # in view: the panel asks the worker where descent stands
    panel = win.descent_panel
    qtbot.waitUntil(lambda: idle(panel) and panel.report is not None, timeout=WAIT_MS)
    return panel


def press(qtbot, panel: DescentPanel, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(panel), timeout=WAIT_MS)


def test_the_panel_behind_its_tab_leaves_the_worker_free_until_chosen(
    qtbot, window: MainWindow
) -> None:
    asked: list[str] = []
    real = window.worker.descent
    window.worker.descent = lambda **options: asked.append(options["action"]) or real(**options)
    window.docks["leaves"].raise_()
    run(qtbot, window, LINE)
    run(qtbot, window, LINE + "\n")  # a second run finds the worker idle: nothing to cancel
    assert asked == [] and idle(window.descent_panel)
    window.docks["descent"].raise_()  # its tab chosen: it asks where descent stands
    assert asked == ["prepare"]
    qtbot.waitUntil(lambda: window.descent_panel.report is not None, timeout=WAIT_MS)


def test_the_panel_runs_steps_and_shows_the_new_graph(qtbot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window, LINE)
    assert panel.report.losses == pytest.approx(plain_line_descent(0.02, 0)[0], rel=1e-6)
    assert panel.step_button.isEnabled() and not panel.stop_button.isEnabled()
    panel.rate.setText("0.02")
    panel.steps.setText("12")
    assert panel.run_button.text() == "Run 12"
    press(qtbot, panel, panel.run_button)
    losses, path = plain_line_descent(0.02, 12)
    np.testing.assert_allclose(panel.report.losses, losses, rtol=1e-6)
    _, shown = panel.plots.loss_curve.getOriginalDataset()
    np.testing.assert_allclose(shown, losses, rtol=1e-6)
    assert panel.plots.surface_plot.isVisible() and panel.plots.fit_plot.isVisible()
    np.testing.assert_allclose(panel.plots.path.getData()[0], [p[0] for p in path], rtol=1e-6)
    assert "after 12 steps" in panel.header.text()
    graph = window.model.snapshot.graph  # the graph at the new values is the one on screen
    leaves = {a["name"]: float(a["value"].values) for _, a in graph.nodes(data=True)
              if a["kind"] == "leaf"}  # fmt: skip
    assert leaves == pytest.approx(dict(zip(["w", "b"], path[-1], strict=True)), rel=1e-6)
    press(qtbot, panel, panel.step_button)  # one more step, at the same rate
    np.testing.assert_allclose(panel.report.losses, plain_line_descent(0.02, 13)[0], rtol=1e-6)
    window.stepper.backward.click()  # and backward steps through the new graph's own pass
    window.model.stop()
    window.model.to_end()
    x, y = torch.tensor(X), torch.tensor(Y)
    w, b = (torch.tensor(v, requires_grad=True) for v in plain_line_descent(0.02, 13)[1][-1])
    ((w * x + b - y) ** 2).mean().backward()
    texts = {window.model.snapshot.graph.nodes[n]["name"]: window.leaves.grad_text(n)
             for n in window.leaves.leaf_nodes()}  # fmt: skip
    assert float(texts["w"].split("→")[-1]) == pytest.approx(w.grad.item(), rel=1e-3)
    press(qtbot, panel, panel.reset_button)
    assert panel.report.losses == [pytest.approx(losses[0], rel=1e-6)]
    assert panel.report.values == [0.0, 0.0]


def test_the_panel_says_when_the_rate_is_too_large(qtbot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window, LINE)
    panel.rate.setText("0.2")
    panel.steps.setText("100")
    press(qtbot, panel, panel.run_button)
    assert "the loss grew for 5 steps in a row: the learning rate is too large" in (
        panel.status.text().lower()
    )
    assert len(panel.report.losses) == 6
    press(qtbot, panel, panel.reset_button)
    panel.rate.setText("5000")
    press(qtbot, panel, panel.run_button)
    assert "the learning rate is too large" in panel.status.text()
    assert "press reset" in panel.status.text().lower()
    _, shown = panel.plots.loss_curve.getOriginalDataset()
    assert np.isfinite(shown).all()  # the inf is said in words, not plotted
    press(qtbot, panel, panel.step_button)
    assert "press reset" in panel.status.text().lower()  # refused until Reset


def test_hostile_inputs_get_plain_words(qtbot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window, LINE)
    for text, words in [
        ("abc", "is not a number"), ("", "is not a number"), ("-0.5", "above 0"),
        ("0", "above 0"), ("nan", "finite number"), ("1e400", "finite number"),
        ("1e9", "too large"),
    ]:  # fmt: skip
        panel.rate.setText(text)
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
        assert words in panel.status.text(), text
        assert panel._pending is None and len(panel.report.losses) == 1
    panel.rate.setText("0.001")
    for text, words in [("ten", "not a whole number"), ("-3", "at least 1"), ("0", "at least 1")]:
        panel.steps.setText(text)
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert words in panel.status.text(), text
        assert panel._pending is None
    panel.steps.setText("99999999999999999999")
    assert panel.run_button.text() == "Run 1,000"
    press(qtbot, panel, panel.run_button)
    assert len(panel.report.losses) == 1001
    assert "at most 1,000 steps" in panel.status.text()


def test_the_panel_says_why_a_script_cannot_be_trained(qtbot, window: MainWindow) -> None:
    window.docks["descent"].raise_()
    run(qtbot, window, "x = torch.full((2,3), 4., requires_grad=True)\ny = 2*x**2+3\n")
    panel = window.descent_panel
    assert "No scalar loss" in panel.header.text()
    assert not panel.step_button.isEnabled() and not panel.run_button.isEnabled()
    text = "w = torch.ones(2, requires_grad=True)\nfor i in range(2):\n    loss = (w**2).sum()\n    loss.backward()\n    with torch.no_grad():\n        w -= 0.1 * w.grad\n"  # noqa: E501
    run(qtbot, window, text)
    qtbot.waitUntil(lambda: idle(panel) and "changes w after using it" in panel.header.text(),
                    timeout=WAIT_MS)  # fmt: skip
    assert not panel.step_button.isEnabled()


def test_the_surface_before_any_step_is_quick_and_redone_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # How fine a grid is depends on how fast a run is; this test is about which budget is used
    # when, so a run is said to take 1 ms, as on an idle machine (a loaded one is slower).
    monkeypatch.setattr(Descent, "_seconds_per_point", lambda self: 0.001)
    session = Session(LINE)
    session.run()
    trainer = Trainer()
    _, prepared = trainer.handle(session, {"action": "prepare"})
    assert prepared.surface is not None and prepared.losses == [prepared.losses[0]]
    assert trainer.descent.surface_budget == landscape.QUICK_SECONDS
    _, stepped = trainer.handle(session, {"action": "step", "rate": 0.001, "steps": 1})
    assert trainer.descent.surface_budget == landscape.SURFACE_SECONDS
    assert stepped.surface is not prepared.surface


def test_the_plain_data_loads_without_torch() -> None:
    code = (
        "import sys\nimport explorer.data.reports, explorer.view.descent_inputs\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_new_script_clears_the_warning_and_the_plots_and_enter_takes_no_step(
    qtbot, window: MainWindow
) -> None:
    panel = open_panel(qtbot, window, LINE)
    panel.rate.setText("5000")
    press(qtbot, panel, panel.run_button)
    assert "too large" in panel.status.text()
    run(qtbot, window, LINE + "\n")
    assert panel.status.text() == ""
    _, curve = panel.plots.loss_curve.getOriginalDataset()
    assert curve is None or len(curve) <= 1  # not the last script's curve and its axes
    qtbot.waitUntil(lambda: idle(panel), timeout=WAIT_MS)
    before = None if panel.report is None else len(panel.report.losses)
    panel.rate.setText("0.01")
    qtbot.keyClick(panel.rate, Qt.Key.Key_Return)
    qtbot.wait(300)
    assert panel._pending is None
    assert (None if panel.report is None else len(panel.report.losses)) == before
