"""Tutorial scripts run by the app and as plain Python give the same passes, pass by pass.

Each script in tests/tutorials/ is ordinary PyTorch. It runs twice: through the app
(`run_script`), and as Python in this process with a reference recorder of its own
(tests/reference_passes.py, which shares no code with the app's trace). Per backward pass,
the nodes the engine ran (by class name, in order), what each step received and sent, and
each leaf's .grad before and after must agree; so must the number of passes, the leaves'
final .grad and the printed text. The app shows a bare expression's value as the Python REPL
does (`torch.manual_seed(0)` shows its generator), so the reference runs each top-level
statement as the REPL does; run as a file, a script computes the same and shows less.

A script the app does not run yet is listed in PENDING with the feature it refuses: its
test is expected to fail, and fails as soon as the feature lands, so that the entry goes.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest

from explorer.data.snapshot import Pass, Snapshot, Step, TensorSummary
from explorer.runs.session import run_script
from tests.reference_passes import PassRecord, RunRecord, StepRecord, run_plain

PENDING: dict[str, str] = {}

TUTORIALS = Path(__file__).parent / "tutorials"
SCRIPTS = sorted(path.stem for path in TUTORIALS.glob("*.py"))
RTOL, ATOL = 1e-6, 1e-7


def text_of(name: str) -> str:
    return (TUTORIALS / f"{name}.py").read_text()


# -- the app's run as the same records ------------------------------------------------------
def values(summary: TensorSummary | None) -> np.ndarray | None:
    if summary is None:
        return None
    assert summary.values is not None, "tutorial tensors are small: every value is kept"
    return summary.values


def _only_taken(step: Step, one_pass: Pass) -> bool:
    """A step the app shows where torch.autograd.grad took a result, at a node the engine did
    not run (its results are compared by tests/test_autograd_passes.py)."""
    taken = {r.node for r in one_pass.results or ()}
    ran = step.grad_out or step.grad_before is not None or step.grad_after is not None
    return step.node in taken and not ran


def app_record(snapshot: Snapshot) -> RunRecord:
    """The app's passes with its node ids replaced by the node's class, as the reference has."""
    graph = snapshot.graph
    passes = [
        PassRecord(
            [
                StepRecord(
                    graph.nodes[step.node]["op"],
                    [values(g) for g in step.grad_in],
                    [values(g) for g in step.grad_out],
                    values(step.grad_before),
                    values(step.grad_after),
                )
                for step in one_pass.steps
                if not _only_taken(step, one_pass)
            ]
        )
        for one_pass in snapshot.passes
    ]
    printed = "".join(f"{output.text}\n" for output in snapshot.outputs)
    grads = {name: values(grad) for name, grad in snapshot.grads.items()}
    return RunRecord(passes, printed, grads)


# -- the comparison -------------------------------------------------------------------------
def mismatch(app: np.ndarray | None, plain: np.ndarray | None) -> str | None:
    """How two gradients differ, or None when they agree."""
    if app is None or plain is None:
        return None if app is None and plain is None else f"app {app!r}, python {plain!r}"
    if app.shape != plain.shape:
        return f"shape {app.shape} != {plain.shape}"
    if not np.allclose(app, plain, rtol=RTOL, atol=ATOL, equal_nan=True):
        return f"values differ: app {app.tolist()}, python {plain.tolist()}"
    return None


def step_differences(where: str, app: StepRecord, plain: StepRecord) -> list[str]:
    found = []
    for what in ("grad_in", "grad_out"):
        ours, theirs = getattr(app, what), getattr(plain, what)
        if len(ours) != len(theirs):
            found.append(f"{where} {what}: {len(ours)} gradients, python {len(theirs)}")
            continue
        for slot, (a, p) in enumerate(zip(ours, theirs, strict=True)):
            if (problem := mismatch(a, p)) is not None:
                found.append(f"{where} {what}[{slot}]: {problem}")
    for what in ("grad_before", "grad_after"):
        if (problem := mismatch(getattr(app, what), getattr(plain, what))) is not None:
            found.append(f"{where} .grad {what.removeprefix('grad_')}: {problem}")
    return found


def pass_differences(number: int, app: PassRecord, plain: PassRecord) -> list[str]:
    ours = [step.name for step in app.steps]
    theirs = [step.name for step in plain.steps]
    if ours != theirs:
        return [f"pass {number}: step order {ours}, python ran {theirs}"]
    found = []
    for k, (a, p) in enumerate(zip(app.steps, plain.steps, strict=True)):
        found += step_differences(f"pass {number} step {k} ({a.name})", a, p)
    return found


def _unplaced(text: str) -> str:
    """Printed text without memory addresses (<... object at 0x7f...>), which differ by run."""
    return re.sub(r" at 0x[0-9a-f]+", " at 0x…", text)


def differences(app: RunRecord, plain: RunRecord) -> list[str]:
    """Every way the app's run differs from the plain run; empty when they agree."""
    found = []
    if _unplaced(app.printed) != _unplaced(plain.printed):
        found.append(f"printed text differs:\n--- app\n{app.printed}--- python\n{plain.printed}")
    if len(app.passes) != len(plain.passes):
        found.append(f"{len(app.passes)} passes, python ran {len(plain.passes)}")
    for number, (a, p) in enumerate(zip(app.passes, plain.passes, strict=False)):
        found += pass_differences(number, a, p)
    if set(app.grads) != set(plain.grads):
        found.append(f"leaves with .grad: app {sorted(app.grads)}, python {sorted(plain.grads)}")
    for name in sorted(set(app.grads) & set(plain.grads)):
        if (problem := mismatch(app.grads[name], plain.grads[name])) is not None:
            found.append(f"final {name}.grad: {problem}")
    return found


