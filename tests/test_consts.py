"""Constant inputs keep what the script gave them: `3`, `1.0001`, `lr = 0.5`, `xs = [1, 2, 3]`."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from torch import nn

import explorer
from explorer.data.snapshot import Snapshot, TensorSummary
from explorer.graph.recorder import Recorder
from explorer.page.document import page
from explorer.runs.session import run_script
from explorer.view import labels

HEAD = "import torch\nx = torch.full((2,3), 4., requires_grad=True)\n"


def _consts(snapshot: Snapshot) -> dict[str, list[str]]:
    """Each op with constant inputs, by label, and the texts drawn beside their dots."""
    found: dict[str, list[str]] = {}
    for _, attrs in snapshot.graph.nodes(data=True):
        for slot in attrs.const_slots or ():
            found.setdefault(attrs.label, []).append(labels.const_text(attrs, slot))
    return found


def test_the_notes_example_shows_its_2_and_its_3() -> None:
    snapshot = run_script(HEAD + "y = 2*x**2+3\n")
    assert _consts(snapshot) == {"add": ["3"], "mul": ["2"]}


def test_a_number_shows_as_written_not_rounded_to_four_figures() -> None:
    snapshot = run_script(HEAD + "y = x * 1.0001 + 1e-8\n")
    assert _consts(snapshot) == {"mul": ["1.0001"], "add": ["1e-8"]}


def test_a_named_data_tensor_shows_its_name_and_values() -> None:
    script = HEAD + "xs = torch.tensor([1., 2., 3.])\nlr = 0.5\ny = (x - xs) * lr\n"
    snapshot = run_script(script)
    assert _consts(snapshot) == {"sub": ["xs = [1, 2, 3]"], "mul": ["lr = 0.5"]}
    sub = next(a for _, a in snapshot.graph.nodes(data=True) if a.label == "sub")
    (const,) = sub.consts
    assert const["name"] == "xs"
    assert np.array_equal(const["value"].values, torch.tensor([1.0, 2.0, 3.0]).numpy())
    assert labels.const_note(sub) == (
        "Input slot 1 needs no gradient: xs = [1, 2, 3], a tensor that does not require grad."
    )


def test_a_large_data_tensor_shows_its_name_and_shape() -> None:
    snapshot = run_script(HEAD + "data = torch.ones(10, 3)\ny = x.sum(0) * data\n")
    assert _consts(snapshot) == {"mul": ["data (10×3)"]}


def test_torch_calls_and_methods_know_their_constant_inputs() -> None:
    script = HEAD + (
        "xs = torch.tensor([1., 2., 3.])\n"
        "a = torch.where(x > 4, x, 0.)\n"
        "b = torch.cat([x, xs[None]], 0)\n"
        "c = x.mul(xs).sub(7)\n"
        "d = torch.nn.functional.mse_loss(x, torch.zeros(2, 3))\n"
    )
    found = _consts(run_script(script))
    assert found["where"] == ["0.0"]  # the mask is no input slot of where
    assert found["cat"] == ["[1, 2, 3]"]  # unnamed, small enough to list
    assert sorted(found["mul"]) == ["xs = [1, 2, 3]"]
    assert found["sub"] == ["7"]
    assert found["mse_loss"] == ["2×3 tensor"]


def test_a_number_that_is_a_dimension_is_not_taken_for_an_input() -> None:
    snapshot = run_script(HEAD + "xs = torch.ones(2, 3)\ny = torch.cat([x, xs], 1) * 2\n")
    assert _consts(snapshot) == {"cat": ["xs (2×3)"], "mul": ["2"]}


def test_a_layers_data_input_is_named_from_what_the_node_saved() -> None:
    script = HEAD + (
        "xs = torch.tensor([[1., 2., 3.]])\n"
        "v = torch.tensor([1., 2., 3.])\n"
        "layer = torch.nn.Linear(3, 1)\n"
        "y = layer(xs) + layer(v)\n"
    )
    found = _consts(run_script(script))
    assert sorted(found["addmm"]) == ["v = [1, 2, 3]", "xs = [1, 2, 3]"]


def test_the_library_door_names_the_data_its_code_used() -> None:
    model = nn.Linear(2, 1)
    inputs = torch.tensor([[1.0, 2.0]])
    with explorer.record() as rec:
        model(inputs).sum().backward()
    addmm = next(a for _, a in rec.snapshot.graph.nodes(data=True) if a.label == "addmm")
    assert [labels.const_text(addmm, s) for s in addmm.const_slots] == ["inputs = [1, 2]"]


def test_an_unknown_constant_still_says_const() -> None:
    snapshot = run_script(HEAD + "y = x.detach() * x\n")
    mul = next(a for _, a in snapshot.graph.nodes(data=True) if a.label == "mul")
    assert mul.const_slots == [0]
    assert labels.const_note(mul).startswith("Input slot 0 needs no gradient: a 2×3 tensor")


def test_the_export_writes_consts_beside_const_slots() -> None:
    data = run_script(HEAD + "xs = torch.tensor([5.])\ny = (x + xs) * 3\n").to_dict()
    consts = {n["label"]: n["consts"] for n in data["graph"]["nodes"] if "consts" in n}
    assert consts["mul"] == [{"value": 3}]
    assert consts["add"][0]["name"] == "xs"
    assert consts["add"][0]["value"]["values"] == [5.0]


def test_the_page_draws_the_constants_as_the_window_does() -> None:
    snapshot = run_script(HEAD + "xs = torch.tensor([1., 2., 3.])\ny = ((x - xs) ** 2).sum()\n")
    html = page(snapshot, title="t")
    assert ">xs = [1, 2, 3]</text>" in html


def test_a_rebound_data_tensor_is_not_kept_alive() -> None:
    recorder = Recorder()
    batch = torch.randn(4, 4)
    recorder.bound("xb", batch)
    gone = weakref.ref(batch)
    del batch
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("value", [0.1, 3, -2.5, 1e-8, 1e20])
def test_numbers_are_written_as_python_writes_them(value: float) -> None:
    from explorer.data.nodes import GraphNode

    node = GraphNode(op="MulBackward0", kind="op", const_slots=[1], consts=[{"value": value}])
    assert float(labels.const_text(node, 1)) == value
    summary = TensorSummary((1,), "float32", np.array([value], dtype=np.float32))
    node.consts = [{"name": "t", "value": summary}]
    assert labels.const_text(node, 1).startswith("t = ")
