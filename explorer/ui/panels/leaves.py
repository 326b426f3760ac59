"""The leaves panel: every leaf tensor and parameter with its .grad as of the current step."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from explorer.ui.model import ExplorerModel
from explorer.view import labels

COLUMNS = ["leaf", "shape", ".grad"]


class LeavesPanel(QTableWidget):
    """One row per leaf; the leaf that just accumulated shows before → after, highlighted."""

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.model = model
        self.setHorizontalHeaderLabels(COLUMNS)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._rows: dict[str, int] = {}
        self.itemSelectionChanged.connect(self._on_row_selected)
        model.snapshot_changed.connect(self._rebuild)
        model.cursor_changed.connect(self._refresh)
        model.theme_changed.connect(self._refresh)
        self._rebuild()

    def leaf_nodes(self) -> list[str]:
        snapshot = self.model.snapshot
        if snapshot is None:
            return []
        return [n for n, a in snapshot.graph.nodes(data=True) if a.kind == "leaf"]

    def grad_text(self, node: str) -> str:
        """What the .grad column says for node now."""
        return self.item(self._rows[node], 2).text()

    def _rebuild(self) -> None:
        snapshot = self.model.snapshot
        nodes = self.leaf_nodes()
        self.setRowCount(len(nodes))
        self._rows = {node: row for row, node in enumerate(nodes)}
        for node, row in self._rows.items():
            attrs = snapshot.graph.nodes[node]
            self.setItem(row, 0, QTableWidgetItem(attrs.name or "(unnamed)"))
            self.setItem(row, 1, QTableWidgetItem(labels.shape_text(attrs.shape)))
            self.setItem(row, 2, QTableWidgetItem("None"))
        self._refresh()

    def _refresh(self) -> None:
        replay = self.model.replay
        if replay is None:
            return
        grads = replay.leaf_grads(self.model.cursor)
        just = self.model.step_view().accumulated
        highlight = QBrush(QColor(self.model.theme.accumulated))
        plain = QBrush()
        for node, row in self._rows.items():
            before, after = grads.get(node, (None, None))
            text = labels.tensor_text(after, 40)
            if node == just:
                text = f"{labels.tensor_text(before, 20)} → {text}"
            for column in range(len(COLUMNS)):
                self.item(row, column).setBackground(highlight if node == just else plain)
            self.item(row, 2).setText(text)
            self.item(row, 2).setToolTip(text)

    def _on_row_selected(self) -> None:
        rows = {index.row() for index in self.selectedIndexes()}
        for node, row in self._rows.items():
            if row in rows:
                self.model.select(node)
