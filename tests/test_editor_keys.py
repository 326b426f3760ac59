"""Typing blocks in the script editor: indents follow the blocks, as in Python editors."""

from __future__ import annotations

from PySide6.QtCore import Qt

from explorer.ui.panels.editor import CodeEditor


def _typed(qtbot, *keys: str | Qt.Key) -> str:
    editor = CodeEditor()
    qtbot.addWidget(editor)
    for key in keys:
        if isinstance(key, str):
            qtbot.keyClicks(editor, key)
        else:
            qtbot.keyClick(editor, key)
    return editor.toPlainText()


def test_backspace_in_leading_spaces_takes_back_one_level(qtbot) -> None:
    text = _typed(
        qtbot, "def f(x):", Qt.Key.Key_Return, "y = x * 2", Qt.Key.Key_Return,
        Qt.Key.Key_Backspace, "z = 1",
    )  # fmt: skip
    assert text == "def f(x):\n    y = x * 2\nz = 1"


def test_backspace_elsewhere_deletes_one_character(qtbot) -> None:
    assert _typed(qtbot, "  ab", Qt.Key.Key_Backspace) == "  a"
    assert _typed(qtbot, "      ", Qt.Key.Key_Backspace) == "    "  # six spaces: back to four


def test_a_line_that_ends_a_block_dedents_the_next(qtbot) -> None:
    text = _typed(qtbot, "def f(x):", Qt.Key.Key_Return, "return x", Qt.Key.Key_Return, "y = f(1)")
    assert text == "def f(x):\n    return x\ny = f(1)"


def _shown(qtbot) -> CodeEditor:
    editor = CodeEditor()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def test_enter_is_a_new_line_while_completions_are_offered(qtbot) -> None:
    editor = _shown(qtbot)
    qtbot.keyClicks(editor, "b = a")
    assert editor._completer.popup().isVisible()  # abs, all, any... are offered
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "c = b*b")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == "b = a\nc = b*b\n"
    assert not editor._completer.popup().isVisible()


def test_a_completion_is_taken_with_tab_or_by_choosing_it(qtbot) -> None:
    editor = _shown(qtbot)
    qtbot.keyClicks(editor, "y = torch.zeros_l")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "y = torch.zeros_like"
    editor.clear()
    qtbot.keyClicks(editor, "y = torch.ones_l")
    popup = editor._completer.popup()
    popup.setCurrentIndex(editor._completer.completionModel().index(0, 0))  # chosen with ↓
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.toPlainText() == "y = torch.ones_like"
