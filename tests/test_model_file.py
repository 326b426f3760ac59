"""A user's own model file: trusted Python run for real, its graph and backward pass like a
script's, its mistakes located in the file, and the window's trust question before any of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from torch import nn

from explorer.data.snapshot import Problem, Snapshot
from explorer.runs.model_file import ModelFileSession, run_model_file
from explorer.runs.session import SEED
from explorer.ui.window import model_files
from explorer.ui.window.main_window import MainWindow
from explorer.ui.worker_bridge import WorkerBridge
from explorer.worker.protocol import Backward, OpenModelFile, Request, RunScript
from explorer.worker.serve import Server
from tests.helpers import WAIT_MS, values

# App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
pytestmark = pytest.mark.usefixtures("private_paths", "no_modal_dialogs")

ROOT = Path(__file__).resolve().parents[1]

MLP = """\
import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
example_input = torch.randn(3, 4)
"""

LOSS = """\
import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.randn(5, 4)
y = torch.randn(5, 1)


def loss():
    return ((model(x) - y) ** 2).mean()
"""

PAIR = """\
import torch
from torch import nn


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = nn.Linear(2, 3)
        self.right = nn.Linear(4, 3)

    def forward(self, a, b):
        return self.left(a) * self.right(b)


model = Pair()
example_input = (torch.randn(5, 2), torch.randn(5, 4))
"""


def write(tmp_path: Path, text: str, name: str = "net.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_ok(path: Path) -> tuple[ModelFileSession, Snapshot]:
    session = run_model_file(path)
    snapshot = session.snapshot()
    assert snapshot.problem is None, snapshot.problem
    return session, snapshot


def modules_by_op(snapshot: Snapshot) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for _, attrs in snapshot.graph.nodes(data=True):
        if attrs["kind"] == "op":
            found.setdefault(attrs.get("module", ""), set()).add(attrs["op"])
    return found


def assert_engine_order(snapshot: Snapshot) -> list[str]:
    """The pass ran every node of the graph once, each after all the nodes that feed it."""
    (backward,) = snapshot.passes
    order = [step.node for step in backward.steps]
    assert order[0] == backward.root
    assert sorted(order) == sorted(snapshot.graph.nodes)
    position = {node: i for i, node in enumerate(order)}
    for source, target in snapshot.graph.edges():  # data flows source -> target
        assert position[target] < position[source], (source, target)
    return order


# -- the torch side ----------------------------------------------------------------------
def test_nodes_carry_the_module_paths_under_model(tmp_path: Path) -> None:
    session, snapshot = run_ok(write(tmp_path, MLP))
    assert session.root_name == "output"
    assert modules_by_op(snapshot) == {
        "model.0": {"AddmmBackward0", "TBackward0"},
        "model.1": {"ReluBackward0"},
        "model.2": {"AddmmBackward0", "TBackward0"},
    }
    root = snapshot.graph.nodes["n0"]
    assert root["name"] == "output" and root["output"] and root["shape"] == [3, 1]
    leaves = {a["name"] for _, a in snapshot.graph.nodes(data=True) if a["kind"] == "leaf"}
    assert leaves == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"}
    assert set(snapshot.grads) == leaves and all(g is None for g in snapshot.grads.values())
    assert set(snapshot.layout) == set(snapshot.graph.nodes)
    assert "net.py" in snapshot.outputs[0].text
    assert snapshot.outputs[-1].line == 5 and "output = model(example_input)" in (
        snapshot.outputs[-1].text
    )


def test_backward_from_the_output_matches_plain_torch_in_engine_order(tmp_path: Path) -> None:
    session, _ = run_ok(write(tmp_path, MLP))
    after = session.backward("output")
    assert after.problem is None
    order = assert_engine_order(after)
    assert after.graph.nodes[order[-1]]["kind"] == "leaf"

    torch.manual_seed(SEED)  # the same statements in the same order: the same numbers
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    out = model(torch.randn(3, 4))
    out.backward(torch.ones_like(out))  # a non-scalar root gets a gradient of ones
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(values(after.grads[f"model.{name}"]), parameter.grad)
    (backward,) = after.passes
    np.testing.assert_array_equal(values(backward.gradient), np.ones((3, 1)))
    leaf_steps = {s.node: s for s in backward.steps if s.grad_after is not None}
    for node, step in leaf_steps.items():
        name = after.graph.nodes[node]["name"]
        np.testing.assert_array_equal(values(step.grad_after), values(after.grads[name]))


def test_a_loss_function_is_the_root_and_its_grads_match_torch(tmp_path: Path) -> None:
    session, snapshot = run_ok(write(tmp_path, LOSS))
    assert session.root_name == "loss"
    root = snapshot.graph.nodes["n0"]
    assert root["name"] == "loss" and root["op"] == "MeanBackward0" and root["shape"] == []
    assert {"model.0", "model.1", "model.2"} <= set(modules_by_op(snapshot))
    after = session.backward("loss")
    assert after.problem is None
    assert_engine_order(after)
    assert after.passes[0].gradient is None  # a scalar: backward() needs no gradient

    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = torch.randn(5, 4), torch.randn(5, 1)
    ((model(x) - y) ** 2).mean().backward()
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(values(after.grads[f"model.{name}"]), parameter.grad)


def test_a_loss_may_take_the_model(tmp_path: Path) -> None:
    text = LOSS.replace("def loss():\n    return ((model(x)", "def loss(m):\n    return ((m(x)")
    session, snapshot = run_ok(write(tmp_path, text))
    assert session.root_name == "loss" and "model.0" in modules_by_op(snapshot)


def test_a_tuple_input_is_passed_as_separate_arguments(tmp_path: Path) -> None:
    session, snapshot = run_ok(write(tmp_path, PAIR))
    assert modules_by_op(snapshot) == {
        "model": {"MulBackward0"},
        "model.left": {"AddmmBackward0", "TBackward0"},
        "model.right": {"AddmmBackward0", "TBackward0"},
    }
    after = session.backward("output")
    assert_engine_order(after)

    torch.manual_seed(SEED)
    left, right = nn.Linear(2, 3), nn.Linear(4, 3)
    a, b = torch.randn(5, 2), torch.randn(5, 4)
    (left(a) * right(b)).sum().backward()
    for prefix, layer in (("model.left", left), ("model.right", right)):
        for name, parameter in layer.named_parameters():
            np.testing.assert_array_equal(values(after.grads[f"{prefix}.{name}"]), parameter.grad)


def test_the_files_own_names_label_the_graph_and_backward_works_from_them(
    tmp_path: Path,
) -> None:
    text = (
        "import torch\nfrom torch import nn\n"
        "w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)\n"
        "scaled = w * 2\n"
        "model = nn.Linear(3, 1)\n"
        "name = input()  # a stray prompt reads nothing, rather than the worker's requests\n"
    )
    session = ModelFileSession(write(tmp_path, text), text)
    problem = session.run().problem
    assert problem is not None and problem.line == 6 and problem.message.startswith("EOFError")

    text = text.replace("name = input()", "def loss():\n    return model(scaled).sum()\n#")
    session, snapshot = run_ok(write(tmp_path, text))
    names = {a.get("name") for _, a in snapshot.graph.nodes(data=True)} - {None}
    assert names == {"loss", "scaled", "w", "model.weight", "model.bias"}
    outputs = [n for n, a in snapshot.graph.nodes(data=True) if a.get("output")]
    assert outputs == ["n0"]  # the root is the only output, so Backward starts there
    after = session.backward("scaled")  # as when its node is selected
    assert after.problem is None
    np.testing.assert_array_equal(values(after.grads["w"]), [2.0, 2.0, 2.0])


HEAD = "import torch\nfrom torch import nn\n"
# (file text, line, column, words in the message); columns count from 1, as the editor does.
MISTAKES = {
    "syntax error": (HEAD + "model = nn.Linear(4\nx = 1\n", 3, 18, "'(' was never closed"),
    "exception": (
        HEAD + "model = nn.Linear(4, 1)\nexample_input = torch.randn(3, 4) / nope\n",
        4,
        37,
        "NameError: name 'nope' is not defined",
    ),
    "no model": (HEAD + "example_input = torch.randn(3, 4)\n", 1, 1, "defines no `model`"),
    "model not a module": (
        HEAD + "model = torch.ones(3)\nexample_input = torch.randn(3, 4)\n",
        3,
        1,
        "`model` is a Tensor, not an nn.Module",
    ),
    "input a list": (
        HEAD + "model = nn.Linear(4, 1)\nexample_input = [1.0, 2.0]\n",
        4,
        1,
        "`example_input` is a list, not a tensor or a tuple of tensors",
    ),
    "input of the wrong shape": (
        HEAD + "model = nn.Linear(4, 1)\nexample_input = torch.randn(3, 5)\n",
        4,
        1,
        "model(example_input) failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied",
    ),
    "error in the file's forward": (
        PAIR.replace("self.left(a) * self.right(b)", "self.left(a) * self.middle(b)"),
        12,
        31,
        "'Pair' object has no attribute 'middle'",
    ),
    "loss not a scalar": (
        HEAD + "model = nn.Linear(4, 1)\nx = torch.randn(3, 4)\n\n\ndef loss():\n"
        "    return model(x)\n",
        7,
        1,
        "loss() returned a tensor of shape 3×1, not a scalar",
    ),
    "loss not a tensor": (
        HEAD + "model = nn.Linear(4, 1)\n\n\ndef loss():\n    return 1.5\n",
        6,
        1,
        "loss() returned a float, not a tensor",
    ),
    "nothing requires grad": (
        HEAD + "model = nn.Linear(4, 1).requires_grad_(False)\nexample_input = torch.randn(3, 4)\n",
        3,
        1,
        "does not require grad, so there is no graph to show",
    ),
    "neither input nor loss": (
        HEAD + "model = nn.Linear(4, 1)\n",
        1,
        1,
        "defines neither `example_input` nor `loss`",
    ),
    "exit": (HEAD + "import sys\nsys.exit(2)\n", 4, 1, "the model file called exit()"),
}


@pytest.mark.parametrize("case", MISTAKES)
def test_a_mistake_is_one_message_at_its_line_in_the_model_file(tmp_path: Path, case: str) -> None:
    text, line, column, words = MISTAKES[case]
    snapshot = run_model_file(write(tmp_path, text)).snapshot()
    problem = snapshot.problem
    assert problem is not None
    assert (problem.line, problem.column) == (line, column), problem
    assert words in problem.message
    assert problem.text == text.splitlines()[line - 1]
    for part in (problem.message, problem.hint):
        assert "\n" not in part and "Traceback" not in part and 'File "' not in part


def test_the_worker_runs_a_model_file_and_backward_follows_it(tmp_path: Path) -> None:
    path = write(tmp_path, MLP)
    server = Server(memory_mb=0)
    script = server.handle(Request(1, RunScript("w = torch.ones(2, requires_grad=True)\n")))
    assert script.value is not None and script.value.problem is None
    model = server.handle(Request(2, OpenModelFile(str(path), MLP)))
    assert model.kind == "answered" and model.value.problem is None
    assert "model.0" in modules_by_op(model.value)
    after = server.handle(Request(3, Backward("output"))).value
    assert after.problem is None and len(after.passes) == 1
    assert "w" not in after.grads  # the model replaced the script's run
    broken = server.handle(Request(4, OpenModelFile("m.py", MLP + "raise ValueError('no')\n")))
    assert broken.value.problem == Problem(
        "ValueError: no", line=6, column=1, text="raise ValueError('no')"
    )


# -- the command line --------------------------------------------------------------------
def export(tmp_path: Path, source: Path, out: str, *flags: str) -> subprocess.CompletedProcess:
    """Run `main.py export` in tmp_path on source, which lies there."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", source.name, "-o", out, *flags],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_export_trusted_writes_the_graph_and_a_backward_pass(tmp_path: Path) -> None:
    done = export(tmp_path, write(tmp_path, LOSS), "out.json", "--trusted")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    nodes = {n["id"]: n for n in data["graph"]["nodes"]}
    assert nodes["n0"]["name"] == "loss"
    assert {n.get("module") for n in nodes.values()} >= {"model.0", "model.1", "model.2"}
    (backward,) = data["backward"]
    assert backward["root"] == "n0" and backward["error"] is None
    assert sorted(s["node"] for s in backward["steps"]) == sorted(nodes)
    assert all(data["grads"][f"model.{p}"] is not None for p in ("0.weight", "2.bias"))
    assert data["error"] is None

    done = export(tmp_path, write(tmp_path, LOSS), "out.graphml", "--trusted")
    assert done.returncode == 0, done.stderr
    assert nx.read_graphml(tmp_path / "out.graphml").number_of_nodes() == len(nodes)


