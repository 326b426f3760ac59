"""The main window: composes the editor, graph, stepper, inspector, leaves and output panes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from explorer.data.snapshot import Snapshot
from explorer.ui import theme as themes
from explorer.ui.descent.panel import DescentPanel
from explorer.ui.graph.legend import Legend
from explorer.ui.graph.view import GraphView
from explorer.ui.lessons import files as lesson_files
from explorer.ui.lessons.bookmark_caption import BookmarkCaption
from explorer.ui.lessons.panel import LessonPanel
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.editor import CodeEditor
from explorer.ui.panels.grad_flow import GradFlowPanel
from explorer.ui.panels.inspector import Inspector
from explorer.ui.panels.leaves import LeavesPanel
from explorer.ui.panels.numeric_check import NumericChecks
from explorer.ui.panels.output_pane import OutputPane
from explorer.ui.panels.stepper import StepperBar
from explorer.ui.window import about, help_pages, menus, screen_fit
from explorer.ui.window.documents import Document
from explorer.ui.window.file_commands import FileCommands
from explorer.ui.window.presenter import Presenter
from explorer.ui.window.runner import Runner
from explorer.view.find import Found, matches
from explorer.view.replay import Cursor
from explorer.worker.client import DEFAULT_MEMORY_MB

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "notes.py"
TYPE_DEBOUNCE_MS = 700
# The narrowest a side pane goes: the window's narrowest stays well under a 1024 px screen.
SIDE_PANE_WIDTH = 200

NO_NONFINITE = "No NaN or infinity: every gradient of every backward pass is finite"


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
        self._found: Found | None = None
        self._build_panes()
        self.runner = Runner(self)
        self.document = Document(settings, self.editor.toPlainText, self)
        # The text as last opened or saved, and as last seen: a restyle (a theme, the
        # presenter's font) re-lays the editor's text without changing it.
        self._saved_text = self._seen_text = ""
        self.files = FileCommands(self, ask_trust)
        self.document.changed.connect(self._on_document_changed)
        self.document.recent_changed.connect(self.files.fill_recent)
        menus.build(self)
        self.model.snapshot_changed.connect(self.forget_found)  # its node ids may be others
        self._type_timer = QTimer(self, singleShot=True, interval=TYPE_DEBOUNCE_MS)
        self._type_timer.timeout.connect(self.run_script)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.run_requested.connect(self.run_script)
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
        editor_box.setMinimumWidth(SIDE_PANE_WIDTH)
        self.output = OutputPane(self.model)
        self.inspector = Inspector(self.model)
        self.leaves = LeavesPanel(self.model)
        self.inspector.setMinimumWidth(SIDE_PANE_WIDTH)
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
        self.docks["lesson"] = self._dock(
            "Lesson", screen_fit.SidewaysScroll(self.lesson_panel), left
        )
        self.tabifyDockWidget(self.docks["output"], self.docks["lesson"])
        self.descent_panel = DescentPanel(self.model, self.worker)
        self.descent_panel.message.connect(self.statusBar().showMessage)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        descent = screen_fit.SidewaysScroll(self.descent_panel)
        self.docks["descent"] = self._dock("Gradient Descent", descent, right)
        self.tabifyDockWidget(self.docks["leaves"], self.docks["descent"])
        # Its tab chosen: fill it in (a tab behind another is not prepared after each run).
        self.docks["descent"].visibilityChanged.connect(
            lambda shown: shown and self.descent_panel.prepare()
        )
        self.grad_flow = GradFlowPanel(self.model)
        self.docks["flow"] = self._dock("Gradient Flow", self.grad_flow, right)
        self.tabifyDockWidget(self.docks["descent"], self.docks["flow"])
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

    # -- settings ------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            screen_fit.fit(self)  # it may have been saved on a larger screen
        else:
            screen_fit.first_place(self)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        else:
            screen_fit.first_layout(self)
            # sizes apply once the window is laid out
            QTimer.singleShot(0, self, lambda: screen_fit.first_dock_sizes(self))
        self.set_theme(str(self.settings.value("view/theme", "system")))
        self.graph.set_upward(self.upward_action.isChecked())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Once shown, the frame the window system added is known: it too must fit.
        QTimer.singleShot(0, self, lambda: screen_fit.fit(self))  # not once it is gone

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

    def go_to_first_nonfinite(self) -> None:
        """Step to where the first NaN or infinity of the backward pass started, and show it."""
        if self.model.go_to_first_nonfinite():
            self.graph.zoom_to_selection()
        else:
            self.statusBar().showMessage(NO_NONFINITE, 5000)

    # -- running -------------------------------------------------------------------------
    def run_script(self) -> None:
        self._type_timer.stop()
        self.runner.run_script(self.editor.toPlainText())

    def run_trusted_model_file(self, path: Path, text: str) -> None:
        """Run a model file's text, read from path, which the user said they trust."""
        self._type_timer.stop()
        self.runner.run_model_file(path, text)

    def show_recording(self, snapshot: Snapshot, origin: str) -> None:
        """Show what explorer.record() recorded at origin (FILE:LINE), as the title and the
        status bar say; the editor keeps the user's script, which Run runs instead."""
        self._type_timer.stop()
        self.runner.show_recording(snapshot, origin)
        self.setWindowTitle(f"Recording from {origin} — Autograd Explorer")

    def cancel(self) -> None:
        self.runner.cancel()

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
        self.runner.backward(name)

    def _backward_root_name(self, snapshot: Snapshot) -> str | None:
        graph = snapshot.graph
        selected = self.model.selected
        if selected in graph and graph.nodes[selected].name and graph.nodes[selected].kind == "op":
            return graph.nodes[selected].name
        outputs = [a.name for _, a in graph.nodes(data=True) if a.output and a.name]
        return outputs[-1] if outputs else None

    def _on_running_changed(self, running: bool) -> None:
        self.cancel_action.setEnabled(running)
        if running:
            self.statusBar().showMessage("Running…")

    def _on_text_changed(self) -> None:
        text = self.editor.toPlainText()
        if text == self._seen_text:
            return  # laid out again, not edited
        self._seen_text = text
        self.document.set_modified(True)
        if self.type_action.isChecked():
            self._type_timer.start()

    # -- finding -------------------------------------------------------------------------
    def focus_find(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    def find_node(self, text: str, step: int = 0) -> str | None:
        """Select, reveal and centre a node whose name, label, op or module path contains
        text: the first match for a new text, else the one step places from the shown one."""
        snapshot = self.model.snapshot
        if snapshot is None or not text.strip():
            self.forget_found()
            return None
        found = self._found
        if found is None or found.text != text:
            found = self._found = Found(text, matches(snapshot.graph, text))
            step = 0
        node = found.move(step)
        self.find_count.setText(found.count_text())
        if node is None:
            self.statusBar().showMessage(f"No node matches {text!r}")
            return None
        self.model.reveal(node)  # open the modules it is folded into
        self.model.select(node)
        self.graph.center_on(node)
        return node

    def find_next(self) -> None:
        self.find_node(self.find_box.text(), 1)

    def find_previous(self) -> None:
        self.find_node(self.find_box.text(), -1)

    def forget_found(self) -> None:
        """A new text or a new graph: the next find starts again from the first match."""
        self._found = None
        self.find_count.clear()

    # -- files ---------------------------------------------------------------------------
    def export_stem(self) -> str:
        """The name exports are offered under: the model file's or the script's."""
        return (self.runner.model_file or self.document.path or Path("untitled.py")).stem

    def _on_document_changed(self) -> None:
        if not self.document.modified:
            self._saved_text = self._seen_text = self.editor.toPlainText()
        self.setWindowTitle(self.document.title())
        self.setWindowModified(self.document.modified)

    def open_path(self, path: Path) -> bool:
        return self.files.open_path(path)

    def run_model_file(self, path: Path) -> bool:
        return self.files.run_model_file(path)

    def save_file(self) -> bool:
        return self.files.save_file()

    def save_file_as(self) -> bool:
        return self.files.save_file_as()

    def _save_to(self, path: Path) -> bool:
        return self.files.save_to(path)

    def _confirm_discard(self) -> bool:
        return self.files.confirm_discard()

    def dragEnterEvent(self, event: Any) -> None:
        lesson_files.accept_drop(event)

    def dragMoveEvent(self, event: Any) -> None:
        lesson_files.accept_drop(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.files.drop(event)

    # -- dialogs -------------------------------------------------------------------------
    def ask_memory_limit(self) -> None:
        current = self.settings.value("worker/memory_mb", DEFAULT_MEMORY_MB, type=int)
        value, ok = QInputDialog.getInt(
            self, "Worker memory limit", "Memory a script may use, in MB:", current, 512, 65536, 256
        )
        if ok:
            self.settings.setValue("worker/memory_mb", value)
            self.worker.set_memory_mb(value)

    def show_getting_started(self) -> None:
        help_pages.show_getting_started(self)

    def show_shortcuts(self) -> None:
        help_pages.show_shortcuts(self)

    def show_about(self) -> None:
        QMessageBox.about(self, "About Autograd Explorer", about.about_html())

    # -- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        # Still modified after the question: the edits were discarded, so they are not kept
        # as the script to start with next time either.
        kept = self._saved_text if self.document.modified else self.editor.toPlainText()
        self.settings.setValue("files/last_script", kept)
        self.document.end_session()
        self.worker.stop()
        event.accept()
