"""The JSON export's values: small tensors whole, larger ones summarised unless all are asked
for; the writer's text holds the data json.dumps writes, arrays of numbers and tensors each on
one line."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

import explorer
from explorer.data import json_tensors
from explorer.data.json_tensors import value_texts
from explorer.data.json_text import snapshot_text
from explorer.data.nodes import AutogradGraph
from explorer.data.snapshot import (
    SMALL_VALUES,
    Output,
    Pass,
    Snapshot,
    Step,
    TensorSummary,
    json_number,
)
from tests.helpers import run_ok

ROOT = Path(__file__).resolve().parents[1]
SIZES = "a = torch.arange(64.0, requires_grad=True)\nb = torch.arange(65.0, requires_grad=True)\n"
SIZES += "(a.sum() + b.sum()).backward()\n"


def _old_writer(snapshot: Snapshot, values: str) -> str:
    """The export's text as json.dumps writes it, as the export always wrote it."""
    return json.dumps(snapshot.to_dict(values), indent=1, allow_nan=False)


def _export(tmp_path: Path, source: Path, *flags: str) -> dict:
    out = tmp_path / "out.json"
    command = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", str(out)]
    done = subprocess.run([*command, *flags], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def _leaf_values(data: dict) -> dict[str, dict]:
    return {n["name"]: n["value"] for n in data["graph"]["nodes"] if n.get("name")}


def test_a_tensor_past_64_elements_is_a_summary_by_default_and_whole_with_values_all(
    tmp_path: Path,
) -> None:
    source = tmp_path / "sizes.py"
    source.write_text(SIZES)
    small = _export(tmp_path, source)
    a, b = _leaf_values(small)["a"], _leaf_values(small)["b"]
    assert SMALL_VALUES == 64 and a["values"] == list(range(64)) and "head" not in a
    assert "values" not in b and b["head"] == list(range(8))
    assert (b["shape"], b["min"], b["max"], b["mean"]) == ([65], 0.0, 64.0, 32.0)
    assert small["grads"]["a"] == [1.0] * 64 and small["grads"]["b"]["head"] == [1.0] * 8
    whole = _export(tmp_path, source, "--values", "all")
    assert _leaf_values(whole)["b"]["values"] == list(range(65))
    assert whole["grads"]["b"] == [1.0] * 65


def test_values_is_refused_when_it_is_not_small_or_all(tmp_path: Path) -> None:
    source = tmp_path / "sizes.py"
    source.write_text(SIZES)
    command = [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", "o.json"]
    done = subprocess.run(
        [*command, "--values", "some"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 2 and "invalid choice: 'some'" in done.stderr
    with pytest.raises(ValueError, match="small, all"):
        run_ok(SIZES).to_dict("some")


def _parsed_alike(text: str, snapshot: Snapshot, values: str) -> None:
    """The text holds what json.dumps writes of to_dict, float for float and type for type
    (1.0 is not 1 here, as it is to ==)."""
    expected = json.loads(_old_writer(snapshot, values))
    assert repr(json.loads(text)) == repr(expected)


@pytest.mark.parametrize("values", ["small", "all"])
def test_the_text_holds_the_data_json_dumps_writes(values: str) -> None:
    snapshot = run_ok(
        "x = torch.linspace(-3, 3, 300, requires_grad=True)\n"
        "w = torch.tensor([1e-7, 2.5e-5, 1e-4, 3e20, -0.0] * 20, requires_grad=True)\n"
        "y = (x.reshape(20, 15).exp() * w.reshape(20, 5).sum()).log().sum()\ny.backward()\n"
    )
    text = snapshot_text(snapshot, values)
    _parsed_alike(text, snapshot, values)
    assert json.loads(text) == snapshot.to_dict(values)


def test_non_finite_values_are_written_as_strings() -> None:
    snapshot = run_ok(
        "x = torch.linspace(-2, 2, 40, requires_grad=True)\n"
        "y = x.log() / (x - x)\ny.sum().backward()\n"
    )
    text = snapshot_text(snapshot, "all")
    _parsed_alike(text, snapshot, "all")
    data = json.loads(text)
    (div,) = [n for n in data["graph"]["nodes"] if n["op"] == "DivBackward0"]
    assert set(div["value"]["values"]) == {"NaN", "Infinity", "-Infinity"}  # 40 of them
    assert data["grads"]["x"][0] == "NaN"


def _summary(values: np.ndarray, **fields: object) -> TensorSummary:
    return TensorSummary(values.shape, str(values.dtype), values, **fields)  # type: ignore[arg-type]


def _odd_tensors() -> Snapshot:
    """Tensors of every kind the writer treats apart, at every kind of place: 0-d, empty and
    nested arrays, integers and booleans, NaN and infinity among values and statistics, a
    summary known only by its head, and one summary shared by several nodes and steps."""
    shared = _summary(np.linspace(-1, 1, 70, dtype=np.float32).reshape(7, 10), requires_grad=True)
    odd = np.array([[1.5, np.nan], [np.inf, -np.inf]], dtype=np.float64)
    tensors = [
        _summary(np.array(2.5, dtype=np.float32)),
        _summary(np.zeros((0, 3), dtype=np.float32)),
        _summary(np.arange(24, dtype=np.float16).reshape(2, 3, 4)),
        _summary(np.arange(6, dtype=np.int64).reshape(3, 2)),
        _summary(np.array([True, False])),
        _summary(odd, sparse=True),
        _summary(np.full(100, np.nan)),
        TensorSummary((5000,), "float32", None, (1.0, -0.0, 1e-7), {"min": -np.inf, "max": 2.0}),
        shared,
    ]
    graph = AutogradGraph()
    saved = {"self": shared, "exponent": math.nan, "sizes": [3, -1], "mask": [True, False]}
    saved["nested"] = ([1, 2], (3,), "x")
    for k, tensor in enumerate(tensors):
        graph.add_node(f"n{k}", op="MulBackward0", kind="op", shape=list(tensor.shape))
        graph.nodes[f"n{k}"].update(value=tensor, saved=saved, calls=("model", f"model.{k}"))
    graph.nodes["n1"].update(consts=[{"value": math.inf}, {"name": "xs", "value": shared}])
    graph.nodes["n1"].update(output_shapes=[[2, 3], [4]], const_slots=[1, 2])
    graph.add_edge("n1", "n0", key=0, slot=0, output_nr=0)
    steps = [Step(f"n{k}", [tensor, None], [shared]) for k, tensor in enumerate(tensors)]
    steps.append(Step("n2", [shared], [], grad_before=None, grad_after=shared))
    return Snapshot(
        graph=graph,
        passes=[
            Pass("n0", 3, shared, steps, roots=["n0", "n1"], gradients=[shared, None]),
            Pass("n1", 4, None, steps[:1], inputs=["n2", None]),
        ],
        grads={f"t{k}": tensor for k, tensor in enumerate(tensors)},
        layout={f"n{k}": (float(k), 0.5 * k) for k in range(len(tensors))},
        routes={("n1", "n0", 0): [(1.0, 0.25), (0.5, 0.125)]},
    )


@pytest.mark.parametrize("values", ["small", "all"])
def test_tensors_of_every_kind_at_every_place_hold_json_dumps_data(values: str) -> None:
    snapshot = _odd_tensors()
    text = snapshot_text(snapshot, values)
    _parsed_alike(text, snapshot, values)
    data = json.loads(text)
    assert data["graph"]["nodes"][0]["value"]["values"] == 2.5  # 0-d: a number
    assert data["grads"]["t1"] == []
    many_nan = data["grads"]["t6"]  # 100 elements: whole only with values="all"
    assert (many_nan if values == "all" else many_nan["head"])[0] == "NaN"


def test_what_orjson_refuses_is_written_by_json_with_the_same_data() -> None:
    snapshot = _odd_tensors()
    snapshot.outputs.append(Output(2, "a lone surrogate: \ud800"))
    snapshot.graph.nodes["n0"].update(saved={"huge": 2**70})
    _parsed_alike(snapshot_text(snapshot), snapshot, "small")


_LONE_VALUE = re.compile(r'\s*(-?[0-9][0-9.eE+-]*|"NaN"|"-?Infinity"),?')


@pytest.mark.parametrize("values", ["small", "all"])
def test_arrays_of_numbers_and_tensors_are_one_line_each_and_structure_is_indented(
    values: str,
) -> None:
    snapshot = _odd_tensors()
    text = snapshot_text(snapshot, values)
    lines = text.splitlines()
    assert not [line for line in lines if _LONE_VALUE.fullmatch(line)]
    assert lines[:3] == ["{", '  "format": 1,', '  "outputs": [],']
    assert '\n  "graph": {\n    "directed": true,' in text
    assert '\n        "calls": ["model", "model.1"],\n' in text
    assert '\n        "output_shapes": [[2, 3], [4]],\n' in text
    assert '\n    "n1": [1.0, 0.5],\n' in text  # a place
    shared = [line for line in lines if '{"shape": [7, 10]' in line]
    assert len(shared) > 10 and all(line.strip().endswith(("}", "},")) for line in shared)
    # each tensor one line: as many lines as the tensors written, more than one per place
    assert len(shared) == text.count('{"shape": [7, 10]')


_FLOATS = st.one_of(
    st.floats(),
    st.sampled_from([1e-5, 9.99e-5, 1e-4, 1e16, 9.9e15, 5e-324, 10.00001, -0.0]),
)
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    _SHAPES,
    st.sampled_from(["float64", "float32", "float16", "int64", "int8", "uint8", "bool"]),
)
def test_arrays_are_written_on_one_line_as_json_dumps_writes_their_values(
    data: st.DataObject, shape: tuple[int, ...], dtype: str
) -> None:
    drawn = data.draw(st.lists(hnp.arrays(np.float64, shape, elements=_FLOATS), max_size=5))
    with np.errstate(all="ignore"):  # casting out of a dtype's range is part of the draw
        arrays = [values.astype(dtype) for values in drawn]
    texts = value_texts(arrays)  # those of a shape and dtype are written together
    for values, text in zip(arrays, texts, strict=True):
        assert "\n" not in text
        expected = json.loads(json.dumps(json_number(values.tolist()), allow_nan=False))
        assert repr(json.loads(text)) == repr(expected)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            hnp.arrays(np.float64, _SHAPES, elements=_FLOATS),
            st.sampled_from(["float64", "float32", "float16", "int64", "uint8", "bool"]),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_statistics_of_many_tensors_at_once_are_each_ones_own(
    drawn: list[tuple[np.ndarray, str, bool]],
) -> None:
    tensors = []
    for values, dtype, transposed in drawn:
        with np.errstate(all="ignore"):
            values = values.astype(dtype)
        values = values.T if transposed else values  # not contiguous: computed alone
        tensors.append(TensorSummary(values.shape, dtype, values))
    at_once = json_tensors.statistics_texts(tensors)
    for tensor, text in zip(tensors, at_once, strict=True):
        own = {name: json_number(x) for name, x in tensor.statistics().items()}
        assert repr(json.loads("{" + text + "}")) == repr(own)


def test_exported_gradients_with_values_all_are_pytorchs(tmp_path: Path) -> None:
    source = tmp_path / "net.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\ntorch.manual_seed(0)\n"
        "model = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 3))\n"
        "x = torch.randn(8, 20)\n\n\ndef loss():\n    return model(x).pow(2).mean()\n"
    )
    data = _export(tmp_path, source, "--trusted", "--values", "all")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 3))
    model(torch.randn(8, 20)).pow(2).mean().backward()
    for name, parameter in model.named_parameters():
        exported = np.array(data["grads"][f"model.{name}"], dtype=np.float32)
        assert parameter.grad is not None and parameter.grad.numel() > 0
        np.testing.assert_array_equal(exported, parameter.grad.numpy())
    assert _export(tmp_path, source, "--trusted")["grads"]["model.0.weight"]["head"]


def test_a_recording_saves_and_gives_every_value_when_asked(tmp_path: Path) -> None:
    w = torch.linspace(0, 1, 100, requires_grad=True)
    with explorer.record(names={"w": w}) as rec:
        (w * 2).sum().backward()
    assert "head" in rec.to_json()["grads"]["w"]
    assert rec.to_json(values="all")["grads"]["w"] == [2.0] * 100
    saved = json.loads(rec.save(tmp_path / "all.json", values="all").read_text())
    assert saved["grads"]["w"] == [2.0] * 100
    assert "head" in json.loads(rec.save(tmp_path / "small.json").read_text())["grads"]["w"]
