"""The window's side of opening a user's own model file: the trust question and the wording.

A model file is ordinary Python, run in the worker with the user's permissions, so it runs
only after the user chose it from File → Open Model File… and said yes to the question here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from explorer.data.snapshot import Problem

FILE_FILTER = "Python model files (*.py);;All files (*)"


def trust_box(parent: QWidget | None, path: Path) -> QMessageBox:
    """The question asked before a model file runs; Cancel is the default answer."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Run a model file?")
    box.setText(f"Run {path.name} as Python?")
    box.setInformativeText(
        "A model file is Python code. It will run on this computer with your permissions, in "
        "the explorer's worker process: it can read, change and delete your files and use the "
        "network, like any program you start.\n\n"
        f"Open only files you trust.\n\n{path}"
    )
    box.addButton("Run File", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    return box


def ask_trust(parent: QWidget | None, path: Path) -> bool:
    """Ask the user whether path may run; True only when they chose to run it."""
    box = trust_box(parent, path)
    box.exec()
    clicked = box.clickedButton()
    return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.AcceptRole


def problem_text(path: Path, problem: Problem) -> str:
    """A model file's problem for the error label: the file, not the editor, has the line."""
    where = f", line {problem.line}, column {problem.column}" if problem.line else ""
    hint = f"\nHint: {problem.hint}" if problem.hint else ""
    return f"{path.name}{where}: {problem.message}{hint}"


def status_text(path: Path, message: str) -> str:
    """The status bar's message, saying the graph is the model file's, not the editor's."""
    return f"Model file {path.name} · {message}"
