"""The main window's menus and toolbar: every action, and where it is offered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QMenu, QToolBar

from explorer.ui.exports.menu import GraphExports


def add_action(
    window: Any, menu: QMenu, text: str, slot: Callable, shortcut: Any = None, tip: str = ""
) -> QAction:
    """An action in menu that calls slot; the window owns it, so its shortcut works anywhere."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.triggered.connect(lambda checked=False: slot())
    menu.addAction(action)
    window.addAction(action)
    return action


def build(window: Any) -> None:
    """The menu bar and the toolbar; the actions others need become window attributes."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    edit = bar.addMenu("&Edit")
    add_action(window, edit, "&Find Node…", window.focus_find, QKeySequence.StandardKey.Find)
    add_action(window, edit, "Find &Next", window.find_next, "F3")
    add_action(window, edit, "Find &Previous", window.find_previous, "Shift+F3")
    _run_menu(window, bar.addMenu("&Run"))
    _view_menu(window, bar.addMenu("&View"))
    settings = bar.addMenu("&Settings")
    add_action(window, settings, "Worker &Memory Limit…", window.ask_memory_limit)
    help_menu = bar.addMenu("&Help")
    add_action(window, help_menu, "&Getting Started", window.show_getting_started)
    add_action(window, help_menu, "&Keyboard Shortcuts", window.show_shortcuts)
    window.examples_menu = help_menu.addMenu("&Examples")
    window.lessons.fill_examples_menu(window.examples_menu)
    help_menu.addSeparator()
    add_action(window, help_menu, "&About Autograd Explorer", window.show_about)
    _toolbar(window)


def _file_menu(window: Any, files: QMenu) -> None:
    keys, commands = QKeySequence.StandardKey, window.files
    add_action(window, files, "&New", commands.new_file, keys.New)
    add_action(window, files, "&Open…", commands.open_file, keys.Open)
    window.recent_menu = files.addMenu("Open &Recent")
    commands.fill_recent()
    add_action(window, files, "Open &Model File…", commands.open_model_file)
    add_action(window, files, "&Save", commands.save_file, keys.Save)
    add_action(window, files, "Save &As…", commands.save_file_as, keys.SaveAs)
    files.addSeparator()
    window.exports = GraphExports(
        window, files.addMenu("&Export"), window.model, window.graph, window.settings,
        window.statusBar().showMessage, window.export_stem,
    )  # fmt: skip
    window.exports.worker = window.worker
    files.addSeparator()
    add_action(window, files, "&Quit", window.close, keys.Quit)


def _run_menu(window: Any, run: QMenu) -> None:
    model, settings = window.model, window.settings
    window.run_action = add_action(
        window, run, "&Run", window.run_script,
        [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")], "Run the script (Ctrl+Enter)",
    )  # fmt: skip
    window.cancel_action = add_action(
        window, run, "&Cancel", window.cancel, "Ctrl+.", "Stop the running script"
    )
    window.cancel_action.setEnabled(False)
    window.type_action = QAction("Run As You &Type", window, checkable=True)
    window.type_action.setChecked(settings.value("run/as_you_type", False, type=bool))
    window.type_action.toggled.connect(lambda on: settings.setValue("run/as_you_type", on))
    run.addAction(window.type_action)
    run.addSeparator()
    tip = "Run or replay the backward pass"
    add_action(window, run, "&Backward", window.backward, "Ctrl+B", tip)
    add_action(window, run, "Step &Forward", model.step_forward, "Alt+Right")
    add_action(window, run, "Step Bac&k", model.step_back, "Alt+Left")
    add_action(window, run, "&Play or Pause", model.toggle_play, "Ctrl+Space")
    add_action(window, run, "First Step", model.to_start, "Alt+Home")
    add_action(window, run, "Last Step", model.to_end, "Alt+End")


def _view_menu(window: Any, view: QMenu) -> None:
    graph, model = window.graph, window.model
    add_action(window, view, "&Fit Graph", graph.fit, "Ctrl+0")
    add_action(window, view, "Zoom to &Selection", graph.zoom_to_selection, "Ctrl+J")
    add_action(window, view, "Go to the First &NaN", window.go_to_first_nonfinite, "Ctrl+Shift+N")
    window.lens_action = QAction("Colour by &Gradient Size", window, checkable=True)
    window.lens_action.setShortcut(QKeySequence("Ctrl+Shift+G"))
    window.lens_action.toggled.connect(model.set_grad_lens)
    view.addAction(window.lens_action)
    window.addAction(window.lens_action)
    window.memory_action = QAction("Colour by &Memory Held for Backward", window, checkable=True)
    window.memory_action.toggled.connect(model.set_memory_lens)
    view.addAction(window.memory_action)
    window.time_action = QAction("Colour by &Time per Step", window, checkable=True)
    window.time_action.toggled.connect(model.set_time_lens)
    view.addAction(window.time_action)
    model.lens_changed.connect(lambda: _sync_lens_actions(window))
    window.minimap_action = _toggle(window, view, "&Minimap", "view/minimap", True)
    window.minimap_action.toggled.connect(graph.set_minimap_enabled)
    graph.set_minimap_enabled(window.minimap_action.isChecked())
    view.addSeparator()
    add_action(window, view, "&Collapse All Modules", model.collapse_all, "Ctrl+[")
    add_action(window, view, "&Expand All Modules", model.expand_all, "Ctrl+]")
    window.fold_action = QAction("F&old Repeated Blocks", window, checkable=True)
    window.fold_action.toggled.connect(model.set_fold)
    model.snapshot_changed.connect(lambda: _sync_fold_action(window))  # large graphs fold
    view.addAction(window.fold_action)
    view.addSeparator()
    text = "Flow &Upward (inputs at the bottom)"
    window.upward_action = _toggle(window, view, text, "view/upward", True)
    window.upward_action.toggled.connect(graph.set_upward)
    _theme_menu(window, view.addMenu("&Theme"))
    window.presenter_action = QAction("&Presenter Mode", window, checkable=True)
    window.presenter_action.setShortcut(QKeySequence("F11"))
    window.presenter_action.triggered.connect(window.toggle_presenter)
    view.addAction(window.presenter_action)
    window.addAction(window.presenter_action)
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())


def _toggle(window: Any, menu: QMenu, text: str, key: str, default: bool) -> QAction:
    """A checkable action whose state is kept in the settings under key."""
    action = QAction(text, window, checkable=True)
    action.setChecked(window.settings.value(key, default, type=bool))
    action.toggled.connect(lambda on: window.settings.setValue(key, on))
    menu.addAction(action)
    return action


def _theme_menu(window: Any, menu: QMenu) -> None:
    group = QActionGroup(window)
    window.theme_actions = {}
    for key, text in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
        action = QAction(text, window, checkable=True)
        action.triggered.connect(lambda checked=False, k=key: window.set_theme(k))
        group.addAction(action)
        menu.addAction(action)
        window.theme_actions[key] = action


def _sync_lens_actions(window: Any) -> None:
    """One colouring at a time: the menu shows which."""
    model = window.model
    for action, on in ((window.lens_action, model.grad_lens),
                       (window.memory_action, model.memory_lens),
                       (window.time_action, model.time_lens)):  # fmt: skip
        if action.isChecked() != on:
            action.setChecked(on)


def _sync_fold_action(window: Any) -> None:
    window.fold_action.blockSignals(True)
    window.fold_action.setChecked(window.model.fold)
    window.fold_action.blockSignals(False)


def _toolbar(window: Any) -> None:
    bar = QToolBar("Main")
    bar.setObjectName("toolbar-main")
    bar.setMovable(False)
    window.addToolBar(bar)
    bar.addAction(window.run_action)
    bar.addAction(window.cancel_action)
    bar.addAction(window.type_action)
    bar.addSeparator()
    window.find_box = FindBox()
    window.find_box.setPlaceholderText("Find node (Ctrl+F)")
    window.find_box.setToolTip("Enter: next match, Shift+Enter: previous (F3, Shift+F3)")
    window.find_box.setClearButtonEnabled(True)
    window.find_box.setMaximumWidth(240)
    window.find_box.stepped.connect(lambda step: window.find_node(window.find_box.text(), step))
    window.find_box.textChanged.connect(window.forget_found)
    bar.addWidget(window.find_box)
    window.find_count = QLabel()
    window.find_count.setContentsMargins(6, 0, 6, 0)
    bar.addWidget(window.find_count)


class FindBox(QLineEdit):
    """The find box: Enter asks for the next match, Shift+Enter for the previous one."""

    stepped = Signal(int)  # +1 or -1: a match was asked for, after or before the shown one

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        self.stepped.emit(-1 if shift else 1)
        event.accept()
