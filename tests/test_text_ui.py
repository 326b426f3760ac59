"""Text in the window as a user reads it: the inspector's saved values and heading, the card
text's size, the card's tooltip, and the legend's items kept whole."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QTextDocument

from explorer.ui.graph import hits
from explorer.ui.graph.legend import Legend
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.inspector import Inspector
from explorer.view import labels
from explorer.view.geometry import CARD_W
from tests.helpers import graph_view, run_ok

LOSSES = (
    "x = torch.ones(2, 3, requires_grad=True)\n"
    "s = x.sum(dim=-1)\n"
    "p = torch.softmax(x, dim=-1)\n"
    "loss = F.cross_entropy(x, torch.tensor([0, 2]))\n"
    "loss.backward()\n"
)
LONG_NAMES = (
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.encoder_output_projection = nn.Linear(4, 4)\n"
    "        self.norm = nn.LayerNorm(4)\n"
    "    def forward(self, x):\n"
    "        return self.norm(self.encoder_output_projection(x))\n"
    "model = Net()\n"
    "hidden_states_after_the_norm = model(torch.ones(3, 4))\n"
    "loss = (hidden_states_after_the_norm * 1e-9).sum()\nloss.backward()\n"
)


def _inspector(qtbot, script: str) -> tuple[ExplorerModel, Inspector]:
    model = ExplorerModel()
    inspector = Inspector(model)
    qtbot.addWidget(inspector)
    model.set_snapshot(run_ok(script))
    return model, inspector


def _node(model: ExplorerModel, **fields: str) -> str:
    (node,) = [
        n
        for n, attrs in model.snapshot.graph.nodes(data=True)
        if all(attrs.get(k) == v for k, v in fields.items())
    ]
    return node


def _saved_lines(inspector: Inspector) -> list[str]:
    text = inspector.toPlainText()
    assert "Saved for backward" in text
    return text.split("Saved for backward")[1].splitlines()


def test_the_inspector_writes_saved_dims_and_reductions_as_pytorch_does(qtbot) -> None:
    model, inspector = _inspector(qtbot, LOSSES)
    model.select(_node(model, op="NllLossBackward0"))
    lines = _saved_lines(inspector)
    assert "reduction: 'mean'" in lines and "ignore_index: -100" in lines
    model.select(_node(model, op="SumBackward1"))
    lines = _saved_lines(inspector)
    assert "dim: (-1,)" in lines and "keepdim: False" in lines
    model.select(_node(model, op="SoftmaxBackward0"))
    assert "dim: -1" in _saved_lines(inspector)
    assert "18446744073709551615" not in inspector.toPlainText()


def test_the_inspectors_heading_is_the_whole_name_and_wraps(qtbot) -> None:
    model, inspector = _inspector(qtbot, LONG_NAMES)
    inspector.resize(180, 400)
    inspector.show()
    model.select(_node(model, name="model.encoder_output_projection.weight"))
    assert inspector.toPlainText().splitlines()[0] == "model.encoder_output_projection.weight"
    heading = inspector.document().firstBlock().layout()
    assert heading.lineCount() > 1  # wrapped anywhere, as it has no spaces: not cut, not wider
    width = inspector.viewport().width()
    assert all(heading.lineAt(k).naturalTextWidth() <= width for k in range(heading.lineCount()))


def test_card_text_fits_its_card_at_a_readable_size(qtbot) -> None:
    model, view = graph_view(qtbot, run_ok(LONG_NAMES))
    view.set_all_labels(True)
    model.to_end()  # every card carries its gradient too
    text = view._text
    for node in model.snapshot.graph:
        width, scale = text.text_size(node)
        assert width <= CARD_W * 0.95
        assert scale >= 0.75, text.text(node)  # of the size a line has when it is short


def test_a_cards_tooltip_has_its_whole_name_gradient_and_the_norms_meaning(qtbot) -> None:
    model, view = graph_view(qtbot, run_ok(LONG_NAMES))
    model.to_end()
    node = _node(model, name="model.encoder_output_projection.weight")
    geo = view.geometry_
    x, y = geo.pos[geo.index[node]]
    view.center_on(node)
    point = view.view.mapViewToScene(QPointF(x, y))
    tip = hits.tooltip_at(view, point.x(), point.y())
    assert tip is not None and tip.splitlines()[0] == "model.encoder_output_projection.weight"
    assert "grad ‖·‖ " in tip  # 16 values: too many to list
    assert labels.NORM_NOTE in tip


@pytest.mark.parametrize("width", range(120, 900, 30))
def test_the_legend_wraps_between_items_never_inside_one(qtbot, width: int) -> None:
    legend = Legend(ExplorerModel())
    qtbot.addWidget(legend)
    document = QTextDocument()
    document.setDefaultFont(legend.font())
    document.setHtml(legend.text())
    document.setTextWidth(width)
    plain = document.firstBlock().text()
    starts = {0} | {i + 1 for i, c in enumerate(plain) if c == " "}  # the only breaking spaces
    layout = document.firstBlock().layout()
    for k in range(layout.lineCount()):
        line = layout.lineAt(k)
        assert line.textStart() in starts, plain[line.textStart() :]
    assert "‖·‖ norm of a larger tensor" in plain.replace("\xa0", " ")
