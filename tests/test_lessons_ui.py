"""Lessons in the window: the gallery, notes, bookmarks, saving, drag and drop, bad files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from explorer.lessons import Bookmark, program, read_lesson
from explorer.ui.lessons.bookmark_caption import BookmarkCaption
from explorer.ui.lessons.notes_view import NotesView
from explorer.ui.window.main_window import MainWindow
from explorer.view.replay import Cursor
from tests.helpers import NOTES, WAIT_MS, run
from tests.hostile_lessons import HOSTILE, lesson_bytes

# App data under tmp_path, and an unexpected dialog fails the test instead of blocking.
pytestmark = pytest.mark.usefixtures("private_paths", "no_modal_dialogs")

ROOT = Path(__file__).resolve().parents[1]
GALLERY = sorted((ROOT / "resources" / "lessons").glob("*.json"))
CHAIN_RULE = next(p for p in GALLERY if "chain-rule" in p.name)
NETWORK = next(p for p in GALLERY if "two-layer" in p.name)


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    return shown


def open_lesson(qtbot, win: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(win.model.snapshot_changed, timeout=WAIT_MS):
        assert win.open_path(path)


def caption(win: MainWindow) -> BookmarkCaption:
    return win.findChild(BookmarkCaption)


def click_bookmark(qtbot, win: MainWindow, row: int) -> None:
    marks = win.lesson_panel.bookmarks
    rect = marks.visualItemRect(marks.item(row))
    qtbot.mouseClick(marks.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def active_op(win: MainWindow) -> str:
    return win.model.snapshot.graph.nodes[win.model.step_view().active]["op"]


# -- the gallery ---------------------------------------------------------------------------
def test_the_start_page_lists_the_gallery_and_opens_a_lesson(qtbot, window: MainWindow) -> None:
    panel = window.lesson_panel
    assert window.docks["lesson"].isVisible()
    assert panel.pages.currentWidget() is panel.start_page
    page = panel.start_page.toPlainText()
    for path in GALLERY:
        lesson = read_lesson(path)
        assert lesson.title in page and lesson.description in page
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        panel.start_page.anchorClicked.emit(QUrl("example:0"))  # a click on the first link
    assert window.lessons.state.lesson == read_lesson(GALLERY[0])
    assert panel.pages.currentIndex() == 1


def test_help_examples_opens_a_lesson_whose_bookmarks_move_the_replay(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles = [a.text() for a in window.examples_menu.actions()]
    assert titles == [read_lesson(p).title for p in GALLERY]
    action = window.examples_menu.actions()[titles.index("The chain rule")]
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        action.trigger()  # Help → Examples → The chain rule
    lesson = read_lesson(CHAIN_RULE)
    assert window.editor.toPlainText() == program(lesson.cells)
    assert window.model.snapshot.problem is None and window.model.pass_count == 1
    assert "02-chain-rule.json" in window.windowTitle()
    panel = window.lesson_panel
    assert panel.title.text() == "The chain rule"
    assert "Backward applies the chain rule" in panel.notes.toPlainText()
    assert panel.bookmarks.count() == len(lesson.bookmarks) == 4
    assert not caption(window).isVisible()

    click_bookmark(qtbot, window, 2)
    assert window.model.cursor == Cursor(0, 2)
    assert active_op(window) == "PowBackward0"
    assert caption(window).isVisible()
    assert caption(window).text() == lesson.bookmarks[2].caption
    assert "PowBackward0" in window.stepper.caption.text()
    window.model.step_forward()  # off the bookmark: its caption goes
    assert window.model.cursor == Cursor(0, 3)
    assert caption(window).text() == lesson.bookmarks[3].caption  # the next one is a bookmark
    window.model.to_start()
    assert not caption(window).isVisible()
    window.model.step_forward()
    window.model.step_forward()
    window.model.step_forward()  # back on the bookmark by stepping: the caption shows again
    assert caption(window).isVisible() and panel.bookmarks.currentRow() == 2

    asked: list[str] = []

    def save_dialog(*args, **kwargs):
        asked.append(args[1])
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    before = CHAIN_RULE.read_bytes()
    window.editor.setPlainText(window.editor.toPlainText() + "x\n")
    assert not window.save_file()  # an example is read-only: Save asks where, and we cancel
    assert asked == ["Save As"]
    assert CHAIN_RULE.read_bytes() == before


# -- saving and reopening ------------------------------------------------------------------
def test_a_saved_lesson_reopens_with_its_cells_notes_bookmarks_and_view(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_lesson(qtbot, window, NETWORK)
    model, state = window.model, window.lessons.state
    window.fold_action.trigger()
    call = next(c for c in model.call_tree.all_calls if c.startswith("model.2"))
    model.collapse(call)
    window.upward_action.trigger()  # flow left to right
    window.graph.fit()
    window.graph.view.scaleBy((0.5, 0.5))  # twice as close as the fit
    model.move_to(Cursor(0, 4))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Layer 2's weight", True))
    qtbot.mouseClick(window.lesson_panel.add_button, Qt.MouseButton.LeftButton)
    state.set_notes("My network", "Read *this* first.")
    assert window.document.modified

    saved = tmp_path / "mine.json"
    assert window._save_to(saved)
    assert not window.document.modified and "mine.json" in window.windowTitle()
    lesson = read_lesson(saved)
    original = read_lesson(NETWORK)
    assert lesson.cells == original.cells
    assert (lesson.title, lesson.notes) == ("My network", "Read *this* first.")
    assert lesson.bookmarks == sorted(
        [*original.bookmarks, Bookmark(1, 5, "Layer 2's weight")],
        key=lambda b: (b.pass_number, b.step),
    )
    assert lesson.view.fold and lesson.view.direction == "right"
    assert lesson.view.collapsed == sorted(model.collapsed) and call in lesson.view.collapsed
    assert lesson.view.zoom == pytest.approx(2.0, abs=0.02)

    script = tmp_path / "other.py"
    script.write_text(NOTES)
    open_lesson(qtbot, window, script)  # opens a plain script too: the lesson and its view go
    assert state.lesson is None
    window.upward_action.trigger()
    window.fold_action.setChecked(False)
    assert window.upward_action.isChecked() and not model.fold

    open_lesson(qtbot, window, saved)
    assert state.lesson == lesson
    assert window.editor.toPlainText() == program(lesson.cells)
    assert model.fold and not window.upward_action.isChecked()
    assert model.collapsed == set(lesson.view.collapsed)
    assert window.lessons.current_view() == lesson.view
    assert window.document.recent()[:2] == [str(saved.resolve()), str(script.resolve())]
    assert window.save_file()  # the user's own lesson: Save writes it again, no dialog
    assert read_lesson(saved) == lesson


def test_save_as_with_the_lesson_filter_makes_a_lesson_of_a_script(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(qtbot, window, NOTES)
    target = tmp_path / "from-script"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Lessons (*.json)")
    )
    assert window.save_file_as()
    lesson = read_lesson(target.with_suffix(".json"))
    assert lesson.title == "from-script" and lesson.cells == [NOTES.rstrip("\n")]
    assert window.lessons.state.lesson == lesson
    assert window.lesson_panel.pages.currentIndex() == 1  # now bookmarks can be added


def test_a_problem_in_a_later_cell_is_named_by_its_cell(qtbot, window: MainWindow) -> None:
    run(qtbot, window, program(["x = torch.ones(2)", "y = 1\nz = x @ torch.ones(3)"]))
    assert window.error_label.text().startswith("Cell 2, line 2, column ")


# -- drag and drop -------------------------------------------------------------------------
def drag(win_or_widget, path: Path) -> tuple[bool, bool]:
    """Drag a file over a widget and drop it: (drag accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    action = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(20, 20), action, mime, buttons, keys)
    QApplication.sendEvent(win_or_widget, enter)
    drop = QDropEvent(QPointF(20, 20), action, mime, buttons, keys)
    QApplication.sendEvent(win_or_widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_a_lesson_or_script_dropped_on_the_window_opens(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    lesson_file = tmp_path / "dropped lesson.json"
    shutil.copy(GALLERY[0], lesson_file)
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        assert drag(window, lesson_file) == (True, True)
    assert window.lessons.state.lesson == read_lesson(GALLERY[0])
    assert window.document.path == lesson_file

    script = tmp_path / "dropped.py"
    script.write_text("d = torch.ones(2, requires_grad=True)\n")
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        assert drag(window.editor.viewport(), script) == (True, True)  # not pasted as text
    assert window.editor.toPlainText() == script.read_text()
    assert window.lessons.state.lesson is None

    other = tmp_path / "notes.txt"
    other.write_text("not a script")
    assert drag(window, other) == (False, False)
    qtbot.wait(50)
    assert window.editor.toPlainText() == script.read_text()


# -- broken and hostile files --------------------------------------------------------------
SAMPLE = [
    "not-json", "invalid-utf8", "future-version", "deep-nesting", "huge-integer",
    "bookmark-step-word", "unknown-key", "open", "getattr", "torch-save", "dunder-import",
    "globals-cell-2",
]  # fmt: skip


def test_a_bad_lesson_leaves_the_window_as_it_was_and_runs_nothing(
    qtbot, window: MainWindow, tmp_path: Path, warnings: list[str], monkeypatch
) -> None:
    open_lesson(qtbot, window, CHAIN_RULE)
    window.lesson_panel.go_to(1)
    snapshot, text, cursor = window.model.snapshot, window.editor.toPlainText(), window.model.cursor
    lesson, recent = window.lessons.state.lesson, window.document.recent()
    runs: list[str] = []
    monkeypatch.setattr(window.worker, "run", lambda script: runs.append(script) or -1)
    folder = tmp_path / "bad"
    folder.mkdir()
    cases = {name: data for name, data, _ in HOSTILE if name in SAMPLE}
    assert len(cases) == len(SAMPLE)
    for name, data in cases.items():
        (folder / f"{name}.json").write_bytes(data)
    files = sorted(folder.iterdir())
    for path in files:
        assert not window.open_path(path)
        (message,) = warnings
        warnings.clear()
        assert message.startswith(f"{path.name}: ")
    too_big = folder / "too-big.json"
    too_big.write_bytes(b" " * 1_000_001)
    assert drag(window, too_big) == (True, True)  # dropped: refused the same way
    qtbot.waitUntil(lambda: bool(warnings))
    assert warnings.pop().startswith("too-big.json: 1,000,001 bytes")
    assert runs == [] and not window.model.running
    assert window.model.snapshot is snapshot and window.model.cursor == cursor
    assert window.editor.toPlainText() == text
    assert window.lessons.state.lesson is lesson
    assert window.document.path == CHAIN_RULE and not window.document.modified
    assert window.document.recent() == recent
    assert sorted(folder.iterdir()) == sorted([*files, too_big])  # nothing written


# -- notes are shown, never followed -------------------------------------------------------
def test_notes_load_no_image_run_no_html_and_open_no_link(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
    image = tmp_path / "secret.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    view = NotesView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    clicked: list[QUrl] = []
    view.link_clicked.connect(clicked.append)
    view.show_markdown(
        f"![local]({image.as_uri()})\n\n![remote](https://example.com/track.png)\n\n"
        "<b>raw</b> <img src='https://example.com/x.png'> <script>alert(1)</script>\n\n"
        "[a link](https://example.com/page)\n"
    )
    qtbot.wait(50)  # let it lay out and ask for its images
    assert image.as_uri() in view.loaded and "https://example.com/track.png" in view.loaded
    text = view.toPlainText()
    assert "<b>raw</b>" in text and "<script>" in text  # shown as text, never interpreted
    view.anchorClicked.emit(QUrl("https://example.com/page"))
    view.setSource(QUrl("https://example.com/page"))
    assert clicked == [QUrl("https://example.com/page")]
    assert opened == [] and view.source().isEmpty()


class FifoWatch:
    """A named pipe that says whether anything opened it for reading. Qt reading a path blocks
    on a FIFO until a writer comes, so the watcher, a process of its own (the blocked window may
    hold the GIL), is that writer: it opens the pipe whenever a reader waits, and closes it."""

    WATCH = (
        "import os, select, sys\n"
        "opened = 0\n"
        "while not select.select([sys.stdin], [], [], 0.01)[0]:  # until told to stop\n"
        "    try:\n"
        "        os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK))\n"
        "        opened += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "print(opened)\n"
    )

    def __init__(self, folder: Path) -> None:
        self.path = folder / "pipe.png"
        os.mkfifo(self.path)
        self.watcher = subprocess.Popen(
            [sys.executable, "-c", self.WATCH, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def times_opened(self) -> int:
        """Stop watching; how many times a reader had the pipe open."""
        out, _ = self.watcher.communicate("", timeout=60)
        return int(out)


def test_lesson_text_never_makes_the_window_read_a_file(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    pipe = FifoWatch(tmp_path)
    tag = f"<img src='{pipe.path}'><img src='{pipe.path.as_uri()}'>"
    path = tmp_path / "hostile.json"
    path.write_bytes(
        lesson_bytes(
            title=f"Title {tag}",
            notes=f"![d]({pipe.path})\n\n![e]({pipe.path.as_uri()})\n\n{tag}",
            cells=["x = torch.ones(2, requires_grad=True)", "(x * 2).sum().backward()"],
            bookmarks=[{"pass": 1, "step": 1, "caption": f"Caption {tag}"}],
        )
    )
    open_lesson(qtbot, window, path)
    click_bookmark(qtbot, window, 0)
    window.toggle_presenter()
    qtbot.wait(300)  # laid out, painted, every image asked for
    window.toggle_presenter()
    title, shown = window.lesson_panel.title.text(), caption(window).text()
    run(qtbot, window, NOTES)  # the lesson's text off screen before the pipe stops answering
    window.lessons.close()
    qtbot.wait(100)
    assert pipe.times_opened() == 0, "a lesson's text made the window open a file"
    assert title == f"Title {tag}"  # shown as the words it is
    assert shown == f"Caption {tag}"


def test_presenting_a_lesson_shows_the_bookmark_caption_large(qtbot, window: MainWindow) -> None:
    action = window.examples_menu.actions()[1]  # the chain rule
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        action.trigger()
    lesson = read_lesson(CHAIN_RULE)
    window.toggle_presenter()
    click_bookmark(qtbot, window, 2)
    assert window.presenter.caption.text() == lesson.bookmarks[2].caption
    assert not caption(window).isVisible()  # shown once, large, not twice
    window.model.to_start()  # off every bookmark: what the step does
    assert window.presenter.caption.text() == window.stepper.caption_text()
    window.toggle_presenter()
    click_bookmark(qtbot, window, 2)
    assert caption(window).isVisible() and not window.presenter.caption.isVisible()


def test_bookmarks_of_an_edited_script_are_marked_stale_and_their_caption_is_not_shown(
    qtbot, window: MainWindow
) -> None:
    open_lesson(qtbot, window, CHAIN_RULE)
    panel, state = window.lesson_panel, window.lessons.state
    click_bookmark(qtbot, window, 2)
    assert caption(window).isVisible() and not state.stale
    text = window.editor.toPlainText()
    window.editor.setPlainText(text + "\n# a comment changes no step\n")
    qtbot.wait(400)
    assert not state.stale and caption(window).isVisible()
    window.editor.setPlainText(
        text.replace("2 * x**2 + 3", "3 * x**2 + 3").replace("2*x**2+3", "3*x**2+3")
    )
    qtbot.waitUntil(lambda: state.stale, timeout=2_000)
    assert not caption(window).isVisible()  # no caption over a graph the edit may have changed
    item = panel.bookmarks.item(2)
    assert item.text().endswith("(script edited)")
    assert "edited after the lesson's bookmarks were made" in item.toolTip()
    messages: list[str] = []
    panel.message.connect(messages.append)
    click_bookmark(qtbot, window, 2)
    assert messages and "edited" in messages[-1]
    window.editor.setPlainText(text)
    qtbot.waitUntil(lambda: not state.stale, timeout=2_000)
    assert caption(window).isVisible()
