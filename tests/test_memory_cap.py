"""The run's memory budget is charged before torch allocates, and torch is given only script data.

Every script here is scaled down by small Limits, so that a regression allocates megabytes, not
gigabytes; the full-size versions are bombs in test_hostile.py, run in capped child processes.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from explorer.lang.limits import Limits
from explorer.runs.session import Session, run_script
from tests.test_hostile import assert_clear_refusal

SMALL = Limits(max_elements=10_000)


def _refused(text: str, limits: Limits | None = None) -> Session:
    session = Session(text, limits)
    session.run()
    assert_clear_refusal(text, session.problem)
    return session


class LargestMade(TorchDispatchMode):
    """The most elements any real (not meta) tensor made while it is active had."""

    def __init__(self) -> None:
        super().__init__()
        self.numel = 0

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # keeps torch from importing its compiler for this mode

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        for tensor in tree_leaves(result):
            if isinstance(tensor, torch.Tensor) and not tensor.is_meta:
                self.numel = max(self.numel, tensor.numel())
        return result


def _message(session: Session) -> str:
    assert session.problem is not None
    return session.problem.message


# -- 1. calls are sized on the meta device before they run ---------------------------------------

GROWING_CALLS = {
    "linear_module": "x = torch.ones(100, 1)\nm = nn.Linear(1, 1000)\ny = m(x)",
    "linear_forward": "x = torch.ones(100, 1)\nm = nn.Linear(1, 1000)\ny = m.forward(x)",
    "functional_linear": "x = torch.ones(100, 1)\nw = torch.ones(1000, 1)\ny = F.linear(x, w)",
    "embedding": ("m = nn.Embedding(10, 1000)\ni = torch.zeros(100, dtype=torch.long)\ny = m(i)"),
    "conv_padding": "m = nn.Conv2d(1, 1, 1, padding=100)\ny = m(torch.ones(1, 1, 1, 1))",
    "sequential": "m = nn.Sequential(nn.Linear(1, 1000), nn.ReLU())\ny = m(torch.ones(100, 1))",
    "method_broadcast": "a = torch.ones(1000)\ny = a[:, None].add(a[None, :])",
    "allclose_broadcast": "a = torch.ones(1000)\ny = torch.allclose(a[:, None], a[None, :])",
    "loss_broadcast": "a = torch.ones(1000, 1)\ny = F.mse_loss(a, torch.ones(1000))",
    "index_by_tensor": "x = torch.ones(10, 100)\ny = x[torch.zeros(1000, dtype=torch.long)]",
}


@pytest.mark.parametrize("text", list(GROWING_CALLS.values()), ids=list(GROWING_CALLS))
def test_a_call_that_would_grow_past_the_limit_is_refused_before_it_runs(text: str) -> None:
    with LargestMade() as largest:
        session = _refused(text, SMALL)
    assert largest.numel <= 10_000, "the call ran before it was refused"
    assert "elements" in _message(session)
    assert "would have" in _message(session)
    assert session.problem is not None and session.problem.line == text.count("\n") + 1
    assert "y" not in session.names


def test_an_intermediate_tensor_inside_a_layer_counts_too() -> None:
    # The output is (100, 1, 2); the feed-forward inside makes (100, 1, 1000).
    text = (
        "m = nn.TransformerEncoderLayer(2, 1, dim_feedforward=1000)\ny = m(torch.ones(100, 1, 2))"
    )
    session = _refused(text, SMALL)
    assert "would have 100,000 elements" in _message(session)


def test_a_module_forward_never_runs_on_real_memory_when_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devices: list[str] = []
    forward = nn.Linear.forward

    def watched(self: nn.Linear, input: torch.Tensor) -> Any:
        devices.append(input.device.type)
        return forward(self, input)

    monkeypatch.setattr(nn.Linear, "forward", watched)
    _refused(GROWING_CALLS["linear_module"], SMALL)
    assert devices == ["meta"]
    assert run_script("m = nn.Linear(1, 100)\ny = m(torch.ones(20, 1))", SMALL).problem is None
    assert devices[1:] == ["meta", "cpu"]  # 220 elements given: sized first under SMALL


def test_the_bytes_of_a_call_are_charged_before_it_runs() -> None:
    text = "x = torch.ones(1000, 1)\nm = nn.Linear(1, 1000)\ny = m(x)"  # 4 MB out
    limits = Limits(max_total_bytes=2 * 2**20)
    session = _refused(text, limits)
    assert "of tensors" in _message(session)
    assert "y" not in session.names


def test_sizes_are_remembered_so_a_loop_is_sized_once() -> None:
    text = (
        "m = nn.Linear(100, 100)\nx = torch.ones(100, 100)\n"
        "for i in range(50):\n    y = m(x)\n    z = torch.matmul(y, y.T)\n"
    )
    session = Session(text)
    session.run()
    assert session.problem is None
    assert len(session.interpreter.budget.meta_sizes) == 1  # the layer's; others are shared
    assert session.names["z"].shape == (100, 100)


def test_small_calls_are_not_sized_on_the_meta_device(monkeypatch: pytest.MonkeyPatch) -> None:
    devices: list[str] = []
    forward = nn.Linear.forward

    def watched(self: nn.Linear, input: torch.Tensor) -> Any:
        devices.append(input.device.type)
        return forward(self, input)

    monkeypatch.setattr(nn.Linear, "forward", watched)
    text = "m = nn.Linear(4, 16)\ny = m(torch.ones(32, 4))\nz = F.mse_loss(y, y * 2)"
    assert run_script(text).problem is None
    assert devices == ["cpu"]


# -- 2. builtins that make tensors or lists are charged ------------------------------------------


def test_abs_of_a_tensor_is_charged() -> None:
    text = "x = torch.ones(10**5)\nl = []\nfor i in range(100):\n    l.append(abs(x))"
    session = _refused(text, Limits(max_total_bytes=8 * 2**20))
    assert "of tensors" in _message(session)
    assert len(session.names["l"]) < 30


def test_sum_of_a_tensor_is_charged() -> None:
    text = "x = torch.ones(2, 10**5)\nl = []\nfor i in range(100):\n    l.append(sum(x))"
    session = _refused(text, Limits(max_total_bytes=8 * 2**20))
    assert len(session.names["l"]) < 30


def test_tolist_in_a_loop_is_stopped_by_the_runs_items() -> None:
    text = "x = torch.ones(10**4)\nfor i in range(1000):\n    a = x.tolist()"
    session = _refused(text, Limits(max_total_items=10**5))
    assert "lists of more than 100,000 items" in _message(session)
    assert session.names["i"] < 20


@pytest.mark.parametrize("builtin", ["list(x)", "tuple(x)", "zip(x, x)", "enumerate(x)"])
def test_rows_of_a_tensor_are_charged_as_new_objects(builtin: str) -> None:
    text = f"x = torch.ones(1000, 2)\nl = []\nfor i in range(100):\n    l.append({builtin})"
    session = _refused(text, Limits(max_total_bytes=4 * 2**20))
    assert "of tensors" in _message(session)
    assert len(session.names["l"]) < 10


def test_a_list_of_ten_million_rows_is_refused_before_it_is_built() -> None:
    # The rows are views of a 40 MB tensor: the refusal must come before 10 million objects.
    session = _refused("x = torch.ones(10**7)\nl = list(x)")
    assert "10,000,000 Python items" in _message(session)


def test_builtins_over_small_tensors_still_work() -> None:
    snapshot = run_script(
        "x = torch.ones(3, 2)\nprint(abs(-x).sum(), sum(x), len(list(x)), x.tolist()[0])"
    )
    assert snapshot.problem is None
    assert [o.text for o in snapshot.outputs] == ["tensor(6.) tensor([3., 3.]) 3 [1.0, 1.0]"]


# -- 3. retained graphs ------------------------------------------------------------------------

_RETAINED = (
    "x = torch.ones(100, 100, requires_grad=True)\ny = torch.tanh(x * 2).sum()\n"
    "for i in range(1000):\n    y.backward(retain_graph=True)"
)


def test_backward_passes_a_run_records_are_capped() -> None:
    session = _refused(_RETAINED, Limits(max_passes=5))
    assert "more than 5 backward passes" in _message(session)
    assert len(session.recorder.passes) == 5


def test_the_gradients_a_recorded_pass_keeps_are_charged() -> None:
    session = _refused(_RETAINED, Limits(max_total_bytes=2 * 2**20))
    assert "of tensors" in _message(session)
    assert len(session.recorder.passes) < 20


# -- 4. devices given by position ----------------------------------------------------------------

DEVICES = {
    "linear_by_position": 'm = nn.Linear(2, 2, True, "meta")',
    "linear_tensor_device": "x = torch.ones(2)\nm = nn.Linear(2, 2, True, x.device)",
    "conv_by_position": 'm = nn.Conv2d(1, 1, 1, 1, 0, 1, 1, True, "zeros", "meta")',
    "embedding_by_keyword": 'm = nn.Embedding(2, 2, device="meta")',
    "ones_with_device_string": 'y = torch.ones(2, "meta")',
    "cat_with_device_in_list": 'x = torch.ones(2)\ny = torch.cat([x, "cuda"])',
    "tensor_to": 'x = torch.ones(2)\ny = x.to("meta")',
    "tensor_new_ones": 'x = torch.ones(2)\ny = x.new_ones(2, device="meta")',
}


@pytest.mark.parametrize("text", list(DEVICES.values()), ids=list(DEVICES))
def test_a_device_is_refused_wherever_it_is_given(text: str) -> None:
    session = _refused(text)
    assert "device" in _message(session) or "not available" in _message(session)
    assert not any(
        isinstance(v, torch.Tensor | nn.Module) and _on_meta(v) for v in session.names.values()
    )


def _on_meta(value: torch.Tensor | nn.Module) -> bool:
    tensors = [value] if isinstance(value, torch.Tensor) else list(value.parameters())
    return any(t.is_meta for t in tensors)


def test_a_device_string_is_still_plain_text_for_print() -> None:
    snapshot = run_script('print("cpu", "meta")')
    assert snapshot.problem is None
    assert [o.text for o in snapshot.outputs] == ["cpu meta"]


# -- 5. torch calls nothing the script did not build ---------------------------------------------

_NODE = "x = torch.ones(2, 4, requires_grad=True)\ny = (x * 2).sum()\n"
_LAYER = "nn.TransformerEncoderLayer(4, 1, dim_feedforward=4"

CALLABLES = {
    "activation_node": _NODE + f"m = {_LAYER}, activation=y.grad_fn)",
    "norm_node": _NODE + f"l = {_LAYER})\nm = nn.TransformerEncoder(l, 1, norm=y.grad_fn)",
    "node_deep_in_a_list": _NODE + "z = torch.cat([x] * 100 + [[1, (2, y.grad_fn)]])",
    "next_functions": _NODE + "z = torch.stack(y.grad_fn.next_functions[0])",
    "node_as_max_key": _NODE + "z = max([1, 2], key=y.grad_fn)",
    "node_as_gradient": _NODE + "y.backward(y.grad_fn)",
    "loss_as_activation": f"m = {_LAYER}, activation=F.mse_loss)",
    "method_as_activation": _NODE + f"m = {_LAYER}, activation=x.exp)",
}


@pytest.mark.parametrize("text", list(CALLABLES.values()), ids=list(CALLABLES))
def test_a_callable_that_is_not_a_layer_or_activation_is_refused(text: str) -> None:
    session = _refused(text)
    assert "cannot be passed as an argument" in _message(session)
    assert "m" not in session.names and "z" not in session.names


@pytest.mark.parametrize("activation", ['"gelu"', "F.gelu", "nn.GELU()", "torch.tanh"])
def test_an_activation_may_be_a_name_a_function_or_a_layer(activation: str) -> None:
    text = f"m = {_LAYER}, activation={activation})\nm.eval()\ny = m(torch.ones(3, 1, 4))"
    session = Session(text)
    session.run()
    assert session.problem is None, session.problem
    layer = session.names["m"]
    expected = "tanh" if activation == "torch.tanh" else "gelu"
    function = layer.activation
    assert function is torch.tanh if expected == "tanh" else "gelu" in repr(function).lower()
    assert session.names["y"].shape == (3, 1, 4)


def test_a_layer_with_an_activation_module_is_still_counted() -> None:
    session = _refused("m = nn.TransformerEncoderLayer(10000, 1, activation=nn.GELU())")
    assert "parameters" in _message(session)


# -- 6. lists nested deeper than torch, print or str should walk -------------------------------

_DEEP = "a = [0]\nfor i in range(40):\n    a = [a]\nx = torch.ones(3)\n"


@pytest.mark.parametrize(
    "use", ["y = x[a]", "x[a] = 1.0", "t = torch.tensor(a)", "print(a)", "s = str(a)", "a"]
)
def test_a_list_nested_too_deeply_is_refused(use: str) -> None:
    session = _refused(_DEEP + use)
    assert "more than 32 deep" in _message(session)


def test_lists_nested_within_the_limit_still_work() -> None:
    snapshot = run_script("a = [[[1.0, 2.0]], [[3.0, 4.0]]]\nt = torch.tensor(a)\nprint(t.shape)")
    assert snapshot.problem is None
    assert [o.text for o in snapshot.outputs] == ["torch.Size([2, 1, 2])"]
