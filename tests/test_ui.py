"""The window as a user drives it: type, run, press Backward, step, read the leaves."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt

from explorer.ui.window.main_window import MainWindow
from tests.helpers import NOTES, WAIT_MS, run


def op_of(win: MainWindow, node: str) -> str:
    return win.model.snapshot.graph.nodes[node]["op"]


def test_the_window_opens_with_the_notes_example_run(window: MainWindow) -> None:
    snapshot = window.model.snapshot
    assert snapshot.problem is None
    assert "requires_grad=True" in snapshot.outputs[0].text
    assert window.windowTitle().startswith("untitled.py")


def test_type_run_and_step_through_backward(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    graph = window.model.snapshot.graph
    assert sorted(op for _, op in graph.nodes(data="op")) == [
        "AccumulateGrad", "AddBackward0", "MulBackward0", "PowBackward0",
    ]  # fmt: skip
    edges = {(op_of(window, u), op_of(window, v), k) for u, v, k in graph.edges(keys=True)}
    assert edges == {
        ("MulBackward0", "AddBackward0", 0),
        ("PowBackward0", "MulBackward0", 0),
        ("AccumulateGrad", "PowBackward0", 0),
    }
    window.stepper.backward.click()
    window.model.stop()
    window.model.to_start()
    assert window.graph.lit_edges() == set()
    expected_active = ["AddBackward0", "MulBackward0", "PowBackward0", "AccumulateGrad"]
    expected_lit = [
        {("MulBackward0", "AddBackward0")},
        {("MulBackward0", "AddBackward0"), ("PowBackward0", "MulBackward0")},
        {("MulBackward0", "AddBackward0"), ("PowBackward0", "MulBackward0"),
         ("AccumulateGrad", "PowBackward0")},
    ]  # fmt: skip
    expected_lit.append(expected_lit[-1])
    window.graph.setFocus()
    for active, lit in zip(expected_active, expected_lit, strict=True):
        qtbot.keyClick(window.graph, Qt.Key.Key_Right)
        assert op_of(window, window.model.step_view().active) == active
        assert {(op_of(window, u), op_of(window, v)) for u, v, _ in window.graph.lit_edges()} == lit
        assert (
            active in window.stepper.caption.text()
            or "accumulates" in window.stepper.caption.text()
        )
    (leaf,) = window.leaves.leaf_nodes()
    assert window.leaves.grad_text(leaf) == "None → all 16"
    qtbot.waitUntil(lambda: ".grad after" in window.inspector.toPlainText())
    after = window.inspector.toPlainText().split(".grad after")[1]
    assert after.split() == [":", "2×3", "·", "float32"] + ["16"] * 6


def test_backward_on_request_when_the_script_has_none(qtbot, window: MainWindow) -> None:
    run(qtbot, window, "x = torch.full((2,), 4., requires_grad=True)\ny = (2*x**2+3).sum()\n")
    assert window.model.pass_count == 0
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=WAIT_MS):
        window.stepper.backward.click()
    assert window.model.pass_count == 1
    window.model.stop()
    window.model.to_end()
    (leaf,) = window.leaves.leaf_nodes()
    assert window.leaves.grad_text(leaf).endswith("all 16")


def test_an_error_is_marked_in_the_editor(qtbot, window: MainWindow) -> None:
    run(qtbot, window, "x = torch.full((2,3), 4, requires_grad=True)\n")
    assert window.error_label.isVisible()
    assert "4.0" in window.error_label.text()
    assert "Line 1, column 5" in window.error_label.text()
    assert window.editor.extraSelections()


def test_selection_survives_stepping_and_rerun(qtbot, window: MainWindow) -> None:
    run(qtbot, window, NOTES)
    node = window.find_node("pow")
    assert node is not None and window.model.selected == node
    window.model.step_forward()
    window.model.step_forward()
    assert window.model.selected == node
    assert "x^2" in window.inspector.toPlainText()
    run(qtbot, window, NOTES)
    assert window.model.cursor.step_index == -1
    assert window.model.selected == node


def test_a_graph_past_the_drawing_limit_is_refused_with_a_message(window: MainWindow) -> None:
    from explorer.data.nodes import AutogradGraph, GraphNode
    from explorer.data.snapshot import MAX_DRAWN_NODES, Output, Snapshot

    graph = AutogradGraph()
    graph.add_records(
        (f"n{i}", GraphNode(op="AddBackward0", kind="op")) for i in range(MAX_DRAWN_NODES + 1)
    )
    drawn = window.model.snapshot
    answered = SimpleNamespace(seconds=0.5)  # what the runner reads of the worker's request
    window.runner._on_run(answered, Snapshot(graph=graph, outputs=[Output(1, "hi")]), None)
    shown = window.model.snapshot
    assert shown is not drawn and shown.graph.number_of_nodes() == 0
    assert [o.text for o in shown.outputs] == ["hi"]
    assert f"the window draws graphs of up to {MAX_DRAWN_NODES:,}" in window.error_label.text()
