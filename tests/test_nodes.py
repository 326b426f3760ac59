"""A node of the graph is a typed record that networkx treats as the node's attribute dict."""

from __future__ import annotations

import pickle

import pytest

from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import TensorSummary, node_to_dict
from explorer.view.calls import CALL_CARD, CallTree
from tests.helpers import run_ok

NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\n"
    "w = torch.tensor(0.5, requires_grad=True)\n"
    "y = 2*x**2 + 3\n"
    "loss = (w * y).mean()\n"
    "loss.backward()\n"
)


def _named(graph: AutogradGraph, name: str) -> GraphNode:
    return next(a for _, a in graph.nodes(data=True) if a.name == name)


def test_a_captured_node_is_a_typed_record() -> None:
    graph = run_ok(NOTES).graph
    assert isinstance(graph, AutogradGraph)
    x = _named(graph, "x")
    assert isinstance(x, GraphNode)
    assert (x.kind, x.op, x.label, x.shape, x.dtype) == (
        "leaf",
        "AccumulateGrad",
        "x",
        [2, 3],
        "float32",
    )
    assert isinstance(x.value, TensorSummary)
    loss = _named(graph, "loss")
    assert (loss.kind, loss.op, loss.label, loss.output) == ("op", "MeanBackward0", "mean", True)


def test_the_record_is_a_mapping_of_its_set_fields() -> None:
    record = GraphNode(op="MulBackward0", kind="op", label="mul", const_slots=[1])
    assert dict(record) == {"op": "MulBackward0", "kind": "op", "label": "mul", "const_slots": [1]}
    assert "name" not in record and record.get("name") is None
    with pytest.raises(KeyError):
        record["name"]
    record["name"] = "y"
    assert record.name == "y" and record["name"] == "y" and len(record) == 5
    del record["name"]
    assert record.name is None and "name" not in record


def test_a_key_that_is_not_a_field_is_refused_with_the_fields_it_could_be() -> None:
    graph = AutogradGraph()
    with pytest.raises(KeyError, match=r"no field 'colour'.*kind"):
        graph.add_node("n0", kind="op", colour="red")
    graph.add_node("n1", kind="op")
    with pytest.raises(KeyError, match="colour"):
        graph.nodes["n1"]["colour"] = "red"


def test_a_leaf_is_written_with_its_name_after_its_value_and_an_op_after_its_label() -> None:
    graph = run_ok(NOTES).graph
    leaf = next(n for n, a in graph.nodes(data=True) if a.name == "x")
    op = next(n for n, a in graph.nodes(data=True) if a.name == "loss")
    assert list(node_to_dict(leaf, graph.nodes[leaf])) == [
        "id", "op", "kind", "label", "shape", "dtype", "value", "name",
    ]  # fmt: skip
    assert list(node_to_dict(op, graph.nodes[op]))[:5] == ["id", "op", "kind", "label", "name"]
    assert list(node_to_dict(op, graph.nodes[op]))[-1] == "output"


def test_copies_subgraphs_and_the_worker_pickle_keep_the_records() -> None:
    graph = run_ok(NOTES).graph
    some = list(graph.nodes)[:3]
    for other in (
        graph.copy(),
        graph.subgraph(some),
        pickle.loads(pickle.dumps(graph, pickle.HIGHEST_PROTOCOL)),
    ):
        assert isinstance(other, AutogradGraph)
        for node in other.nodes:
            assert isinstance(other.nodes[node], GraphNode)
            written = node_to_dict(node, other.nodes[node])
            assert written == node_to_dict(node, graph.nodes[node])
    copied = graph.copy()
    copied.nodes[some[0]].name = "renamed"
    assert graph.nodes[some[0]].name != "renamed"


def test_a_collapsed_module_call_is_a_record_of_kind_group() -> None:
    snapshot = run_ok(
        "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
        "loss = model(torch.randn(2, 3)).sum()\n"
    )
    shown = CallTree(snapshot).shown({"model"})
    card = shown.graph.nodes[CALL_CARD + "model"]
    assert isinstance(card, GraphNode)
    assert (card.kind, card.call, card.module, card.repeats) == ("call", "model", "model", None)
    assert card.size == len(shown.members[CALL_CARD + "model"])
    assert card.shape == [2, 1]
