"""The window on small and scaled screens, the stepper's caption, the status bar's counts, and
presenter mode's reading sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextBlock, QTextFragment
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from explorer.ui.model import ExplorerModel
from explorer.ui.panels.stepper import StepperBar
from explorer.ui.window.main_window import MainWindow
from explorer.ui.window.presenter import ReadingSizes, reading_sizes
from explorer.ui.window.runner import counted
from explorer.view.replay import Cursor
from tests.helpers import NOTES, WAIT_MS, run, run_ok


def test_counts_agree_with_their_nouns() -> None:
    assert counted(1, "backward pass", "backward passes") == "1 backward pass"
    assert counted(2, "backward pass", "backward passes") == "2 backward passes"
    assert counted(0, "edge", "edges") == "0 edges"
    assert counted(1_500, "node", "nodes") == "1,500 nodes"


def test_the_status_bar_says_one_backward_pass_and_one_node(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)  # one backward pass
    message = window.statusBar().currentMessage()
    assert message.endswith(" · 1 backward pass"), message
    run(qtbot, window, "x = torch.ones(2, requires_grad=True)\n")  # a lone leaf
    message = window.statusBar().currentMessage()
    assert message.endswith(" · 1 node · 0 edges · 0 backward passes"), message
    run(qtbot, window, NOTES + "y.backward(torch.ones_like(x))\n")
    assert window.statusBar().currentMessage().endswith(" · 2 backward passes")


# -- the stepper's caption ----------------------------------------------------------------
def test_the_step_caption_has_its_own_row_clear_of_the_speed_box(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES + "z = x * 2\n")
    window.resize(1024, 600)  # a small screen's window: the graph's column is narrow
    window.model.step_forward()
    qtbot.wait(50)
    stepper = window.stepper
    caption, speed = stepper.caption, stepper.speed
    assert caption.text() == stepper.caption_text() and caption.text().startswith("Step 1 of ")
    assert caption.geometry().bottom() < speed.geometry().top()  # above the controls
    assert not caption.is_elided() and caption.shown_text() == caption.text()


def test_a_caption_too_long_for_a_narrow_bar_ends_in_an_ellipsis(qtbot) -> None:
    snapshot = run_ok(
        "x = torch.ones(3, requires_grad=True)\nt = torch.zeros(3)\n"
        "loss = F.binary_cross_entropy_with_logits(x, t)\nloss.backward()\n"
    )
    model = ExplorerModel()
    bar = StepperBar(model)
    qtbot.addWidget(bar)
    model.set_snapshot(snapshot, Cursor(0, 0))
    bar.resize(bar.minimumSizeHint().width(), 60)  # as in a window at its narrowest
    bar.show()
    qtbot.wait(20)
    whole = bar.caption_text()
    assert whole.endswith("runs BinaryCrossEntropyWithLogitsBackward0")
    assert bar.caption.text() == whole and bar.caption.toolTip() == whole
    assert bar.caption.is_elided() and bar.caption.shown_text().endswith("…")
    assert bar.caption.shown_text()[:-1] in whole
    bar.resize(1400, 60)
    qtbot.wait(20)
    assert not bar.caption.is_elided() and bar.caption.shown_text() == whole


# -- the window on the screen ------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def open_on_screen(tmp_path: Path, width: int, height: int, scale: int = 1) -> dict:
    """Where the window lands on a width × height screen (physical pixels) at scale, as
    tests/screen_probe.py measures it; its settings persist in tmp_path between calls."""
    screens = tmp_path / f"screens-{width}x{height}.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": width, "height": height}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    screens.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}")
    env["QT_SCALE_FACTOR"] = str(scale)
    env["HOME"] = str(tmp_path)  # the autosave file goes here, not to the user's folders
    done = subprocess.run(
        [sys.executable, "-m", "tests.screen_probe", str(tmp_path / "settings.ini")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def inside(rect: list[int], area: list[int]) -> bool:
    x, y, w, h = rect
    left, top, width, height = area
    return left <= x and top <= y and x + w <= left + width and y + h <= top + height


def assert_on_screen(seen: dict) -> None:
    assert inside(seen["frame"], seen["available"]), seen
    assert seen["docks"], seen
    for name, rect in seen["docks"].items():
        assert inside(rect, seen["available"]), (name, seen)


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(1024, 600, 1), (2048, 1200, 2)],  # the same 1024 × 600 logical pixels at 200 %
)
def test_on_a_small_screen_the_window_fits_and_tabs_its_side_panes(
    tmp_path: Path, width: int, height: int, scale: int
) -> None:
    seen = open_on_screen(tmp_path, width, height, scale)
    assert seen["available"] == [0, 0, 1024, 600]
    assert_on_screen(seen)
    assert seen["minimum"][0] <= 900  # well under the screen: room to make it narrower
    assert set(seen["docks"]) >= {"editor", "inspector"}
    assert seen["tabbed"] == [
        "dock-Leaves and .grad",
        "dock-Gradient Descent",
        "dock-Gradient Flow",
    ]
    graph_width, graph_height = seen["graph"]
    assert graph_width >= 400 and graph_height >= 350  # the graph keeps its room


def test_a_geometry_saved_on_a_large_screen_fits_a_small_one(tmp_path: Path) -> None:
    large = open_on_screen(tmp_path, 1920, 1080)
    assert large["frame"][2:] == [1444, 904]  # the usual size, and its frame, where it fits
    assert_on_screen(large)
    assert large["tabbed"] == []  # room for the panes side by side
    small = open_on_screen(tmp_path, 1024, 600)  # the same settings, a smaller screen
    assert_on_screen(small)
    assert small["frame"][2] <= 1024 and small["frame"][3] <= 600


# -- presenter mode ------------------------------------------------------------------------
def test_presenter_sizes_grow_with_the_screen_and_never_fall_below_the_usual() -> None:
    small = reading_sizes(720, 96.0, script=11.0, notes=9.0)
    large = reading_sizes(1080, 96.0, script=11.0, notes=9.0)
    assert small == ReadingSizes(script=17.0, notes=13.5, caption=26.0)  # the least: enlarged
    assert large.script == 22.5  # 36 lines fill the screen's 1080 pixels
    assert large.notes > small.notes and large.caption > small.caption
    assert reading_sizes(720, 96.0, script=20.0, notes=9.0).script == 26.0  # a large usual


def code_points(notes: QTextEdit) -> float:
    """The size of the first code in notes, as drawn."""
    block = notes.document().begin()
    while block.isValid():
        for fragment in fragments(block):
            if fragment.isValid() and fragment.charFormat().fontFixedPitch():
                return fragment.charFormat().font().pointSizeF()
        block = block.next()
    raise AssertionError("no code in the notes")


def fragments(block: QTextBlock) -> list[QTextFragment]:
    found, it = [], block.begin()
    while not it.atEnd():
        found.append(it.fragment())
        it += 1
    return found


def assert_lesson_whole(window: MainWindow) -> None:
    """The lesson panel as tall as its pane, its bookmarks and buttons on screen."""
    panel, area = window.lesson_panel, window.docks["lesson"].widget()
    assert panel.height() == area.viewport().height()
    assert panel.height() >= panel.minimumSizeHint().height()
    assert not panel.bookmarks.visibleRegion().isEmpty()
    assert not panel.add_button.visibleRegion().isEmpty()  # its foot, not cut off


def test_presenting_enlarges_and_wraps_the_script_and_enlarges_the_lesson(
    qtbot, window: MainWindow
) -> None:
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        window.examples_menu.actions()[1].trigger()  # a lesson, with notes and bookmarks
    editor, panel = window.editor, window.lesson_panel
    editor.appendPlainText("# " + "a long comment " * 30)
    qtbot.wait(50)
    long_line = editor.document().lastBlock()
    wide = (panel, panel.notes, panel.bookmarks, panel.title, editor)
    usual = {widget: widget.font().pointSizeF() for widget in wide}
    notes_usual = panel.notes.document().defaultFont().pointSizeF()
    code_usual = code_points(panel.notes)
    assert editor.horizontalScrollBar().maximum() > 0  # the usual: long lines scroll
    assert_lesson_whole(window)
    window.toggle_presenter()
    qtbot.wait(100)
    assert_lesson_whole(window)
    assert editor.font().pointSizeF() >= usual[editor] + 6
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert editor.horizontalScrollBar().maximum() == 0  # nothing cut off at the right
    assert long_line.layout().lineCount() > 1  # wrapped, whole
    for widget in (panel.notes, panel.bookmarks, panel.title):
        assert widget.font().pointSizeF() >= 1.5 * usual[widget] - 0.1, widget
    assert panel.notes.document().defaultFont().pointSizeF() >= 1.5 * notes_usual - 0.1
    assert code_points(panel.notes) >= 1.5 * code_usual - 0.1  # its code as large as its words
    assert window.presenter.caption.font().pointSizeF() >= 26
    window.toggle_presenter()
    qtbot.wait(100)
    assert {widget: widget.font().pointSizeF() for widget in wide} == usual
    assert panel.notes.document().defaultFont().pointSizeF() == notes_usual
    assert code_points(panel.notes) == code_usual
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap
    assert editor.horizontalScrollBar().maximum() > 0


def test_the_step_buttons_each_take_one_step_and_play_is_its_own(qtbot, window) -> None:
    stepper, model = window.stepper, window.model
    model.to_start()
    qtbot.mouseClick(stepper.forward, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(stepper.forward, Qt.MouseButton.LeftButton)
    assert model.cursor.step_index == 1
    qtbot.mouseClick(stepper.back, Qt.MouseButton.LeftButton)
    assert model.cursor.step_index == 0
    assert (stepper.back.text(), stepper.forward.text(), stepper.play.text()) == ("◀", "▶", "Play")
    qtbot.mouseClick(stepper.play, Qt.MouseButton.LeftButton)
    assert model.playing and stepper.play.text() == "Pause"
    qtbot.mouseClick(stepper.play, Qt.MouseButton.LeftButton)
    assert not model.playing and stepper.play.text() == "Play"


def test_a_theme_or_presenter_mode_leaves_the_script_unmodified(qtbot, window) -> None:
    assert not window.document.modified
    window.set_theme("dark")
    window.toggle_presenter()
    window.toggle_presenter()
    window.set_theme("light")
    assert not window.document.modified
    window.editor.insertPlainText("z = 1\n")
    assert window.document.modified


def test_quit_and_discard_keeps_no_discarded_edit_for_next_time(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    before = window.editor.toPlainText()
    window.editor.setPlainText(before + "thrown_away = 1\n")
    asked: list[str] = []

    def discard(*args, **kwargs):
        asked.append(args[1])
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "question", discard)
    window.close()
    assert asked == ["Unsaved changes"]
    assert window.settings.value("files/last_script") == before
