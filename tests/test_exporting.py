"""Exports of the graph as drawn (PNG, SVG, PDF) and of the backward pass (GIF, PNG frames),
from the window's File → Export menu and from `python main.py export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage

from explorer.ui.exports.dialog import KINDS, ExportDialog, ExportRequest
from explorer.ui.exports.images import ExportScene, ImageOptions
from explorer.ui.exports.passes import FRAME_WORK, MAX_FRAMES, frame_steps, plan_frames
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.inspector import withheld_run
from explorer.ui.theme import LIGHT
from explorer.ui.window.documents import read_text_file
from explorer.ui.window.main_window import MainWindow
from explorer.view.geometry import CARD_H
from explorer.view.replay import Cursor
from tests.helpers import WAIT_MS, run, run_ok

# App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
pytestmark = pytest.mark.usefixtures("private_paths", "no_modal_dialogs")

ROOT = Path(__file__).resolve().parents[1]
NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\ny = 2*x**2+3\ny.backward(torch.ones_like(x))\n"
)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def window(window: MainWindow, qtbot) -> MainWindow:
    """The shared window, larger, showing the notes' example."""
    window.resize(1300, 850)
    window.editor.setPlainText(NOTES)
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return window


class Answers:
    """Stands in for the export dialog and the warning box."""

    def __init__(self, window: MainWindow, request: ExportRequest | None) -> None:
        self.request = request
        self.asked: list[tuple[str, Path, str]] = []
        self.warnings: list[str] = []
        window.exports.ask = self.ask
        window.exports.warn = self.warnings.append

    def ask(self, kind, path: Path, about: str) -> ExportRequest | None:
        self.asked.append((kind.key, path, about))
        return self.request


def export(window: MainWindow, key: str, request: ExportRequest | None) -> Answers:
    answers = Answers(window, request)
    window.exports.actions[key].trigger()
    return answers


def node(window: MainWindow, op: str) -> str:
    graph = window.model.snapshot.graph
    return next(n for n, a in graph.nodes(data=True) if a["op"] == op)


def edge_sample(scene: ExportScene, source: str, target: str, ratio: float) -> tuple[int, int]:
    """A device pixel on the edge source → target, a fifth of the way along (clear of the
    gradient's label in its middle and of the arrowhead at its end)."""
    geo = scene.view.geometry_
    (index,) = [i for i, (u, v, _) in enumerate(geo.edge_keys) if (u, v) == (source, target)]
    tail, head = geo.edge_line(index)[0], geo.edge_line(index)[-1]
    x, y = tail + (head - tail) * 0.2
    point = scene.image_point(x, y)
    return round(point.x() * ratio), round(point.y() * ratio)


def colour_near(image: QImage, x: int, y: int, colour: str, reach: int = 2) -> bool:
    """Whether some pixel within reach of (x, y) has exactly colour."""
    want = QColor(colour).rgb() & 0xFFFFFF
    return any(
        image.pixel(x + dx, y + dy) & 0xFFFFFF == want
        for dx in range(-reach, reach + 1)
        for dy in range(-reach, reach + 1)
    )


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [t.text.strip() for t in root.iter(f"{SVG}text") if t.text and t.text.strip()]


# -- from the window ------------------------------------------------------------------------
def test_png_is_drawn_at_twice_the_size_with_the_current_steps_highlights(
    window: MainWindow, tmp_path: Path
) -> None:
    model = window.model
    model.stop()
    model.move_to(Cursor(0, 1))  # add and mul have run; mul is running
    out = tmp_path / "graph.png"
    answers = export(window, "png", ExportRequest(out))
    assert answers.warnings == [] and answers.asked[0][0] == "png"
    assert model.cursor == Cursor(0, 1)  # the user's place in the replay did not move
    image = QImage(str(out))
    scene = ExportScene(model)
    assert (image.width(), image.height()) == (2 * scene.size.width(), 2 * scene.size.height())
    mul, add, pow_ = (node(window, op) for op in ("MulBackward0", "AddBackward0", "PowBackward0"))
    assert colour_near(image, *edge_sample(scene, mul, add, 2), LIGHT.flow)  # carried gradient
    assert colour_near(image, *edge_sample(scene, pow_, mul, 2), LIGHT.active)  # sent just now
    leaf = node(window, "AccumulateGrad")
    (below,) = [(u, v) for u, v, _ in model.snapshot.graph.edges(keys=True) if u == leaf]
    assert not colour_near(image, *edge_sample(scene, *below, 2), LIGHT.flow)  # not yet
    assert not colour_near(image, *edge_sample(scene, *below, 2), LIGHT.active)
    corner = QColor(image.pixel(1, 1)).name()
    assert corner == LIGHT.background
    scene.close()