# -- the tests ------------------------------------------------------------------------------
@functools.cache
def plain_run(name: str) -> RunRecord:
    return run_plain(text_of(name), f"{name}.py")


def app_run(name: str) -> RunRecord:
    snapshot = run_script(text_of(name))
    assert snapshot.problem is None, snapshot.problem
    return app_record(snapshot)


def test_the_corpus_is_large_and_every_pending_entry_names_a_script() -> None:
    assert len(SCRIPTS) >= 40
    assert set(PENDING) <= set(SCRIPTS)
    assert len(set(SCRIPTS) - set(PENDING)) >= 8


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=PENDING[name])
        )
        if name in PENDING
        else name
        for name in SCRIPTS
    ],
)
def test_the_app_runs_the_tutorial_as_python_does(name: str) -> None:
    snapshot = run_script(text_of(name))
    assert snapshot.problem is None, f"the app refused the tutorial: {snapshot.problem}"
    plain = plain_run(name)
    assert plain.passes, "every tutorial runs at least one backward pass"
    found = differences(app_record(snapshot), plain)
    assert not found, "\n".join(found)


# -- the comparison can fail ----------------------------------------------------------------
COMPARED = "grad_accumulation"  # three passes, each over ops and a leaf


def test_the_comparison_passes_the_app_run_it_compares() -> None:
    assert len(plain_run(COMPARED).passes) == 3
    assert differences(app_run(COMPARED), plain_run(COMPARED)) == []


def test_a_wrong_step_order_is_reported() -> None:
    altered = app_run(COMPARED)
    steps = altered.passes[1].steps
    steps[0], steps[1] = steps[1], steps[0]
    (found,) = differences(altered, plain_run(COMPARED))
    assert found.startswith("pass 1: step order")


def test_a_wrong_gradient_is_reported() -> None:
    altered = app_run(COMPARED)
    step = altered.passes[0].steps[1]
    step.grad_out[0] = step.grad_out[0] * 1.01
    (found,) = differences(altered, plain_run(COMPARED))
    assert found.startswith("pass 0 step 1") and "grad_out[0]" in found


def test_a_wrong_grad_before_or_after_is_reported() -> None:
    altered = app_run(COMPARED)
    leaf = altered.passes[2].steps[-1]
    assert leaf.name == "AccumulateGrad"
    leaf.grad_before = None
    leaf.grad_after = leaf.grad_after + 1
    found = differences(altered, plain_run(COMPARED))
    assert len(found) == 2
    assert "before" in found[0] and "after" in found[1]


def test_missing_passes_printed_text_and_final_grads_are_reported() -> None:
    altered = app_run(COMPARED)
    altered.passes.pop()
    altered.printed = altered.printed.replace("6.", "7.", 1)
    altered.grads["x"] = altered.grads["x"] * 2
    found = differences(altered, plain_run(COMPARED))
    assert found[0].startswith("printed text differs")
    assert found[1] == "2 passes, python ran 3"
    assert found[2].startswith("final x.grad")
    assert len(found) == 3


def test_the_app_run_differs_from_another_scripts_reference() -> None:
    assert differences(app_run("scalar_chain_rule"), plain_run("autograd_basics"))
