"""explorer.record() and explorer.capture(): the user's own code through the scripts' pipeline.

A recording must be the same as a script's run of the same code (graph, step order,
gradients), leave the user's torch as it found it, and keep none of the user's tensors.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import explorer
from explorer.data.snapshot import Snapshot
from explorer.runs.session import run_script

TUTORIALS = Path(__file__).parent / "tutorials"


def _model() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)), torch.randn(8, 2)


def test_a_recording_names_leaves_and_module_calls_from_the_code_around_it() -> None:
    model, x = _model()
    with explorer.record() as rec:
        loss = model(x).pow(2).mean()
        loss.backward()
    data = rec.to_json()
    json.dumps(data, allow_nan=False)
    labels = {n["label"] for n in data["graph"]["nodes"]}
    assert {"model.0.weight", "model.2.bias", "mean"} <= labels
    calls = {tuple(n["calls"]) for n in data["graph"]["nodes"] if n.get("calls")}
    assert ("model", "model.0") in calls
    (recorded,) = data["backward"]
    first = test_a_recording_names_leaves_and_module_calls_from_the_code_around_it.__code__
    assert recorded["line"] == first.co_firstlineno + 4
    assert data["outputs"] == []
    assert set(data["grads"]) == {f"model.{p}" for p, _ in model.named_parameters()}
    assert rec.origin[0] == __file__


def test_the_engine_is_put_back_when_the_block_ends_even_by_an_error() -> None:
    doors = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    model, x = _model()
    with pytest.raises(ZeroDivisionError), explorer.record():
        model(x).sum().backward()
        1 / 0  # noqa: B018
    assert (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad) == doors


def test_every_door_into_the_engine_is_recorded_and_returns_what_torch_returns() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with explorer.record(names={"w": w}) as rec:
        y = (w**3).sum()
        (g,) = torch.autograd.grad(y, w, create_graph=True)
        torch.autograd.backward([g.sum()])
        (w * 2).sum().backward(inputs=[w])
    assert torch.equal(g, 3 * torch.tensor([1.0, 2.0]) ** 2)
    assert rec.passes == 3
    assert torch.equal(w.grad, 6 * torch.tensor([1.0, 2.0]) + 2)
    kinds = [p.get("results") is not None for p in rec.to_json()["backward"]]
    assert kinds == [True, False, False]


def _as_recorded(text: str) -> Snapshot:
    namespace: dict = {"torch": torch, "nn": nn, "F": F, "print": lambda *a, **k: None}
    with explorer.record(names=namespace) as rec:
        exec(compile(text, "<tutorial>", "exec"), namespace)  # trusted: our own tutorials
    return rec.snapshot


def _ops_in_order(snapshot: Snapshot) -> list[list[str]]:
    graph = snapshot.graph
    return [[graph.nodes[s.node]["op"] for s in p.steps] for p in snapshot.passes]


@pytest.mark.parametrize(
    "name",
    ["scalar_chain_rule", "mlp_sequential_manual_sgd", "custom_module_class", "lstm_sequence",
     "gradient_penalty", "module_hooks", "adam_clip_grad_norm", "backward_inputs"],
)  # fmt: skip
def test_a_recording_is_the_scripts_run_of_the_same_code(name: str) -> None:
    text = (TUTORIALS / f"{name}.py").read_text()
    script = run_script(text)
    assert script.problem is None
    recorded = _as_recorded(text)
    assert _ops_in_order(recorded) == _ops_in_order(script)
    assert set(recorded.grads) == set(script.grads)
    for leaf, ours in recorded.grads.items():
        theirs = script.grads[leaf]
        assert (ours is None) == (theirs is None), leaf
        if ours is not None and theirs is not None:
            assert ours.values is not None and theirs.values is not None
            assert torch.allclose(torch.as_tensor(ours.values), torch.as_tensor(theirs.values))


def test_capture_records_one_pass_and_leaves_the_users_state_as_it_was() -> None:
    model, x = _model()
    model(x).sum().backward()
    before = {name: p.grad for name, p in model.named_parameters()}
    values = {name: g.clone() for name, g in before.items()}
    loss = model(x).pow(2).mean()
    view = explorer.capture(loss, params=dict(model.named_parameters()))
    assert view.passes == 1
    for name, p in model.named_parameters():
        assert p.grad is before[name] and torch.equal(p.grad, values[name])
    loss.backward()  # the graph is still there
    steps = view.snapshot.passes[0].steps
    accumulated = [s for s in steps if s.grad_after is not None]
    assert len(accumulated) == len(before)


def test_a_recording_keeps_none_of_the_users_tensors() -> None:
    def training_step() -> tuple[explorer.Recording, list[weakref.ref]]:
        model, x = _model()
        with explorer.record() as rec:
            loss = model(x).pow(2).mean()
            loss.backward()
        return rec, [weakref.ref(t) for t in (loss, x, *model.parameters())]

    rec, watched = training_step()
    gc.collect()
    assert all(ref() is None for ref in watched)
    assert rec.passes == 1


def test_saving_writes_the_export_formats(tmp_path: Path) -> None:
    model, x = _model()
    with explorer.record() as rec:
        model(x).sum().backward()
    assert json.loads(rec.save(tmp_path / "step.json").read_text())["format"]
    assert rec.save(tmp_path / "step.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match=r"cannot save a recording as '\.xyz'"):
        rec.save(tmp_path / "step.xyz")


def test_saving_a_picture_draws_it_in_a_process_of_its_own(tmp_path: Path) -> None:
    model, x = _model()
    with explorer.record() as rec:
        model(x).sum().backward()
    assert rec.save(tmp_path / "step.png").read_bytes().startswith(b"\x89PNG")
    svg = rec.save(tmp_path / "step.svg").read_text()
    assert "<svg" in svg and "model.0.weight" in svg


def test_a_users_process_that_saves_a_picture_never_imports_qt(tmp_path: Path) -> None:
    code = (
        "import sys, torch, explorer\n"
        "w = torch.ones(2, requires_grad=True)\n"
        "with explorer.record() as rec:\n"
        "    (w * 3).sum().backward()\n"
        f"rec.save({str(tmp_path / 'step.png')!r})\n"
        "print(any(name.startswith('PySide6') for name in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert (tmp_path / "step.png").read_bytes().startswith(b"\x89PNG")


def test_half_precision_views_and_in_place_ops_are_recorded_as_torch_ran_them() -> None:
    torch.manual_seed(0)
    w = torch.randn(4, dtype=torch.float16, requires_grad=True)
    b = torch.randn(4, dtype=torch.bfloat16, requires_grad=True)
    with explorer.record(names={"w": w, "b": b}) as rec:
        y = w.view(2, 2).float().exp()
        z = y.clone()
        z.mul_(2)
        (z.sum() + b.float().sum()).backward()
    json.dumps(rec.to_json(), allow_nan=False)
    ops = {d["op"] for _, d in rec.snapshot.graph.nodes(data=True)}
    assert {"ViewBackward0", "MulBackward0", "ToCopyBackward0"} <= ops
    for name, leaf in (("w", w), ("b", b)):
        summary = rec.snapshot.grads[name]
        assert summary is not None and summary.values is not None
        expected = leaf.grad.float()
        assert torch.allclose(torch.as_tensor(summary.values).float().reshape(4), expected)


def test_the_window_shows_a_recording_and_says_where_it_came_from(window, qtbot) -> None:
    model, x = _model()
    with explorer.record() as rec:
        model(x).pow(2).mean().backward()
    origin = "{}:{}".format(*rec.origin)
    with qtbot.waitSignal(window.model.snapshot_changed, timeout=5_000):
        window.show_recording(rec.snapshot, origin)
    shown = window.model.snapshot
    assert shown is not None and len(shown.passes) == 1
    assert shown.graph.number_of_nodes() == rec.snapshot.graph.number_of_nodes()
    assert f"Recording from {origin}" in window.statusBar().currentMessage()
    assert origin in window.windowTitle()
    qtbot.wait(1_500)  # no run of the editor's text replaces it
    assert window.model.snapshot is shown


def test_show_opens_the_window_in_a_process_of_its_own() -> None:
    model, x = _model()
    with explorer.record() as rec:
        model(x).sum().backward()
    process = rec.show()
    try:
        # The window is up and stays up (offscreen here: the tests' QT_QPA_PLATFORM).
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=8)
    finally:
        process.kill()
        process.wait()


def _one_step(model: nn.Module, x: torch.Tensor) -> int:
    """The nodes a recording of one step has, recorded where no earlier result is held."""
    with explorer.record() as rec:
        loss = model(x).pow(2).mean()
        loss.backward()
    return rec.snapshot.graph.number_of_nodes()


def test_a_result_left_from_before_the_block_is_not_drawn_beside_the_recording() -> None:
    model, x = _model()
    loss = model(x).pow(2).mean()  # an earlier step's loss, still held, as a notebook holds it
    loss.backward()
    with explorer.record() as again:
        loss = model(x).pow(2).mean()
        loss.backward()
    assert again.snapshot.graph.number_of_nodes() == _one_step(model, x)
    labels = {a.label for _, a in again.snapshot.graph.nodes(data=True) if a.kind == "leaf"}
    assert "model.0.weight" in labels and "leaf" not in labels