def test_svg_holds_every_cards_text_at_the_current_step(window: MainWindow, tmp_path: Path):
    window.model.stop()
    window.model.move_to(Cursor(0, 1))
    out = tmp_path / "graph.svg"
    assert export(window, "svg", ExportRequest(out)).warnings == []
    texts = svg_texts(out)
    for title in ("x", "pow", "mul", "y = add"):
        assert title in texts
    assert texts.count("grad all 1") == 2  # add and mul have their gradient, pow not yet
    assert "all 2" in texts  # the gradient mul sent to pow, on the edge


def test_pdf_is_one_page_that_fits_the_graph(window: MainWindow, tmp_path: Path) -> None:
    out = tmp_path / "graph.pdf"
    assert export(window, "pdf", ExportRequest(out, ImageOptions(white=True))).warnings == []
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 1  # one page
    assert b"/MediaBox [0 0 595" in data  # A4 portrait: the notes' graph is a tall column


def test_gif_has_a_frame_for_the_start_and_each_step(window: MainWindow, tmp_path: Path):
    model = window.model
    model.stop()
    model.move_to(Cursor(0, 2))
    out = tmp_path / "pass.gif"
    answers = export(window, "gif", ExportRequest(out, frame_ms=250))
    assert answers.warnings == []
    assert "5 frames" in answers.asked[0][2]
    assert model.cursor == Cursor(0, 2)
    with Image.open(out) as gif:
        assert gif.n_frames == model.step_count(0) + 1 == 5
        assert gif.info["loop"] == 0
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert durations[:-1] == [250] * 4 and durations[-1] > 250  # the end is held


def test_png_frames_go_into_a_folder_in_order(window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    assert export(window, "frames", ExportRequest(folder)).warnings == []
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{i:04d}.png" for i in range(5)]
    flow = QColor(LIGHT.flow).rgb() & 0xFFFFFF
    counts = []
    for name in names:
        image = QImage(str(folder / name)).convertToFormat(QImage.Format.Format_RGB32)
        pixels = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)
        counts.append(int(((pixels & 0xFFFFFF) == flow).sum()))
    assert counts[0] == 0  # before the pass nothing carried gradient
    assert counts[1] < counts[2] < counts[3] < counts[4]  # a little more each step


def test_visible_area_shows_what_the_window_shows(window: MainWindow, tmp_path: Path) -> None:
    graph = window.graph
    pow_ = node(window, "PowBackward0")
    x, y = graph.geometry_.pos[graph.geometry_.index[pow_]]
    graph.view.setRange(QRectF(x - 1.5, y - CARD_H, 3.0, 2 * CARD_H), padding=0)
    out = tmp_path / "zoomed.svg"
    request = ExportRequest(out, ImageOptions(visible_area=True))
    assert export(window, "svg", request).warnings == []
    texts = svg_texts(out)
    assert "pow" in texts and "y = add" not in texts


def test_data_exports_from_the_window(window: MainWindow, tmp_path: Path) -> None:
    assert export(window, "json", ExportRequest(tmp_path / "g.json")).warnings == []
    assert '"format": 1' in (tmp_path / "g.json").read_text()
    assert export(window, "graphml", ExportRequest(tmp_path / "g.graphml")).warnings == []
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 4
    assert export(window, "dot", ExportRequest(tmp_path / "g")).warnings == []
    assert (tmp_path / "g.dot").read_text().startswith("digraph autograd {")


