"""The File menu's commands: new, open, open recent, drops, save, save as, open model file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from explorer.ui.lessons import files as lesson_files
from explorer.ui.window import model_files
from explorer.ui.window.documents import read_text_file


class FileCommands(QObject):
    """What the File menu does to the window's document, lesson and graph."""

    def __init__(self, window: Any, ask_trust: Callable[[Path], bool] | None = None) -> None:
        super().__init__(window)
        self.window = window
        # Asked before a model file runs; tests answer it, as they answer the restore question.
        self.ask_trust = ask_trust or (lambda path: model_files.ask_trust(window, path))

    @property
    def document(self) -> Any:
        return self.window.document

    def confirm_discard(self) -> bool:
        """True when the script may be replaced: unchanged, saved now, or changes discarded."""
        if not self.document.modified:
            return True
        answer = QMessageBox.question(
            self.window, "Unsaved changes", "The script has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Save:
            return self.save_file()
        return answer == QMessageBox.StandardButton.Discard

    def fill_recent(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        for entry in self.document.recent():
            action = menu.addAction(entry)
            action.triggered.connect(lambda checked=False, p=entry: self.open_recent(Path(p)))
        menu.setEnabled(bool(self.document.recent()))

    # -- opening ---------------------------------------------------------------------------
    def new_file(self) -> None:
        if self.confirm_discard():
            self.window.editor.setPlainText("")
            self.document.new()
            self.window.lessons.close()

    def open_file(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open Script or Lesson", "", lesson_files.OPEN_FILTER
        )
        if path:
            self.open_path(Path(path))

    def open_recent(self, path: Path) -> None:
        if self.confirm_discard():
            self.open_path(path)

    def open_path(self, path: Path) -> bool:
        """Open a script or a lesson, and run it; False, having said why, when it cannot."""
        window = self.window
        if lesson_files.is_lesson(path):
            return window.lessons.open(path)
        try:
            text = self.document.read(path)
        except (OSError, ValueError) as error:
            QMessageBox.warning(window, "Cannot open", f"Cannot open {path}:\n{error}")
            return False
        window.editor.setPlainText(text)
        self.document.opened(path)
        window.lessons.close()
        window.run_script()
        return True

    def drop(self, event: QDropEvent) -> None:
        path = lesson_files.dropped_file(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Once the drag has ended: the unsaved-changes question must not block the drop.
        QTimer.singleShot(0, lambda: self.confirm_discard() and self.open_path(path))

    def open_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open Model File", "", model_files.FILE_FILTER
        )
        if path:
            self.run_model_file(Path(path))

    def run_model_file(self, path: Path) -> bool:
        """Run a model file (trusted Python) in the worker, once the user says they trust it.

        The editor keeps its script; the graph, output and status bar show the model file's.
        """
        if not self.ask_trust(path):
            return False
        try:
            text = read_text_file(path)  # the same bound as a script's: code, not weights
        except (OSError, ValueError) as error:
            QMessageBox.warning(self.window, "Cannot open", f"Cannot open {path}:\n{error}")
            return False
        self.window.run_trusted_model_file(path, text)
        return True

    # -- saving ----------------------------------------------------------------------------
    def save_file(self) -> bool:
        path = self.document.path
        if path is None or lesson_files.read_only(path):
            return self.save_file_as()
        return self.save_to(path)

    def save_file_as(self) -> bool:
        lesson = self.window.lessons.state.lesson is not None
        name = "lesson.json" if lesson else "untitled.py"
        chosen = lesson_files.LESSON_FILTER if lesson else lesson_files.SCRIPT_FILTER
        filters = f"{lesson_files.SCRIPT_FILTER};;{lesson_files.LESSON_FILTER}"
        path, chosen = QFileDialog.getSaveFileName(self.window, "Save As", name, filters, chosen)
        return self.save_to(lesson_files.save_target(path, chosen)) if path else False

    def save_to(self, path: Path) -> bool:
        window = self.window
        if lesson_files.is_lesson(path):
            return window.lessons.save(path)
        try:
            self.document.save(path, window.editor.toPlainText())
        except OSError as error:
            QMessageBox.warning(window, "Cannot save", f"Cannot save {path}:\n{error}")
            return False
        window.statusBar().showMessage(f"Saved {path}")
        return True
