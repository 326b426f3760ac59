"""The desktop app as a user meets it: cancel, crashes, memory cap, settings, files, playback."""

from __future__ import annotations

import math
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph
import pytest
import torch
from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from explorer.ui import theme as themes
from explorer.ui.window import about, documents
from explorer.ui.window.documents import autosave_path
from explorer.ui.window.main_window import MainWindow
from tests.helpers import NOTES, WAIT_MS, Windows, run

pytestmark = [
    pytest.mark.skipif(
        not Path("/proc/self/status").exists(), reason="the worker tests need Linux"
    ),
    # App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
    pytest.mark.usefixtures("private_paths", "no_modal_dialogs"),
]

# Measured with explorer.runs.session.run_script: 29 s on a 2-core machine, and the worker's own
# limit stops it only at 60 s, so a run that ends within a few seconds was cancelled or killed.
LONG = "a = torch.randn(64, 64)\nfor i in range(100000):\n    b = a @ a @ a\n"
# A gradient that is not the same everywhere, so a wrong or stale value shows.
CUBE = (
    "x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
    "y = (x**3).sum()\n"
    "y.backward(retain_graph=True)\n"
)
TENSOR_MB = 60  # torch.ones(15_000_000) in float32, under the 20 million element limit


def start_long_run(win: MainWindow) -> None:
    win.editor.setPlainText(LONG)
    win.run_action.trigger()
    assert win.model.running and win.worker.busy


def wait_for_run(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.model.running, timeout=WAIT_MS)


def leaf_named(win: MainWindow, name: str) -> str:
    graph = win.model.snapshot.graph
    (node,) = [n for n, a in graph.nodes(data=True) if a["kind"] == "leaf" and a["name"] == name]
    return node


def shown_grad(win: MainWindow, node: str) -> np.ndarray:
    """The .grad the leaves panel shows now: the value after the arrow, as numbers."""
    text = win.leaves.grad_text(node).split("→")[-1].strip()
    assert text.startswith("[") and text.endswith("]"), text
    return np.array([float(v) for v in text[1:-1].split(",")])


def cube_grad(passes: int) -> np.ndarray:
    """What plain torch gives for CUBE's x.grad after `passes` backward calls."""
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    for _ in range(passes):
        y.backward(retain_graph=True)
    return x.grad.numpy()


def vm_size_mb(pid: int | None) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmSize"))
    return math.ceil(kb / 1024)


# -- running -----------------------------------------------------------------------------
def test_cancel_stops_a_long_run_and_the_next_run_works(qtbot, window: MainWindow) -> None:
    old_pid = window.worker.client.pid
    start_long_run(window)
    assert window.cancel_action.isEnabled()
    qtbot.wait(1000)  # the window keeps handling events while the worker computes
    assert window.model.running and window.cancel_action.isEnabled()
    assert window.statusBar().currentMessage() == "Running…"
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.model.running, timeout=5000)
    assert window.statusBar().currentMessage().startswith("Cancelled")
    assert not window.cancel_action.isEnabled()
    assert window.worker.client.pid not in (None, old_pid)  # the busy worker was replaced
    run(qtbot, window, NOTES)
    assert window.model.snapshot.problem is None
    assert np.all(window.model.snapshot.grads["x"].values == 16)


def test_a_worker_killed_from_outside_is_reported_and_the_next_run_works(
    qtbot, window: MainWindow
) -> None:
    start_long_run(window)
    old_pid = window.worker.client.pid
    os.kill(old_pid, signal.SIGKILL)
    wait_for_run(qtbot, window)
    assert window.error_label.isVisible()
    assert "worker stopped unexpectedly" in window.error_label.text()
    assert "worker stopped unexpectedly" in window.statusBar().currentMessage()
    assert not window.cancel_action.isEnabled()
    run(qtbot, window, NOTES)
    assert window.worker.client.pid not in (None, old_pid)
    assert window.model.snapshot.problem is None and not window.error_label.isVisible()
    assert np.all(window.model.snapshot.grads["x"].values == 16)