def test_a_failed_write_is_one_message_and_no_file(window: MainWindow, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "graph.png"
    answers = export(window, "png", ExportRequest(out))
    (message,) = answers.warnings
    assert str(out) in message and "No such file or directory" in message
    assert "Traceback" not in message
    assert not out.exists()
    gif = export(window, "gif", ExportRequest(tmp_path / "missing" / "pass.gif"))
    assert len(gif.warnings) == 1 and not (tmp_path / "missing").exists()


def test_cancelled_dialog_writes_nothing(window: MainWindow, tmp_path: Path) -> None:
    answers = export(window, "svg", None)
    assert answers.warnings == [] and list(tmp_path.glob("*.svg")) == []


def test_the_dialog_asks_where_and_what_the_picture_shows(window: MainWindow) -> None:
    gif = next(k for k in KINDS if k.key == "gif")
    previous = ExportRequest(Path(), ImageOptions(white=True), frame_ms=500)
    dialog = ExportDialog(window, gif, Path("/tmp/notes-backward.gif"), "5 frames.", previous)
    assert dialog.whole.isChecked() and dialog.white.isChecked()  # as last time
    assert dialog.frame_ms.value() == 500 and dialog.frame_ms.isVisibleTo(dialog)
    dialog.visible.setChecked(True)
    dialog.frame_ms.setValue(1200)
    dialog.path_edit.setText("/tmp/other.gif")
    request = dialog.request()
    assert request == ExportRequest(
        Path("/tmp/other.gif"), ImageOptions(visible_area=True, white=True), 1200
    )
    png = next(k for k in KINDS if k.key == "png")
    still = ExportDialog(window, png, Path("/tmp/a.png"), "", ExportRequest(Path()))
    assert not still.frame_ms.isVisibleTo(still)
    dialog.deleteLater()
    still.deleteLater()


def test_the_offered_name_is_the_scripts(window: MainWindow, tmp_path: Path) -> None:
    script = tmp_path / "chain.py"
    script.write_text(NOTES)
    window.open_path(script)
    answers = export(window, "gif", None)
    ((_, path, _),) = answers.asked
    assert path.name == "chain-backward.gif"


def test_a_long_pass_is_shown_by_evenly_spaced_steps() -> None:
    assert frame_steps(4) == [-1, 0, 1, 2, 3]
    steps = frame_steps(2_000)
    assert len(steps) == MAX_FRAMES and steps[0] == -1 and steps[-1] == 1_999
    assert steps == sorted(set(steps))
    gaps = np.diff(steps[1:])
    assert gaps.min() >= 3 and gaps.max() <= 4


def test_a_wide_graph_gets_fewer_frames_so_its_gif_is_made_in_about_a_minute(qapp) -> None:
    wide = (
        "x = torch.randn(1, requires_grad=True)\nparts = []\nfor i in range(700):\n"
        "    parts.append(x * i)\ny = torch.stack(parts).sum()\ny.backward()\n"
    )
    model = ExplorerModel()
    model.set_snapshot(run_ok(wide))
    graph = model.snapshot.graph
    items = graph.number_of_nodes() + graph.number_of_edges()
    plan = plan_frames(model, 0)
    assert plan.step_count > MAX_FRAMES
    assert len(plan.steps) == FRAME_WORK // items < MAX_FRAMES
    assert plan.steps[0] == -1 and plan.steps[-1] == plan.step_count - 1
    assert "frames at most for a graph this large" in plan.note


# -- from the command line ------------------------------------------------------------------
def _cli(tmp_path: Path, *args: str, script: str = NOTES) -> subprocess.CompletedProcess:
    source = tmp_path / "script.py"
    source.write_text(script)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env.pop("WAYLAND_DISPLAY", None)  # no display at all: pictures must not need one
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(source), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )


