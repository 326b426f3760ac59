"""The JSON export's values: small tensors whole, larger ones summarised unless all are asked
for, and the fast encoder's text the same as json.dumps' of the same data."""

from __future__ import annotations

import json
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
from explorer.data.json_tensors import array_text
from explorer.data.json_text import dumps, snapshot_text
from explorer.data.snapshot import (
    SMALL_VALUES,
    Snapshot,
    TensorSummary,
    json_form,
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


@pytest.mark.parametrize("values", ["small", "all"])
def test_the_fast_text_is_json_dumps_text_byte_for_byte(values: str) -> None:
    snapshot = run_ok(
        "x = torch.linspace(-3, 3, 300, requires_grad=True)\n"
        "w = torch.tensor([1e-7, 2.5e-5, 1e-4, 3e20, -0.0] * 20, requires_grad=True)\n"
        "y = (x.reshape(20, 15).exp() * w.reshape(20, 5).sum()).log().sum()\ny.backward()\n"
    )
    text = snapshot_text(snapshot, values)
    assert text == _old_writer(snapshot, values)
    assert json.loads(text) == snapshot.to_dict(values)


def test_non_finite_values_are_written_as_strings_by_the_fast_encoder() -> None:
    snapshot = run_ok(
        "x = torch.linspace(-2, 2, 40, requires_grad=True)\n"
        "y = x.log() / (x - x)\ny.sum().backward()\n"
    )
    text = snapshot_text(snapshot, "all")
    assert text == _old_writer(snapshot, "all")
    data = json.loads(text)
    (div,) = [n for n in data["graph"]["nodes"] if n["op"] == "DivBackward0"]
    assert set(div["value"]["values"]) == {"NaN", "Infinity", "-Infinity"}  # 40 of them
    assert data["grads"]["x"][0] == "NaN"


_FLOATS = st.one_of(
    st.floats(),
    st.sampled_from([1e-5, 9.99e-5, 1e-4, 1e16, 9.9e15, 5e-324, 10.00001, -0.0]),
)
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12)


def _indented(text: str, level: int) -> str:
    """text as the item of `level` lists each inside the next, as json.dumps indents it."""
    for depth in reversed(range(level)):
        text = "[\n" + " " * (depth + 1) + text + "\n" + " " * depth + "]"
    return text


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(np.float64, _SHAPES, elements=_FLOATS),
    st.sampled_from(["float64", "float32", "float16", "int64", "int8", "uint8", "bool"]),
    st.integers(0, 5),
)
def test_an_array_is_written_as_json_dumps_writes_its_values(
    values: np.ndarray, dtype: str, level: int
) -> None:
    with np.errstate(all="ignore"):  # casting out of a dtype's range is part of the draw
        values = values.astype(dtype)
    data = json_number(values.tolist())
    for _ in range(level):
        data = [data]
    expected = json.dumps(data, indent=1)
    assert _indented(array_text(values, level), level) == expected


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
    at_once = json_tensors.statistics(tensors)
    for tensor in tensors:
        assert repr(at_once[id(tensor)]) == repr(tensor.statistics())


def test_a_summary_shared_by_several_nodes_is_written_alike_at_each() -> None:
    shared = TensorSummary((70,), "float64", np.linspace(0, 1, 70))
    for values in ("small", "all"):
        item = shared.to_dict(json_form(values))
        expected = json.dumps({"a": [item, {"b": item}], "c": item}, indent=1)
        tree = {"a": [shared, {"b": shared}], "c": shared}
        assert dumps(tree, json_form(values, for_encoder=True)) == expected


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
