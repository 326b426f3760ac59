"""The main window: composes the editor, graph, stepper, inspector, leaves and output panes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from explorer.data.snapshot import Problem, Snapshot
from explorer.lessons import where as script_place
from explorer.ui import theme as themes
from explorer.ui.descent.panel import DescentPanel
from explorer.ui.exports.menu import GraphExports
from explorer.ui.graph.legend import Legend
from explorer.ui.graph.view import GraphView
from explorer.ui.lessons import files as lesson_files
from explorer.ui.lessons.bookmark_caption import BookmarkCaption
from explorer.ui.lessons.panel import LessonPanel
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.editor import CodeEditor
from explorer.ui.panels.inspector import Inspector
from explorer.ui.panels.leaves import LeavesPanel
from explorer.ui.panels.numeric_check import NumericChecks
from explorer.ui.panels.output_pane import OutputPane
from explorer.ui.panels.stepper import StepperBar
from explorer.ui.window import about, model_files
from explorer.ui.window.documents import Document, read_text_file
from explorer.ui.window.presenter import Presenter
from explorer.view.replay import Cursor
from explorer.worker.client import DEFAULT_MEMORY_MB

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "notes.py"
TYPE_DEBOUNCE_MS = 700


class MainWindow(QMainWindow):
    """Owns the model and the worker; every pane is a view of the model."""

    def __init__(
        self,
        worker: Any,
        settings: QSettings,
        ask_restore: Callable[[], bool] | None = None,
        ask_trust: Callable[[Path], bool] | None = None,
    ) -> None:
        super().__init__()
        self.worker = worker
        self.settings = settings
        self.model = ExplorerModel(self)
        self._pending: int | None = None  # the request whose reply we wait for
        self._play_on_reply = False
        # Asked before a model file runs; tests answer it, as they answer ask_restore.
        self._ask_trust = ask_trust or (lambda path: model_files.ask_trust(self, path))
        self._pending_model: Path | None = None  # the model file of the pending run, if any
        self._model_file: Path | None = None  # the model file the graph shows, if any
        self._build_panes()
        self.document = Document(settings, self.editor.toPlainText, self)
        self.document.changed.connect(self._on_document_changed)
        self.document.recent_changed.connect(self._fill_recent)
        self._build_actions()
        self._type_timer = QTimer(self, singleShot=True, interval=TYPE_DEBOUNCE_MS)
        self._type_timer.timeout.connect(self.run_script)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.run_requested.connect(self.run_script)
        self.worker.replied.connect(self._on_reply)
        self.model.running_changed.connect(self._on_running_changed)
        self._restore_settings()
        self._start_text(ask_restore or self._ask_restore)
        self._on_document_changed()
        self.setAcceptDrops(True)  # a script or lesson file dropped on the window opens

    # -- building ------------------------------------------------------------------------
    def _build_panes(self) -> None:
        self.editor = CodeEditor()
        self.graph = GraphView(self.model)
        self.stepper = StepperBar(self.model)
        self.stepper.backward_requested.connect(self.backward)
        self.legend = Legend(self.model)
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.legend)
        column.addWidget(self.graph, 1)
        self.lessons = lesson_files.LessonFiles(self)  # after the graph: it fits first
        self.bookmark_caption = BookmarkCaption(self.lessons.state, self.model)
        column.addWidget(self.bookmark_caption)
        self.presenter = Presenter(self, self.bookmark_caption)
        column.addWidget(self.presenter.caption)
        column.addWidget(self.stepper)
        self.setCentralWidget(centre)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        editor_box = QWidget()
        editor_column = QVBoxLayout(editor_box)
        editor_column.setContentsMargins(0, 0, 0, 0)
        editor_column.addWidget(self.editor, 1)
        editor_column.addWidget(self.error_label)
        editor_box.setMinimumWidth(340)
        self.output = OutputPane(self.model)
        self.inspector = Inspector(self.model)
        self.leaves = LeavesPanel(self.model)
        self.inspector.setMinimumWidth(300)
        self.docks = {
            "editor": self._dock("Script", editor_box, Qt.DockWidgetArea.LeftDockWidgetArea),
            "output": self._dock("Output", self.output, Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock(
                "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
            ),
            "leaves": self._dock(
                "Leaves and .grad", self.leaves, Qt.DockWidgetArea.RightDockWidgetArea
            ),
        }
        self.lesson_panel = LessonPanel(self.lessons.state, self.model, self.lessons.examples)
        self.lesson_panel.example_chosen.connect(self.lessons.open_example)
        self.lesson_panel.message.connect(self.statusBar().showMessage)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.docks["lesson"] = self._dock("Lesson", self.lesson_panel, left)
        self.tabifyDockWidget(self.docks["output"], self.docks["lesson"])
        self.descent_panel = DescentPanel(self.model, self.worker)
        self.descent_panel.message.connect(self.statusBar().showMessage)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.docks["descent"] = self._dock("Gradient Descent", self.descent_panel, right)
        self.tabifyDockWidget(self.docks["leaves"], self.docks["descent"])
        self.docks["leaves"].raise_()
        self.inspector.set_checks(NumericChecks(self.model, self.worker, self))
        self.graph.node_activated.connect(self.graph.center_on)
        self.statusBar().showMessage("Starting the worker…")

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(
        self, menu: Any, text: str, slot: Callable, shortcut: Any = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(
                shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)]
            )
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        files = bar.addMenu("&File")
        self._action(files, "&New", self.new_file, QKeySequence.StandardKey.New)
        self._action(files, "&Open…", self.open_file, QKeySequence.StandardKey.Open)
        self.recent_menu = files.addMenu("Open &Recent")
        self._fill_recent()
        self._action(files, "Open &Model File…", self.open_model_file)
        self._action(files, "&Save", self.save_file, QKeySequence.StandardKey.Save)
        self._action(files, "Save &As…", self.save_file_as, QKeySequence.StandardKey.SaveAs)
        files.addSeparator()
        self.exports = GraphExports(
            self, files.addMenu("&Export"), self.model, self.graph, self.settings,
            self.statusBar().showMessage, self._export_stem,
        )  # fmt: skip
        files.addSeparator()
        self._action(files, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        self._action(edit, "&Find Node…", self.focus_find, QKeySequence.StandardKey.Find)
        run = bar.addMenu("&Run")
        self.run_action = self._action(
            run,
            "&Run",
            self.run_script,
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
            "Run the script (Ctrl+Enter)",
        )
        self.cancel_action = self._action(
            run, "&Cancel", self.cancel, "Ctrl+.", "Stop the running script"
        )
        self.cancel_action.setEnabled(False)
        self.type_action = QAction("Run As You &Type", self, checkable=True)
        self.type_action.setChecked(self.settings.value("run/as_you_type", False, type=bool))
        self.type_action.toggled.connect(lambda on: self.settings.setValue("run/as_you_type", on))
        run.addAction(self.type_action)
        run.addSeparator()
        self._action(run, "&Backward", self.backward, "Ctrl+B", "Run or replay the backward pass")
        self._action(run, "Step &Forward", self.model.step_forward, "Alt+Right")
        self._action(run, "Step Bac&k", self.model.step_back, "Alt+Left")
        self._action(run, "&Play or Pause", self.model.toggle_play, "Ctrl+Space")
        self._action(run, "First Step", self.model.to_start, "Alt+Home")
        self._action(run, "Last Step", self.model.to_end, "Alt+End")
        self._build_view_menu(bar.addMenu("&View"))
        settings = bar.addMenu("&Settings")
        self._action(settings, "Worker &Memory Limit…", self.ask_memory_limit)
        help_menu = bar.addMenu("&Help")
        self.examples_menu = help_menu.addMenu("&Examples")
        self.lessons.fill_examples_menu(self.examples_menu)
        self._action(help_menu, "&About Autograd Explorer", self.show_about)
        self._build_toolbar()

    def _build_view_menu(self, view: Any) -> None:
        self._action(view, "&Fit Graph", self.graph.fit, "Ctrl+0")
        self._action(view, "Zoom to &Selection", self.graph.zoom_to_selection, "Ctrl+J")
        self.minimap_action = QAction("&Minimap", self, checkable=True)
        self.minimap_action.setChecked(self.settings.value("view/minimap", True, type=bool))
        self.minimap_action.toggled.connect(self._on_minimap)
        self.graph.set_minimap_enabled(self.minimap_action.isChecked())
        view.addAction(self.minimap_action)
        view.addSeparator()
        self._action(view, "&Collapse All Modules", self.model.collapse_all, "Ctrl+[")
        self._action(view, "&Expand All Modules", self.model.expand_all, "Ctrl+]")
        self.fold_action = QAction("F&old Repeated Blocks", self, checkable=True)
        self.fold_action.toggled.connect(self.model.set_fold)
        self.model.snapshot_changed.connect(self._sync_fold_action)  # large graphs fold
        view.addAction(self.fold_action)
        view.addSeparator()
        self.upward_action = QAction("Flow &Upward (inputs at the bottom)", self, checkable=True)
        self.upward_action.setChecked(self.settings.value("view/upward", True, type=bool))
        self.upward_action.toggled.connect(self._on_direction)
        view.addAction(self.upward_action)
        themes_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for key, text in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            action = QAction(text, self, checkable=True)
            action.triggered.connect(lambda checked=False, k=key: self.set_theme(k))
            group.addAction(action)
            themes_menu.addAction(action)
            self.theme_actions[key] = action
        self.presenter_action = QAction("&Presenter Mode", self, checkable=True)
        self.presenter_action.setShortcut(QKeySequence("F11"))
        self.presenter_action.triggered.connect(self.toggle_presenter)
        view.addAction(self.presenter_action)
        self.addAction(self.presenter_action)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("toolbar-main")
        bar.setMovable(False)
        self.addToolBar(bar)
        bar.addAction(self.run_action)
        bar.addAction(self.cancel_action)
        bar.addAction(self.type_action)
        bar.addSeparator()
        self.find_box = QLineEdit()
        self.find_box.setPlaceholderText("Find node (Ctrl+F)")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMaximumWidth(240)
        self.find_box.returnPressed.connect(lambda: self.find_node(self.find_box.text()))
        bar.addWidget(self.find_box)

    # -- settings ------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        else:
            QTimer.singleShot(
                0, self._default_dock_sizes
            )  # sizes apply once the window is laid out
        self.set_theme(str(self.settings.value("view/theme", "system")))
        self.graph.set_upward(self.upward_action.isChecked())

    def _default_dock_sizes(self) -> None:
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        docks = self.docks
        self.resizeDocks([docks["editor"], docks["inspector"]], [480, 380], horizontal)
        self.resizeDocks([docks["editor"], docks["output"]], [560, 240], vertical)
        self.resizeDocks([docks["inspector"], docks["leaves"]], [520, 280], vertical)

    def _start_text(self, ask_restore: Callable[[], bool]) -> None:
        crashed_text = self.document.start_session()
        last = self.settings.value("files/last_script")
        text = EXAMPLE.read_text(encoding="utf-8") if EXAMPLE.exists() else ""
        if isinstance(last, str) and last:
            text = last
        self.editor.setPlainText(text)
        self.document.set_modified(False)
        self.run_script()
        if crashed_text is not None and crashed_text != text:
            # Asked once the window is on screen, so the question has its window behind it.
            QTimer.singleShot(0, lambda: self._offer_restore(crashed_text, ask_restore))

    def _offer_restore(self, text: str, ask_restore: Callable[[], bool]) -> None:
        if ask_restore():
            self.editor.setPlainText(text)
            self.document.set_modified(True)
            self.run_script()

    def _ask_restore(self) -> bool:
        answer = QMessageBox.question(
            self, "Restore script?",
            "Autograd Explorer did not close normally last time.\n"
            "Restore the script you were editing?",
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def set_theme(self, choice: str) -> None:
        self.settings.setValue("view/theme", choice)
        self.theme_actions[choice if choice in self.theme_actions else "system"].setChecked(True)
        self.apply_theme()

    def apply_theme(self) -> None:
        """The chosen theme; its high-contrast version while presenting."""
        theme = themes.resolve(str(self.settings.value("view/theme", "system")))
        if self.presenter.active:
            theme = themes.presenter(theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(themes.palette(theme))
        self.editor.set_theme(theme)
        self.model.set_theme(theme)

    def toggle_presenter(self) -> None:
        self.presenter.toggle()
        self.presenter_action.setChecked(self.presenter.active)

    def _sync_fold_action(self) -> None:
        self.fold_action.blockSignals(True)
        self.fold_action.setChecked(self.model.fold)
        self.fold_action.blockSignals(False)

    def _on_minimap(self, enabled: bool) -> None:
        self.settings.setValue("view/minimap", enabled)
        self.graph.set_minimap_enabled(enabled)

    def _on_direction(self, upward: bool) -> None:
        self.settings.setValue("view/upward", upward)
        self.graph.set_upward(upward)

    # -- running -------------------------------------------------------------------------
    def run_script(self) -> None:
        self._type_timer.stop()
        self._play_on_reply = False
        if self.worker.busy:
            self.worker.cancel()
        self._pending_model = None
        self._pending = self.worker.run(self.editor.toPlainText())
        self.model.set_running(True)

    def cancel(self) -> None:
        if self.worker.busy:
            self.worker.cancel()

    def backward(self) -> None:
        """Replay the script's own backward passes, or run one from the chosen output."""
        snapshot = self.model.snapshot
        if snapshot is None or self.model.running:
            return
        if snapshot.passes:
            self.model.move_to(Cursor(self.model.cursor.pass_index, -1))
            self.model.play()
            return
        name = self._backward_root_name(snapshot)
        if name is None:
            self.statusBar().showMessage("Nothing to backward from: name an output, such as y = …")
            return
        self._play_on_reply = True
        self._pending = self.worker.backward(name)
        self.model.set_running(True)

    def _backward_root_name(self, snapshot: Snapshot) -> str | None:
        graph = snapshot.graph
        selected = self.model.selected
        if (
            selected in graph
            and graph.nodes[selected].get("name")
            and graph.nodes[selected]["kind"] == "op"
        ):
            return graph.nodes[selected]["name"]
        outputs = [
            a["name"] for _, a in graph.nodes(data=True) if a.get("output") and a.get("name")
        ]
        return outputs[-1] if outputs else None

    def _on_reply(self, reply: Any) -> None:
        if reply.id != self._pending:
            return  # an answer to a request that was replaced or cancelled
        self._pending = None
        self.model.set_running(False)
        if reply.kind == "cancelled":
            self.statusBar().showMessage("Cancelled.")
            return
        if reply.kind != "snapshot" or reply.snapshot is None:
            self._show_problem(Problem(reply.message or "the worker stopped unexpectedly"))
            self.statusBar().showMessage(reply.message)
            return
        snapshot = reply.snapshot
        keep_pass = self._play_on_reply and snapshot.passes
        cursor = Cursor(len(snapshot.passes) - 1, -1) if keep_pass else Cursor(0, -1)
        if not self._play_on_reply:  # a run, not a backward pass: it decides what is shown
            self._model_file = self._pending_model
        self.model.set_snapshot(snapshot, cursor)
        self._show_problem(snapshot.problem)
        graph = snapshot.graph
        self._show_status(
            f"Ran in {reply.seconds:.2f} s · {graph.number_of_nodes():,} nodes · "
            f"{graph.number_of_edges():,} edges · {len(snapshot.passes)} backward passes"
        )
        if keep_pass:
            self.model.play()

    def _show_problem(self, problem: Problem | None) -> None:
        if problem is None:
            self.editor.clear_error()
            self.error_label.clear()
            self.error_label.setVisible(False)
            return
        if self._model_file is not None:  # its line is in the model file, not in the editor
            self.editor.clear_error()
            self.error_label.setText(model_files.problem_text(self._model_file, problem))
        else:
            self.editor.mark_error(problem.line, problem.column)
            where = script_place(self.editor.toPlainText(), problem.line, problem.column)
            hint = f"\nHint: {problem.hint}" if problem.hint else ""
            self.error_label.setText(f"{where}{problem.message}{hint}")
        self.error_label.setStyleSheet(f"color: {self.model.theme.error}; padding: 4px;")
        self.error_label.setVisible(True)

    def _show_status(self, message: str) -> None:
        if self._model_file is not None:
            message = model_files.status_text(self._model_file, message)
        self.statusBar().showMessage(message)

    def _on_running_changed(self, running: bool) -> None:
        self.cancel_action.setEnabled(running)
        if running:
            self.statusBar().showMessage("Running…")

    def _on_text_changed(self) -> None:
        self.document.set_modified(True)
        if self.type_action.isChecked():
            self._type_timer.start()

    # -- finding -------------------------------------------------------------------------
    def focus_find(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    def find_node(self, text: str) -> str | None:
        """Select and show the first node whose name, label or op contains text."""
        snapshot = self.model.snapshot
        needle = text.strip().lower()
        if snapshot is None or not needle:
            return None
        for key in ("name", "label", "op"):
            for node, value in snapshot.graph.nodes(data=key):
                if value and needle in str(value).lower():
                    self.model.reveal(node)  # open the modules it is folded into
                    self.model.select(node)
                    self.graph.center_on(node)
                    return node
        self.statusBar().showMessage(f"No node matches {text!r}")
        return None

    # -- files ---------------------------------------------------------------------------
    def _export_stem(self) -> str:
        """The name exports are offered under: the model file's or the script's."""
        return (self._model_file or self.document.path or Path("untitled.py")).stem

    def _on_document_changed(self) -> None:
        self.setWindowTitle(self.document.title())
        self.setWindowModified(self.document.modified)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for entry in self.document.recent():
            action = self.recent_menu.addAction(entry)
            action.triggered.connect(lambda checked=False, p=entry: self.open_recent(Path(p)))
        self.recent_menu.setEnabled(bool(self.document.recent()))

    def _confirm_discard(self) -> bool:
        if not self.document.modified:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", "The script has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Save:
            return self.save_file()
        return answer == QMessageBox.StandardButton.Discard

    def new_file(self) -> None:
        if self._confirm_discard():
            self.editor.setPlainText("")
            self.document.new()
            self.lessons.close()

    def open_file(self) -> None:
        if not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Script or Lesson", "", lesson_files.OPEN_FILTER
        )
        if path:
            self.open_path(Path(path))

    def open_recent(self, path: Path) -> None:
        if self._confirm_discard():
            self.open_path(path)

    def open_path(self, path: Path) -> bool:
        if lesson_files.is_lesson(path):
            return self.lessons.open(path)
        try:
            text = self.document.read(path)
        except (OSError, ValueError) as error:
            QMessageBox.warning(self, "Cannot open", f"Cannot open {path}:\n{error}")
            return False
        self.editor.setPlainText(text)
        self.document.opened(path)
        self.lessons.close()
        self.run_script()
        return True

    def dragEnterEvent(self, event: Any) -> None:
        lesson_files.accept_drop(event)

    def dragMoveEvent(self, event: Any) -> None:
        lesson_files.accept_drop(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = lesson_files.dropped_file(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Once the drag has ended: the unsaved-changes question must not block the drop.
        QTimer.singleShot(0, lambda: self._confirm_discard() and self.open_path(path))

    def open_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Model File", "", model_files.FILE_FILTER)
        if path:
            self.run_model_file(Path(path))

    def run_model_file(self, path: Path) -> bool:
        """Run a model file (trusted Python) in the worker, once the user says they trust it.

        The editor keeps its script; the graph, output and status bar show the model file's.
        """
        if not self._ask_trust(path):
            return False
        try:
            text = read_text_file(path)  # the same bound as a script's: code, not weights
        except (OSError, ValueError) as error:
            QMessageBox.warning(self, "Cannot open", f"Cannot open {path}:\n{error}")
            return False
        self._type_timer.stop()
        self._play_on_reply = False
        if self.worker.busy:
            self.worker.cancel()
        self._pending_model = path
        self._pending = self.worker.open_model(str(path), text)
        self.model.set_running(True)
        return True

    def save_file(self) -> bool:
        if self.document.path is None or lesson_files.read_only(self.document.path):
            return self.save_file_as()
        return self._save_to(self.document.path)

    def save_file_as(self) -> bool:
        lesson = self.lessons.state.lesson is not None
        name = "lesson.json" if lesson else "untitled.py"
        chosen = lesson_files.LESSON_FILTER if lesson else lesson_files.SCRIPT_FILTER
        filters = f"{lesson_files.SCRIPT_FILTER};;{lesson_files.LESSON_FILTER}"
        path, chosen = QFileDialog.getSaveFileName(self, "Save As", name, filters, chosen)
        return self._save_to(lesson_files.save_target(path, chosen)) if path else False

    def _save_to(self, path: Path) -> bool:
        if lesson_files.is_lesson(path):
            return self.lessons.save(path)
        try:
            self.document.save(path, self.editor.toPlainText())
        except OSError as error:
            QMessageBox.warning(self, "Cannot save", f"Cannot save {path}:\n{error}")
            return False
        self.statusBar().showMessage(f"Saved {path}")
        return True

    # -- dialogs -------------------------------------------------------------------------
    def ask_memory_limit(self) -> None:
        current = self.settings.value("worker/memory_mb", DEFAULT_MEMORY_MB, type=int)
        value, ok = QInputDialog.getInt(
            self, "Worker memory limit", "Memory a script may use, in MB:", current, 512, 65536, 256
        )
        if ok:
            self.settings.setValue("worker/memory_mb", value)
            self.worker.set_memory_mb(value)

    def show_about(self) -> None:
        QMessageBox.about(self, "About Autograd Explorer", about.about_html())

    # -- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("files/last_script", self.editor.toPlainText())
        self.document.end_session()
        self.worker.stop()
        event.accept()
