"""Card text loses nothing: numbers keep their exponent, long names lose their middle, and
the tooltip says it all in full."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.nodes import GraphNode
from explorer.data.snapshot import TensorSummary
from explorer.view import labels
from explorer.view.labels import MAX_CHARS


def _tensor(values: list[float] | np.ndarray) -> TensorSummary:
    array = np.asarray(values, dtype=np.float32)
    return TensorSummary(array.shape, "float32", array)


def _large(norm: float) -> TensorSummary:
    stats = {"min": -1.0, "max": 1.0, "mean": 0.0, "norm": norm}
    return TensorSummary((512, 512), "float32", stats=stats, head=(0.5,))


def _leaf(name: str, value: TensorSummary | None = None) -> GraphNode:
    shape = None if value is None else list(value.shape)
    return GraphNode(op="AccumulateGrad", kind="leaf", label=name, name=name, shape=shape,
                     value=value)  # fmt: skip


def _written(text: str) -> float:
    """The number a card's text stands for: `‖·‖ 4.08e-3`, `all 2e-9` or `4.1e-3`."""
    return float(text.split()[-1])


@pytest.mark.parametrize("norm", [4.0837e-1, 4.0837e-3, 4.0837e-9, 1e-1, 1e-9, 3.2e12, 7.5e-300])
def test_a_gradients_norm_keeps_its_exponent(norm: float) -> None:
    line = labels.node_lines(_leaf("w", _large(1.0)), _large(norm))[-1]
    assert line.startswith("grad ‖·‖ ") and "…" not in line
    assert len(line) <= MAX_CHARS
    assert _written(line) == pytest.approx(norm, rel=0.01)


def test_tiny_and_small_gradients_no_longer_read_alike() -> None:
    tiny = labels.node_lines(_leaf("w"), _large(1e-9))[-1]
    small = labels.node_lines(_leaf("w"), _large(1e-1))[-1]
    assert tiny != small
    assert tiny == "grad ‖·‖ 1e-9" and small == "grad ‖·‖ 0.1"


def test_a_number_drops_figures_of_its_mantissa_never_its_exponent() -> None:
    assert labels.number(0.004083) == "4.083e-3"
    assert labels.short_number(0.004083, 7) == "4.08e-3"
    assert labels.short_number(-4.0837e-300, 7) == "-4e-300"
    assert labels.number(791.1) == "791.1"
    assert labels.number(1234567.0) == "1.235e6"
    assert float(labels.number(1.5e-5)) == pytest.approx(1.5e-5)


def test_every_equal_value_keeps_its_exponent_too() -> None:
    line = labels.node_lines(_leaf("w"), _tensor(np.full(50, -2.345678e-7)))[-1]
    assert line == "grad all -2.3e-7"
    assert len(line) <= MAX_CHARS


def test_non_finite_values_are_counted_rather_than_cut() -> None:
    values = [np.nan, 1.0, np.inf, 2.0, 3.0, np.nan, 4.0, 5.0]
    assert labels.tensor_text(_tensor(values), 11) == "2 nan, 1 inf"
    assert labels.tensor_text(_tensor([np.nan] * 9), 11) == "all nan"
    assert labels.tensor_text(_tensor([np.nan, 1.0]), 11) == "[nan, 1]"


def test_a_long_name_loses_its_middle_and_keeps_its_start_and_end() -> None:
    weight = labels.node_lines(_leaf("model.layers.5.norm1.weight"))[0]
    bias = labels.node_lines(_leaf("model.layers.5.norm1.bias"))[0]
    assert weight != bias
    for line, full in (
        (weight, "model.layers.5.norm1.weight"),
        (bias, "model.layers.5.norm1.bias"),
    ):
        start, end = line.split("…")
        assert full.startswith(start) and full.endswith(end) and start
        assert len(line) <= MAX_CHARS
    assert weight.endswith("norm1.weight") and bias.endswith("norm1.bias")