def test_export_without_trusted_reads_the_file_as_a_safe_script(tmp_path: Path) -> None:
    done = export(tmp_path, write(tmp_path, "import os\n" + LOSS), "out.json")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "net.py:1:1: error: import os is not available in explorer scripts "
        "(hint: torch (nn, functional, init, linalg, utils, autograd, optim), torch.utils.data "
        "and math can be imported)"
    )
    assert not (tmp_path / "out.json").exists()
    # As a script, the file defines loss() and never calls it: no backward pass is run.
    done = export(tmp_path, write(tmp_path, LOSS), "out.json")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["backward"] == []


def test_export_trusted_reports_a_mistake_on_one_line_and_writes_nothing(tmp_path: Path) -> None:
    text = MISTAKES["input of the wrong shape"][0]
    done = export(tmp_path, write(tmp_path, text), "out.json", "--trusted")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("net.py:4:1: error: model(example_input) failed: RuntimeError:")
    assert not (tmp_path / "out.json").exists()


# -- the window --------------------------------------------------------------------------
class Asked:
    """An answer to the trust question, and the files it was asked about."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> bool:
        self.paths.append(path)
        return self.answer


@pytest.fixture
def open_window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Opens a window whose trust question is answered by `asked`; returns it and what it sent
    to the worker as model files."""
    made: list[tuple[MainWindow, WorkerBridge]] = []

    def open_(asked: Asked) -> tuple[MainWindow, list[tuple[str, str]]]:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        worker = WorkerBridge()
        win = MainWindow(worker, settings, ask_restore=lambda: False, ask_trust=asked)
        made.append((win, worker))
        sent: list[tuple[str, str]] = []
        real = worker.open_model_file
        monkeypatch.setattr(
            worker, "open_model_file", lambda p, t: sent.append((p, t)) or real(p, t)
        )
        win.show()
        with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
            pass  # the first run, of the example script
        return win, sent

    yield open_
    for win, worker in made:
        win.document.set_modified(False)
        win.close()
        worker.stop()


