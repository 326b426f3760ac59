"""Backward passes: engine order, what flowed along each edge, accumulation across passes."""

from __future__ import annotations

import numpy as np
import torch

from explorer.runs.session import Session, run_script
from tests.helpers import run_ok, session_ok, values


def test_each_backward_call_is_one_pass_and_grads_accumulate() -> None:
    snapshot = run_ok(
        "x = torch.tensor([1., 2.], requires_grad=True)\n"
        "y = (x * x).sum()\n"
        "y.backward(retain_graph=True)\n"
        "y.backward()\n"
    )
    first, second = snapshot.passes
    assert first.retain_graph and not second.retain_graph
    leaf_first, leaf_second = first.steps[-1], second.steps[-1]
    assert leaf_first.grad_before is None
    np.testing.assert_array_equal(values(leaf_first.grad_after), [2.0, 4.0])
    np.testing.assert_array_equal(values(leaf_second.grad_before), [2.0, 4.0])
    np.testing.assert_array_equal(values(leaf_second.grad_after), [4.0, 8.0])
    np.testing.assert_array_equal(values(snapshot.grads["x"]), [4.0, 8.0])


def test_gradients_meeting_at_a_node_are_summed() -> None:
    snapshot = run_ok(
        "x = torch.tensor([3.], requires_grad=True)\na = x * 2\nb = x * 5\n(a + b).backward()\n"
    )
    (only,) = snapshot.passes
    leaf = only.steps[-1]
    assert snapshot.graph.nodes[leaf.node]["name"] == "x"
    np.testing.assert_array_equal(values(leaf.grad_in[0]), [7.0])
    sent = [
        values(s.grad_out[0])[0]
        for s in only.steps
        if snapshot.graph.nodes[s.node]["op"] == "MulBackward0"
    ]
    assert sorted(sent) == [2.0, 5.0]


def test_the_first_step_is_the_root_with_the_given_gradient() -> None:
    snapshot = run_ok(
        "x = torch.ones(2, 2, requires_grad=True)\ny = x.exp()\n"
        "y.backward(torch.full((2, 2), 0.5))\n"
    )
    (only,) = snapshot.passes
    assert only.steps[0].node == only.root
    np.testing.assert_array_equal(values(only.gradient), np.full((2, 2), 0.5))
    np.testing.assert_array_equal(values(only.steps[0].grad_in[0]), np.full((2, 2), 0.5))


def test_final_leaf_grad_matches_torch() -> None:
    script = (
        "w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)\n"
        "v = torch.tensor([1.0, 3.0], requires_grad=True)\n"
        "loss = torch.tanh(w @ v).pow(2).mean()\nloss.backward()\n"
    )
    snapshot = run_ok(script)
    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    v = torch.tensor([1.0, 3.0], requires_grad=True)
    torch.tanh(w @ v).pow(2).mean().backward()
    np.testing.assert_array_equal(values(snapshot.grads["w"]), w.grad.numpy())
    np.testing.assert_array_equal(values(snapshot.grads["v"]), v.grad.numpy())


def test_backward_on_request_after_the_script() -> None:
    session, snapshot = session_ok("x = torch.full((2,), 4., requires_grad=True)\ny = 2*x**2+3\n")
    assert snapshot.passes == []
    after = session.backward("y")
    assert after.problem is None
    assert len(after.passes) == 1
    np.testing.assert_array_equal(values(after.grads["x"]), [16.0, 16.0])
    again = session.backward("y")
    assert len(again.passes) == 2
    np.testing.assert_array_equal(values(again.grads["x"]), [32.0, 32.0])


def test_backward_on_request_of_an_unknown_name_is_a_problem() -> None:
    session, _ = session_ok("x = torch.ones(2, requires_grad=True)\n")
    assert session.backward("nope").problem is not None


def test_second_backward_without_retain_graph_is_explained() -> None:
    snapshot = run_script(
        "x = torch.ones(1, requires_grad=True)\ny = x * 2\ny.backward()\ny.backward()\n"
    )
    assert snapshot.problem is not None
    assert snapshot.problem.line == 4
    assert "retain_graph=True" in snapshot.problem.hint
    assert len(snapshot.passes) == 2 and snapshot.passes[1].error


def test_backward_of_something_that_needs_no_grad_is_reported_plainly() -> None:
    snapshot = run_script(
        "x = torch.ones(1, requires_grad=True)\n"
        "with torch.no_grad():\n    y = x * 2\ny.backward()\n"
    )
    assert snapshot.problem is not None
    assert "does not require grad" in snapshot.problem.message
    assert snapshot.problem.line == 4


def test_large_tensors_are_summarised_small_ones_kept_whole() -> None:
    snapshot = run_ok(
        "big = torch.ones(200, 100, requires_grad=True)\n"
        "small = torch.ones(100, requires_grad=True)\n"
        "(big.sum() + small.sum()).backward()\n"
    )
    big, small = snapshot.grads["big"], snapshot.grads["small"]
    assert big.values is None and big.stats["mean"] == 1.0 and len(big.head) == 8
    assert big.stats["norm"] == float(np.sqrt(20000))
    assert small.values is not None and small.values.shape == (100,)


def test_session_keeps_running_after_a_problem() -> None:
    session = Session("x = torch.ones(2, requires_grad=True)\ny = x.sum()\nz = undefined\n")
    snapshot = session.run()
    assert snapshot.problem is not None and snapshot.problem.line == 3
    assert session.backward("y").problem is None