def test_elision_starts_the_end_at_a_dot_when_it_can() -> None:
    assert labels.elide("model.layers.5.norm1.weight", 16) == "m…5.norm1.weight"
    assert labels.elide("model.layers.0.self_attn.out_proj.weight", 16) == "mode…proj.weight"
    assert labels.elide("model.layers.0.self_attn.in_proj_weight", 16) == "m…in_proj_weight"
    assert labels.elide("TransformerEncoderLayer", 16) == "Trans…coderLayer"
    assert labels.elide("short", 16) == "short"


def test_a_named_ops_title_keeps_its_op() -> None:
    op = GraphNode(op="NativeLayerNormBackward0", kind="op", label="layer_norm",
                   name="hidden_states_after_attention")  # fmt: skip
    title = labels.node_lines(op)[0]
    assert title.endswith(" = layer_norm") and "…" in title
    assert len(title) <= MAX_CHARS
    assert labels.node_title(op) == "hidden_states_after_attention = layer_norm"
    output = GraphNode(op="NativeLayerNormBackward0", kind="op", label="native_layer_norm",
                       name="output")  # fmt: skip
    assert labels.node_lines(output)[0] == "output = na…norm"  # a short name stays whole


def test_every_card_line_fits_its_budget() -> None:
    leaf = _leaf("encoder.layers.11.self_attention.in_proj_weight", _tensor([[1.5, -2.25, 3.125]]))
    call = GraphNode(kind="call", label="TransformerEncoderLayer", call="encoder.layers.0",
                     shape=[8, 32, 64], size=41)  # fmt: skip
    for lines in (labels.node_lines(leaf, _large(6.02e23)), labels.node_lines(call)):
        assert all(len(line) <= MAX_CHARS for line in lines), lines


def test_a_list_too_long_for_the_card_shows_its_norm_and_the_tooltip_lists_it() -> None:
    leaf = _leaf("w", _tensor([[1.625, -2.25, 3.125]]))
    assert labels.node_lines(leaf)[1] == "1×3 · ‖·‖ 4.18"  # sqrt(17.47) = 4.1796
    tip = labels.tooltip(leaf)
    assert "value [1.625, -2.25, 3.125]" in tip and labels.NORM_NOTE in tip


def test_a_value_with_no_room_beside_its_shape_is_left_to_the_tooltip() -> None:
    leaf = _leaf("w", _tensor(np.array([123.25, -2.5]).reshape(1, 1, 1, 1, 2)))
    assert labels.node_lines(leaf)[1] == "1×1×1×1×2"  # not a cut number
    assert "value [123.2, -2.5]" in labels.tooltip(leaf)


def test_the_tooltip_has_the_full_name_and_explains_the_norm() -> None:
    leaf = _leaf("model.layers.5.norm1.weight", _large(3.0))
    tip = labels.tooltip(leaf, _large(4.0837e-3))
    assert tip.splitlines()[0] == "model.layers.5.norm1.weight"
    assert "grad ‖·‖ 4.084e-3" in tip
    assert labels.NORM_NOTE in tip
    assert labels.NORM_NOTE not in labels.tooltip(_leaf("x", _tensor([1.0, 2.0])))


def test_a_module_cards_tooltip_names_its_module_whole() -> None:
    call = GraphNode(kind="call", label="TransformerEncoderLayer", call="encoder.layers.0",
                     size=41)  # fmt: skip
    assert labels.node_lines(call)[0] == "Trans…coderLayer"
    assert labels.tooltip(call).splitlines()[0] == "TransformerEncoderLayer"


def test_a_large_tensor_is_written_by_its_norm_without_formatting_each_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from explorer.view import labels as module

    calls: list[float] = []
    real = module.number
    monkeypatch.setattr(module, "number", lambda v, digits=4: calls.append(v) or real(v, digits))
    values = np.arange(10_000, dtype=np.float32) / 7
    text = module.tensor_text(TensorSummary(shape=(10_000,), dtype="float32", values=values))
    assert text.startswith("‖·‖ ")
    assert len(calls) <= 4  # the norm, in a few widths; not ten thousand values
