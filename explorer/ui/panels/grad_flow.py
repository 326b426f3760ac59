"""The Gradient Flow pane: gradient size per module call and per parameter, on the module tree."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
)

from explorer.ui.model import ExplorerModel
from explorer.view import grad_scale, labels
from explorer.view.calls import CallTree
from explorer.view.grad_flow import FlowRow, flow_rows

COLUMNS = ["module call or parameter", "mean ‖grad‖", "largest ‖grad‖", "‖.grad‖ / ‖param‖"]
BAR_COLUMN = 2
SIZE_ROLE = Qt.ItemDataRole.UserRole + 1  # the norm a row's bar stands for


class GradFlowPanel(QTreeWidget):
    """One row per module call that ran in the pass shown, its parameters under it.

    A call's row has the mean and the largest norm of the gradients that arrived at its
    nodes; a parameter's, its .grad's norm after the pass and that over its own norm. The
    largest is drawn as a bar on the pass's log scale, in the colours of View → Colour by
    Gradient Size.
    """

    def __init__(self, model: ExplorerModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegateForColumn(BAR_COLUMN, _BarDelegate(self))
        self.rows: list[FlowRow] = []
        self._pass = -1
        self._tree: CallTree | None = None
        self.itemClicked.connect(self._on_clicked)
        model.snapshot_changed.connect(self._rebuild)
        model.cursor_changed.connect(self._on_cursor)
        model.theme_changed.connect(self.viewport().update)
        self._rebuild()

    def scale(self) -> grad_scale.Scale | None:
        replay = self.model.replay
        if replay is None or not 0 <= self._pass < self.model.pass_count:
            return None
        return replay.grad_norms(self._pass)[1]

    def _on_cursor(self) -> None:
        if self.model.cursor.pass_index != self._pass:
            self._rebuild()

    def _rebuild(self) -> None:
        self.clear()
        model = self.model
        self._pass = model.cursor.pass_index
        self.rows = []
        if model.snapshot is None or model.replay is None:
            return
        if not 0 <= self._pass < model.pass_count:
            return
        if self._tree is None or self._tree.snapshot is not model.snapshot:
            self._tree = model.call_tree or CallTree(model.snapshot)
        self.rows = flow_rows(self._tree, model.replay, self._pass)
        items: dict[str, QTreeWidgetItem] = {}
        for row in self.rows:
            above = items.get(row.parent) if row.parent else None
            item = QTreeWidgetItem(_texts(row))
            item.setData(0, Qt.ItemDataRole.UserRole, row.key)
            item.setData(BAR_COLUMN, SIZE_ROLE, row.size)
            item.setToolTip(0, row.key if row.is_call else f"parameter {row.label}")
            if above is None:
                self.addTopLevelItem(item)
            else:
                above.addChild(item)
            if row.is_call:
                items[row.key] = item
        self.expandToDepth(1)

    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole)
        snapshot = self.model.snapshot
        if snapshot is not None and key in snapshot.graph:  # a parameter: show it
            self.model.reveal(key)
            self.model.select(key)


def _texts(row: FlowRow) -> list[str]:
    def norm(value: float | None) -> str:
        return "" if value is None else labels.number(value, 3)

    if row.is_call:
        return [row.label, norm(row.mean), norm(row.largest), ""]
    return [row.label, "", norm(row.grad), norm(row.ratio)]


class _BarDelegate(QStyledItemDelegate):
    """The largest norm as a bar: its length the norm's place on the pass's log scale."""

    def __init__(self, panel: GradFlowPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        size = index.data(SIZE_ROLE)
        scale = self.panel.scale()
        if isinstance(size, float) and scale is not None:
            theme = self.panel.model.theme
            if math.isfinite(size) and size > 0:
                fraction = max(scale.position(size), 0.04)
            else:
                fraction = 1.0 if not math.isfinite(size) else 0.0
            rect = QRectF(option.rect).adjusted(2, 3, -2, -3)
            rect.setWidth(rect.width() * fraction)
            painter.save()
            painter.fillRect(rect, QColor(grad_scale.fill(size, scale, theme)))
            painter.restore()
        super().paint(painter, option, index)