def test_cli_png_svg_and_pdf_without_a_display(tmp_path: Path) -> None:
    for name in ("out.png", "out.svg", "out.pdf"):
        done = _cli(tmp_path, "-o", name)
        assert done.returncode == 0, done.stderr
    image = QImage(str(tmp_path / "out.png"))
    assert image.width() > 300 and image.height() > 600  # twice a readable size
    assert image.width() % 2 == 0 and image.height() % 2 == 0
    texts = svg_texts(tmp_path / "out.svg")
    assert "grad all 16" in texts  # the final state: x.grad has filled
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_cli_step_shows_the_state_after_that_step(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-o", "mid.svg", "--step", "2")
    assert done.returncode == 0, done.stderr
    texts = svg_texts(tmp_path / "mid.svg")
    assert texts.count("grad all 1") == 2 and "grad all 16" not in texts
    start = _cli(tmp_path, "-o", "start.svg", "--step", "0", "--white")
    assert start.returncode == 0, start.stderr
    assert not [t for t in svg_texts(tmp_path / "start.svg") if t.startswith("grad")]
    assert 'fill="#ffffff"' in (tmp_path / "start.svg").read_text()


def test_cli_gif_has_every_step(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-o", "pass.gif", "--frame-ms", "300")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "pass.gif") as gif:
        assert gif.n_frames == 5
        assert gif.info["duration"] == 300


def test_cli_refuses_what_it_cannot_do_and_writes_nothing(tmp_path: Path) -> None:
    unknown = _cli(tmp_path, "-o", "out.bmp")
    assert unknown.returncode == 2 and "unknown output format '.bmp'" in unknown.stderr
    assert ".svg" in unknown.stderr and not (tmp_path / "out.bmp").exists()
    bad_path = _cli(tmp_path, "-o", str(tmp_path / "missing" / "out.png"))
    assert bad_path.returncode == 2 and "cannot write" in bad_path.stderr
    assert not (tmp_path / "missing").exists()
    step = _cli(tmp_path, "-o", "out.png", "--step", "9")
    assert step.returncode == 2 and "steps 0 to 4" in step.stderr
    assert not (tmp_path / "out.png").exists()
    for done in (unknown, bad_path, step):
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("-o", "out.json", "--step", "2"), "--step is for .png, .svg, .pdf pictures, not .json"),
        (("-o", "out.gif", "--frame-ms", "-5"), "--frame-ms must be from 10 to 60,000"),
        (("-o", "out.gif", "--frame-ms", "655350"), "--frame-ms must be from 10 to 60,000"),
        (("-o", "script.py"), "unknown output format '.py'"),
        (("-o", "out.json", "--memory-mb", "-1"), "--memory-mb must be a number of MiB"),
        (("-o", "script.json"), None),  # a lesson exported over itself: below
    ],
)
def test_cli_checks_its_arguments_before_running_anything(
    tmp_path: Path, args: tuple[str, ...], words: str | None
) -> None:
    if words is None:  # the output is the lesson being exported
        lesson = tmp_path / "script.json"
        lesson.write_bytes((ROOT / "resources" / "lessons" / "02-chain-rule.json").read_bytes())
        before = lesson.read_bytes()
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "export", str(lesson), "-o", str(lesson)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 2 and "is the file being exported" in done.stderr
        assert lesson.read_bytes() == before
    else:
        done = _cli(tmp_path, *args)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert not any(p.suffix in (".json", ".gif") for p in tmp_path.iterdir())  # none written
        assert (tmp_path / "script.py").read_text() == NOTES
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_cli_script_error_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-o", "out.png", script="x = torch.full((2,3), 4, requires_grad=True)\n")
    assert done.returncode == 1 and ":1:5: error:" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.png").exists()


def test_cli_gif_needs_a_backward_pass(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-o", "out.gif", script="x = torch.ones(2, requires_grad=True)\n")
    assert done.returncode == 2 and "no backward pass" in done.stderr
    assert not (tmp_path / "out.gif").exists()


def test_cli_draws_a_lesson(tmp_path: Path) -> None:
    lesson = ROOT / "resources" / "lessons" / "02-chain-rule.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(lesson), "-o", "lesson.svg"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "mul" in svg_texts(tmp_path / "lesson.svg")


def test_cli_draws_a_trusted_model_file(tmp_path: Path) -> None:
    model = (
        "import torch\nfrom torch import nn\n\n"
        "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))\n"
        "example_input = torch.randn(3, 4)\n"
    )
    done = _cli(tmp_path, "-o", "model.svg", "--trusted", script=model)
    assert done.returncode == 0, done.stderr
    texts = svg_texts(tmp_path / "model.svg")
    assert "output = addmm" in texts or any(t.startswith("output") for t in texts)
    assert any(t.startswith("0.weight") or t.endswith("0.weight") for t in texts), texts


def test_cli_and_window_read_a_script_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-o", "out.json", script="\ufeff" + NOTES)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["grads"]["x"] == [[16.0] * 3] * 2
    assert read_text_file(tmp_path / "script.py") == NOTES


def test_the_windows_json_has_every_saved_tensor_the_worker_kept(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    script = "w = torch.arange(1., 9., requires_grad=True)\ny = (w * w.exp()).sum()\n"
    run(qtbot, window, script)
    graph = window.model.snapshot.graph
    mul = node(window, "MulBackward0")
    assert withheld_run(graph.nodes[mul].saved) is not None  # 8 values: left in the worker
    assert export(window, "json", ExportRequest(tmp_path / "g.json")).warnings == []
    written = json.loads((tmp_path / "g.json").read_text())
    (saved,) = [n["saved"] for n in written["graph"]["nodes"] if n["op"] == "MulBackward0"]
    w = torch.arange(1.0, 9.0)
    np.testing.assert_array_equal(saved["self"]["values"], w.numpy())
    np.testing.assert_allclose(saved["other"]["values"], w.exp().numpy(), rtol=1e-6)
