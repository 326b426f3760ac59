"""Find in the graph (next, previous, the count, module paths) and the Help menu's pages."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTextBrowser
from pytestqt.qtbot import QtBot

from explorer.data.snapshot import module_of_call
from explorer.ui.graph.view import GRAPH_KEYS
from explorer.ui.window.main_window import MainWindow
from explorer.view.find import Found
from tests.helpers import NOTES, run

MLP = (
    "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "x = torch.randn(5, 3, requires_grad=True)\n"
    "loss = model(x).pow(2).mean()\n"
    "loss.backward()\n"
)
ENCODER = (
    "enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 4)\n"
    "loss = enc(torch.randn(2, 3, 8)).sum()\nloss.backward()\n"
)


def _press(qtbot, window: MainWindow, shift: bool = False) -> None:
    """Enter (Shift+Enter) in the find box, as a user presses it."""
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.keyClick(window.find_box, Qt.Key.Key_Return, modifier)


def _action(window: MainWindow, text: str) -> QAction:
    (action,) = [a for a in window.findChildren(QAction) if a.text() == text]
    return action


def _ops_with(window: MainWindow, text: str) -> list[str]:
    graph = window.model.snapshot.graph
    return [n for n, a in graph.nodes(data=True) if a.op and text in a.op]


# -- the cursor over matches, without Qt -------------------------------------------------
def test_found_moves_both_ways_and_wraps_around() -> None:
    found = Found("b", ["n1", "n2", "n3"])
    assert found.count_text() == "1 of 3"
    assert [found.move(1), found.move(1), found.move(1)] == ["n2", "n3", "n1"]
    assert found.move(-1) == "n3" and found.count_text() == "3 of 3"
    empty = Found("zzz", [])
    assert empty.move(1) is None and empty.count_text() == "no match"


# -- find in the window ------------------------------------------------------------------
def test_enter_and_shift_enter_go_through_matches_wrapping_with_a_count(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, NOTES)
    backward_ops = _ops_with(window, "Backward")
    count = len(backward_ops)
    assert count >= 3  # pow, mul and add at least
    window.find_box.setText("Backward")
    seen = []
    for at in range(1, count + 1):
        _press(qtbot, window)
        assert window.find_count.text() == f"{at} of {count}"
        seen.append(window.model.selected)
    assert sorted(seen) == sorted(backward_ops)  # every match once
    _press(qtbot, window)  # past the last: the first again
    assert window.find_count.text() == f"1 of {count}"
    assert window.model.selected == seen[0]
    _press(qtbot, window, shift=True)  # before the first: the last
    assert window.find_count.text() == f"{count} of {count}"
    assert window.model.selected == seen[-1]
    _action(window, "Find &Previous").trigger()  # Shift+F3
    assert window.model.selected == seen[-2]
    _action(window, "Find &Next").trigger()  # F3
    assert window.model.selected == seen[-1]


def test_a_new_text_starts_from_its_first_match(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    window.find_box.setText("Backward")
    _press(qtbot, window)
    _press(qtbot, window)
    second = window.find_node("Backward", 0)  # the same text: it stays where it is
    assert window.find_count.text() == f"2 of {len(_ops_with(window, 'Backward'))}"
    window.find_box.clear()
    assert window.find_count.text() == ""
    qtbot.keyClicks(window.find_box, "Backward")
    _press(qtbot, window)
    assert window.find_count.text().startswith("1 of ")
    assert window.model.selected != second


def test_no_match_says_so_beside_the_box(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    window.find_box.setText("zzz")
    _press(qtbot, window)
    assert window.find_count.text() == "no match"
    assert window.statusBar().currentMessage() == "No node matches 'zzz'"


def test_a_module_path_finds_the_nodes_made_in_that_call(qtbot, window: MainWindow) -> None:
    run(qtbot, window, ENCODER)
    graph = window.model.snapshot.graph
    path = "layers.3.self_attn"
    made_there = {
        node
        for node, attrs in graph.nodes(data=True)
        if any(path in module_of_call(call) for call in attrs.calls or ())
    }
    assert made_there
    window.find_box.setText(path)
    _press(qtbot, window)
    count = int(window.find_count.text().split(" of ")[1])
    visited = {window.model.selected}
    for _ in range(count - 1):
        _press(qtbot, window)
        visited.add(window.model.selected)
    assert made_there <= visited
    for node in visited - made_there:  # the others are named for it, as its parameters
        assert path in (graph.nodes[node].name or "")
    assert not any(
        "layers.2." in module_of_call(c) for n in visited for c in graph.nodes[n].calls or ()
    )


def test_a_match_folded_into_a_collapsed_card_is_revealed(qtbot, window: MainWindow) -> None:
    run(qtbot, window, MLP)
    model = window.model
    model.collapse_all()
    tanh = next(n for n, a in model.snapshot.graph.nodes(data=True) if a.label == "tanh")
    assert model.shown.visible(tanh) != tanh  # inside the collapsed model.1 card
    window.find_box.setText("tanh")
    _press(qtbot, window)
    assert model.selected == tanh
    assert model.shown.visible(tanh) == tanh
    assert "model.1" not in model.collapsed


# -- the Help menu -----------------------------------------------------------------------
@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each page a Help item opened, as (title, text), with no modal loop to block the test."""
    opened: list[tuple[str, str]] = []

    def exec_(dialog: QDialog) -> int:
        browser = dialog.findChild(QTextBrowser)
        opened.append((dialog.windowTitle(), browser.toPlainText()))
        return 0

    monkeypatch.setattr(QDialog, "exec", exec_)
    return opened


def _help_item(window: MainWindow, text: str) -> QAction:
    (help_menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"]
    (item,) = [a for a in help_menu.actions() if a.text() == text]
    return item


def test_getting_started_opens_from_help_and_walks_through_the_notes(
    window: MainWindow, pages: list[tuple[str, str]]
) -> None:
    _help_item(window, "&Getting Started").trigger()
    ((title, text),) = pages
    assert title == "Getting Started"
    for words in ("Ctrl+Enter", "Backward", "←", "Inspector", ".grad", "Help → Examples"):
        assert words in text
    assert "File → Export" in text


def test_the_shortcuts_page_lists_every_shortcut_the_window_has(
    window: MainWindow, pages: list[tuple[str, str]]
) -> None:
    _help_item(window, "&Keyboard Shortcuts").trigger()
    ((title, text),) = pages
    assert title == "Keyboard Shortcuts"
    native = QKeySequence.SequenceFormat.NativeText
    keyed = [a for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert len(keyed) > 10
    for action in keyed:
        for keys in action.shortcuts():
            assert keys.toString(native) in text, action.text()
    for key in ("F3", "Shift+F3", "Ctrl+B", "F11", "Home", "End", "Space", "→", "←"):
        assert key in text
    for menu in ("File", "Edit", "Run", "View", "In the graph"):
        assert menu in text


def test_every_key_the_graph_answers_is_on_the_shortcuts_page_and_does_what_it_says(
    window: MainWindow, pages: list[tuple[str, str]], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _help_item(window, "&Keyboard Shortcuts").trigger()
    ((_, text),) = pages
    called: list[str] = []
    for key, keys, what, owner, method in GRAPH_KEYS:
        assert f"{keys}" in text and what in text
        target = window.graph if owner == "view" else window.model
        monkeypatch.setattr(target, method, lambda method=method: called.append(method))
        window.graph.setFocus()
        qtbot.keyClick(window.graph, key)
        assert called[-1] == method, keys
    assert len(called) == len(GRAPH_KEYS)
