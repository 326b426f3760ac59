"""The question asked before a picture or an animation is written: where, and what it shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from explorer.ui.exports.images import ImageOptions
from explorer.ui.exports.passes import FRAME_MS


@dataclass(frozen=True)
class Kind:
    """One entry of File → Export."""

    key: str  # png, svg, pdf, gif, frames, json, graphml, dot
    menu_text: str
    file_filter: str  # for the file dialog; empty: a folder is chosen
    suffix: str  # of the default name; empty for a folder

    @property
    def suffixes(self) -> tuple[str, ...]:
        """The file endings that mean this kind (DOT has two)."""
        return (".dot", ".gv") if self.key == "dot" else (self.suffix,)

    @property
    def picture(self) -> bool:
        return self.key in ("png", "svg", "pdf", "gif", "frames")

    @property
    def animation(self) -> bool:
        return self.key in ("gif", "frames")


KINDS = [
    Kind("png", "Graph as &PNG…", "PNG images (*.png)", ".png"),
    Kind("svg", "Graph as &SVG…", "SVG drawings (*.svg)", ".svg"),
    Kind("pdf", "Graph as P&DF…", "PDF documents (*.pdf)", ".pdf"),
    Kind("gif", "Backward Pass as &GIF…", "Animated GIF (*.gif)", ".gif"),
    Kind("frames", "Backward Pass as PNG &Frames…", "", ""),
    Kind("json", "Graph as &JSON…", "JSON (*.json)", ".json"),
    Kind("graphml", "Graph as Graph&ML…", "GraphML (*.graphml)", ".graphml"),
    Kind("dot", "Graph as D&OT…", "Graphviz DOT (*.dot *.gv)", ".dot"),
]


@dataclass(frozen=True)
class ExportRequest:
    """What the user chose: the file (or folder, for frames) and how the picture looks."""

    path: Path
    options: ImageOptions = field(default_factory=ImageOptions)
    frame_ms: int = FRAME_MS


class ExportDialog(QDialog):
    """Path with Browse…, whole graph or visible area, white background, frame duration."""

    def __init__(
        self, parent: QWidget | None, kind: Kind, path: Path, about: str, previous: ExportRequest
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setWindowTitle("Export " + kind.menu_text.replace("&", "").rstrip("…"))
        form = QFormLayout(self)
        self.path_edit = QLineEdit(str(path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder:" if kind.key == "frames" else "File:", row)
        self.whole = QRadioButton("Whole graph")
        self.visible = QRadioButton("Visible area")
        area = QButtonGroup(self)
        area.addButton(self.whole)
        area.addButton(self.visible)
        (self.visible if previous.options.visible_area else self.whole).setChecked(True)
        shows = QHBoxLayout()
        shows.addWidget(self.whole)
        shows.addWidget(self.visible)
        shows.addStretch(1)
        form.addRow("Show:", shows)
        self.white = QCheckBox("White (for print)")
        self.white.setChecked(previous.options.white)
        form.addRow("Background:", self.white)
        self.frame_ms = QSpinBox()
        self.frame_ms.setRange(50, 10_000)
        self.frame_ms.setSingleStep(100)
        self.frame_ms.setSuffix(" ms")
        self.frame_ms.setValue(previous.frame_ms)
        if kind.key == "gif":
            form.addRow("Each step:", self.frame_ms)
        if about:
            note = QLabel(about)
            note.setWordWrap(True)
            form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, self.sizeHint().height())

    def request(self) -> ExportRequest:
        options = ImageOptions(visible_area=self.visible.isChecked(), white=self.white.isChecked())
        return ExportRequest(Path(self.path_edit.text().strip()), options, self.frame_ms.value())

    def _browse(self) -> None:
        current = self.path_edit.text()
        if self.kind.key == "frames":
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the frames", current)
        else:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export to", current, self.kind.file_filter
            )
        if chosen:
            self.path_edit.setText(chosen)