def test_a_script_over_the_memory_cap_shows_a_memory_message(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What this worker needs once torch's threads have started, plus room for five tensors.
    run(qtbot, window, "a = torch.ones(15_000_000) * 2")
    run(qtbot, window, "z = 1")
    cap = vm_size_mb(window.worker.client.pid) + 5 * TENSOR_MB
    old_pid = window.worker.client.pid
    monkeypatch.setattr(QInputDialog, "getInt", lambda *args, **kwargs: (cap, True))
    window.ask_memory_limit()  # Settings > Worker Memory Limit…
    assert window.settings.value("worker/memory_mb", type=int) == cap
    assert window.worker.client.memory_mb == cap
    assert window.worker.client.pid != old_pid  # idle, so replaced under the new cap
    run(qtbot, window, "xs = []\nfor i in range(12):\n    xs.append(torch.ones(15_000_000))\n")
    text = window.error_label.text()
    assert window.error_label.isVisible()
    assert f"more memory than the worker's cap ({cap:,} MB)" in text, text
    assert "smaller tensors" in text
    run(qtbot, window, NOTES)
    assert window.model.snapshot.problem is None and not window.error_label.isVisible()
    assert np.all(window.model.snapshot.grads["x"].values == 16)


def test_run_as_you_type_runs_after_a_pause_in_typing(qtbot, window: MainWindow) -> None:
    window.editor.setPlainText("")
    window.type_action.trigger()
    assert window.type_action.isChecked()
    assert window.settings.value("run/as_you_type", type=bool)
    window.editor.setFocus()
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        qtbot.keyClicks(window.editor, "6*7")
        assert window.editor.toPlainText() == "6*7"
        assert window._type_timer.isActive()  # waiting for a pause, not run per keystroke
    assert [o.text for o in window.model.snapshot.outputs] == ["42"]


# -- settings, autosave, files -----------------------------------------------------------
def test_theme_direction_geometry_and_script_persist_across_windows(
    qtbot, windows: Windows, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def question(*args, **kwargs):
        asked.append(args[1] if len(args) > 1 else "")
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "question", question)
    first = windows.open()
    assert first.upward_action.isChecked()  # the default: inputs at the bottom
    first.set_theme("dark")
    first.upward_action.trigger()
    first.docks["output"].toggleViewAction().trigger()
    first.resize(760, 620)  # the test screen is 800 px square; the window's minimum rules
    first.move(20, 30)
    qtbot.wait(50)
    size = first.size()
    assert size.height() == 620
    script = "w = torch.ones(2, requires_grad=True)\nv = (w * 3).sum()\n"
    before = first.editor.toPlainText()
    first.editor.setPlainText(script)
    assert first.close()
    assert asked == ["Unsaved changes"]  # closing with changes asks first
    assert not first.isVisible()

    second = windows.open()
    assert second.theme_actions["dark"].isChecked()
    assert second.model.theme.name == "dark"
    assert QApplication.instance().palette() == themes.palette(themes.DARK)
    assert not second.upward_action.isChecked()
    assert second.size() == size
    assert not second.docks["output"].isVisible()
    assert second.editor.toPlainText() == before  # Discard discarded the edit, for good
    assert not second.document.modified
    second.editor.setPlainText(script)
    second.document.set_modified(False)  # as if saved
    assert second.close()
    third = windows.open()
    assert third.editor.toPlainText() == script  # the script kept is the one left unchanged
    assert sorted(n for _, n in third.model.snapshot.graph.nodes(data="name") if n) == ["v", "w"]


def test_the_window_can_be_made_small_enough_for_a_laptop_screen(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES + "z = x * 2\n")  # a snapshot, passes and a long step caption
    window.model.to_end()
    window.resize(1366, 768)
    qtbot.wait(50)
    assert window.size() == QSize(1366, 768), window.minimumSizeHint()


def test_after_a_crash_the_autosaved_script_is_offered(
    qtbot, windows: Windows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which text is saved and offered is the point here, not how often the timer fires.
    monkeypatch.setattr(documents, "AUTOSAVE_MS", 200)
    assert tmp_path in autosave_path().parents  # the test's own location, not the user's
    settings = windows.settings()
    settings.setValue("files/last_script", "last = 1\n")
    settings.sync()
    crashed = windows.open()
    assert crashed.editor.toPlainText() == "last = 1\n"
    crashed.editor.setPlainText("unsaved = 2\n")
    saved = autosave_path()
    qtbot.waitUntil(  # the autosave timer writes it within seconds
        lambda: saved.exists() and saved.read_text() == "unsaved = 2\n", timeout=15_000
    )
    windows.drop(crashed)  # no closeEvent: the session never ended

    asked: list[bool] = []

    def restore() -> bool:
        asked.append(True)
        return True

    restored = windows.open(ask_restore=restore)
    assert asked == [True]
    assert restored.editor.toPlainText() == "unsaved = 2\n"
    assert [o.text for o in restored.model.snapshot.outputs] == []
    windows.drop(restored)  # crash again

    declined = windows.open(ask_restore=lambda: asked.append(False) or False)
    assert asked == [True, False]
    assert declined.editor.toPlainText() == "last = 1\n"
    declined.close()
    assert windows.settings().value("session/running", type=bool) is False

    calm = windows.open(ask_restore=lambda: asked.append(True) or True)
    assert asked == [True, False]  # a session that ended normally asks nothing
    assert calm.editor.toPlainText() == "last = 1\n"


def test_open_save_save_as_title_and_recent_files(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    first = tmp_path / "first.py"
    first.write_text("a = torch.ones(3, requires_grad=True)\nb = (a * 2).sum()\nb\n")
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        assert window.open_path(first)
    assert window.editor.toPlainText() == first.read_text()
    assert [o.text for o in window.model.snapshot.outputs] == ["tensor(6., grad_fn=<SumBackward0>)"]
    title = window.windowHandle().title()
    assert "first.py" in title and "*" not in title
    assert not window.isWindowModified()

    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.editor, "b * 5")
    assert window.isWindowModified()
    assert "first.py*" in window.windowHandle().title()

    second = tmp_path / "sub" / "second.py"
    second.parent.mkdir()
    text = window.editor.toPlainText()
    assert window._save_to(second)
    assert second.read_bytes() == text.encode("utf-8")
    assert first.read_text().endswith("b\n")  # Save As left the opened file alone
    assert not window.isWindowModified()
    assert "second.py" in window.windowHandle().title()
    assert "*" not in window.windowHandle().title()
    recent = [str(second.resolve()), str(first.resolve())]
    assert window.document.recent() == recent
    assert [a.text() for a in window.recent_menu.actions()] == recent

    not_utf8 = tmp_path / "latin1.py"
    not_utf8.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    too_big = tmp_path / "big.py"
    too_big.write_text("#" * 1_000_001)
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    for bad in (not_utf8, too_big, fifo, Path("/dev/zero")):
        assert not window.open_path(bad)
        assert len(warnings) == 1 and bad.name in warnings.pop()
        assert window.editor.toPlainText() == text
        assert window.document.path == second
        assert not window.model.running
    assert window.document.recent() == recent


def test_opening_a_recent_file_asks_before_dropping_unsaved_changes(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "kept.py"
    script.write_text("k = 1\n")
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        window.open_path(script)
    window.editor.setPlainText("k = 2  # not saved yet\n")
    asked: list[str] = []

    def question(*args, **kwargs):
        asked.append(args[1] if len(args) > 1 else "")
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    (entry,) = window.recent_menu.actions()
    entry.trigger()  # File > Open Recent > kept.py
    assert asked == ["Unsaved changes"]
    assert window.editor.toPlainText() == "k = 2  # not saved yet\n"


# -- finding and replay ------------------------------------------------------------------
def test_find_node_selects_by_label_and_reports_no_match(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    graph = window.model.snapshot.graph
    node = window.find_node("pow")
    assert node is not None and graph.nodes[node]["label"] == "pow"
    assert window.model.selected == node
    assert window.find_node("zzz") is None
    assert window.model.selected == node
    assert window.statusBar().currentMessage() == "No node matches 'zzz'"

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.find_box
    qtbot.keyClicks(window.find_box, "AddBackward")
    qtbot.keyClick(window.find_box, Qt.Key.Key_Return)
    assert graph.nodes[window.model.selected]["op"] == "AddBackward0"


def test_backward_button_plays_to_the_end_with_torchs_gradient(qtbot, window: MainWindow) -> None:
    run(qtbot, window, CUBE)
    assert window.model.pass_count == 1
    window.stepper.speed.setCurrentIndex(window.stepper.speed.count() - 1)  # fastest
    qtbot.mouseClick(window.stepper.backward, Qt.MouseButton.LeftButton)
    assert window.model.playing
    qtbot.waitUntil(lambda: not window.model.playing, timeout=30_000)
    count = window.model.step_count()
    assert count > 0 and window.model.cursor.step_index == count - 1
    expected = cube_grad(1)
    np.testing.assert_array_equal(window.model.snapshot.grads["x"].values, expected)
    np.testing.assert_allclose(shown_grad(window, leaf_named(window, "x")), expected, rtol=1e-3)


def test_two_backward_passes_accumulate_in_pass_two(qtbot, window: MainWindow) -> None:
    run(qtbot, window, CUBE + "y.backward()\n")
    passes = window.stepper.passes
    assert window.model.pass_count == 2
    assert passes.count() == 2 and passes.isVisible()
    assert [passes.itemText(i) for i in range(2)] == ["pass 1 (line 3)", "pass 2 (line 4)"]
    passes.setCurrentIndex(1)
    assert window.model.cursor.pass_index == 1
    qtbot.mouseClick(window.stepper.last, Qt.MouseButton.LeftButton)
    assert window.model.cursor.step_index == window.model.step_count() - 1
    x = leaf_named(window, "x")
    np.testing.assert_allclose(shown_grad(window, x), 2 * cube_grad(1), rtol=1e-3)
    np.testing.assert_allclose(shown_grad(window, x), cube_grad(2), rtol=1e-3)
    before = window.leaves.grad_text(x).split("→")[0]
    np.testing.assert_allclose(
        [float(v) for v in before.strip()[1:-1].split(",")], cube_grad(1), rtol=1e-3
    )
    passes.setCurrentIndex(0)
    window.model.to_end()
    np.testing.assert_allclose(shown_grad(window, x), cube_grad(1), rtol=1e-3)


# -- about and layers --------------------------------------------------------------------
def test_about_lists_the_versions_it_runs_on(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = about.about_html()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.show_about()
    assert shown == [html]
    for name, version in (
        ("PyTorch", torch.__version__),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("pyqtgraph", pyqtgraph.__version__),
    ):
        assert f"<td>{name}</td><td><b>{version}</b></td>" in html


def test_the_window_module_does_not_import_torch() -> None:
    code = "import sys\nimport explorer.ui.window.main_window\nprint('torch' in sys.modules)\n"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


def test_presenter_mode_enlarges_hides_the_side_panes_and_comes_back(qtbot, window) -> None:
    run(qtbot, window, NOTES)
    shown = {name: dock.isVisible() for name, dock in window.docks.items()}
    normal_theme = window.model.theme
    editor_size = window.editor.font().pointSize()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presenter.active and window.presenter_action.isChecked()
    assert window.isFullScreen()
    hidden = ("output", "inspector", "leaves", "descent")
    assert not any(window.docks[name].isVisible() for name in hidden)
    assert window.docks["editor"].isVisible()
    assert window.model.theme.line_scale > normal_theme.line_scale
    assert window.model.theme.text in ("#000000", "#ffffff")  # high contrast
    assert window.editor.font().pointSize() > editor_size
    assert window.presenter.caption.isVisible()
    window.model.step_forward()
    assert window.presenter.caption.text() == window.stepper.caption_text()
    assert window.presenter.caption.font().pointSize() >= 24
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.presenter.active and not window.isFullScreen()
    assert window.model.theme == normal_theme
    assert window.editor.font().pointSize() == editor_size
    assert {name: dock.isVisible() for name, dock in window.docks.items()} == shown
    assert not window.presenter.caption.isVisible()


def test_follow_system_is_the_desktops_theme_after_choosing_dark(qtbot, window) -> None:
    system = themes.system_theme()
    window.set_theme("dark")
    window.set_theme("system")  # the palette is the dark theme's now, not the desktop's
    assert window.model.theme == system


def test_a_backward_on_request_keeps_the_graph_as_drawn_and_plays_its_pass(qtbot, window) -> None:
    run(qtbot, window, "x = torch.full((2,3), 4., requires_grad=True)\ny = 2*x**2+3")
    assert window.model.pass_count == 0
    graph, drawn = window.model.snapshot.graph, window.graph.geometry_
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        window.backward()
    assert window.model.snapshot.graph is graph  # not sent again, not laid out again
    assert window.graph.geometry_ is drawn  # nor drawn again
    assert window.model.pass_count == 1 and window.model.playing
    x_grad = window.model.snapshot.grads["x"]
    assert x_grad is not None and x_grad.values.tolist() == [[16.0] * 3] * 2