def choose(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def menu_action(win, text: str):
    (files,) = [a.menu() for a in win.menuBar().actions() if a.text() == "&File"]
    return files, next(a for a in files.actions() if a.text() == text)


def test_the_trust_question_defaults_to_cancel_and_names_the_file(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path, MLP)
    box = model_files.trust_box(None, path)
    qtbot.addWidget(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.Cancel)
    words = box.informativeText()
    assert str(path) in words and "Python code" in words and "your permissions" in words
    assert "worker process" in words and "Open only files you trust" in words


def test_declining_the_trust_question_sends_nothing_to_the_worker(
    open_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = Asked(False)
    win, sent = open_window(asked)
    before = win.model.snapshot
    path = write(tmp_path, MLP)
    choose(monkeypatch, path)
    files, action = menu_action(win, "Open &Model File…")
    recent = next(a for a in files.actions() if a.text() == "Open &Recent")
    assert files.actions().index(action) == files.actions().index(recent) + 1
    action.trigger()
    assert asked.paths == [path]
    assert sent == [] and not win.worker.busy and not win.model.running
    assert win.model.snapshot is before


def test_accepting_shows_the_graph_and_backward_steps_through_it(
    qtbot, open_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win, sent = open_window(Asked(True))
    script = win.editor.toPlainText()
    path = write(tmp_path, MLP, "mlp.py")
    choose(monkeypatch, path)
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        menu_action(win, "Open &Model File…")[1].trigger()
    assert sent == [(str(path), MLP)]
    snapshot = win.model.snapshot
    assert snapshot.problem is None and not win.error_label.isVisible()
    assert "model.0" in modules_by_op(snapshot)
    assert win.editor.toPlainText() == script  # the editor keeps its script
    assert win.statusBar().currentMessage().startswith("Model file mlp.py · Ran in")
    assert "mlp.py" in win.output.toPlainText()

    win.stepper.speed.setCurrentIndex(win.stepper.speed.count() - 1)  # fastest
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        qtbot.mouseClick(win.stepper.backward, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.model.playing, timeout=30_000)
    assert win.model.pass_count == 1
    assert win.model.cursor.step_index == win.model.step_count() - 1
    assert win.model.step_count() == snapshot.graph.number_of_nodes()
    assert win.statusBar().currentMessage().startswith("Model file mlp.py")
    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    out = model(torch.randn(3, 4))
    out.backward(torch.ones_like(out))
    grads = win.model.snapshot.grads
    np.testing.assert_array_equal(values(grads["model.0.weight"]), model[0].weight.grad)

    # A script run afterwards is the editor's again, problems and all.
    win.editor.setPlainText("z = nope\n")
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        win.run_action.trigger()
    assert win.error_label.text().startswith("Line 1, column 5:")
    assert not win.statusBar().currentMessage().startswith("Model file")


def test_a_model_file_mistake_names_the_file_and_leaves_the_editor_unmarked(
    qtbot, open_window, tmp_path: Path
) -> None:
    win, _ = open_window(Asked(True))
    text = MISTAKES["exception"][0]
    path = write(tmp_path, text, "broken.py")
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        assert win.run_model_file(path)
    assert win.error_label.isVisible()
    assert win.error_label.text() == (
        "broken.py, line 4, column 37: NameError: name 'nope' is not defined"
    )
    assert "Traceback" not in win.output.toPlainText()
    assert win.editor._error is None  # the line is the model file's, not the script's
