"""A run that records no graph says why over the empty graph, and nothing else does."""

from __future__ import annotations

import pytest

from explorer.ui.window.main_window import MainWindow
from tests.helpers import run

NOTES = "x = torch.full((2,3), 4., requires_grad=True)\ny = (2*x**2+3)\n"
NO_GRAD = "x = torch.full((2,3), 4.)\ny = 2*x**2+3\n"
IN_NO_GRAD = (
    "x = torch.full((2,3), 4., requires_grad=True)\nwith torch.no_grad():\n    y = 2*x**2+3\n"
)
FAILS = "x = torch.ones(2, requires_grad=True)\ny = x @ torch.ones(3)\n"


@pytest.mark.usefixtures("private_paths", "no_modal_dialogs")
def test_an_empty_graph_says_why_and_the_note_goes_with_the_next_graph(
    qtbot, window: MainWindow
) -> None:
    note = window.graph.empty_note
    run(qtbot, window, NO_GRAD)
    assert window.model.snapshot.graph.number_of_nodes() == 0
    assert note.isVisible()
    assert "requires_grad=True" in note.text() and "torch.no_grad()" in note.text()
    assert window.graph.rect().contains(note.geometry())
    run(qtbot, window, IN_NO_GRAD)  # x alone: what no_grad left out is visible
    assert [a.label for _, a in window.model.snapshot.graph.nodes(data=True)] == ["x"]
    assert not note.isVisible()
    run(qtbot, window, NO_GRAD)
    assert note.isVisible()
    run(qtbot, window, NOTES)
    assert window.model.snapshot.graph.number_of_nodes() == 4
    assert not note.isVisible()
    run(qtbot, window, FAILS)  # an error says what went wrong where errors are shown
    assert window.model.snapshot.problem is not None
    assert not note.isVisible()
