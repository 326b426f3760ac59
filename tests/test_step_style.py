"""What the graph view lights at a cursor, checked without Qt against the replay's own view."""

from __future__ import annotations

import numpy as np

from explorer.view import step_style
from explorer.view.calls import CallTree
from explorer.view.replay import Cursor, Replay
from tests.helpers import run_ok, values

SCRIPT = """
x = torch.tensor([1.0, 2.0], requires_grad=True)
w = torch.tensor([3.0, -1.0], requires_grad=True)
y = (x * w).sum() + (x * x).sum()
y.backward()
"""


def _setup():
    snapshot = run_ok(SCRIPT)
    replay = Replay(snapshot)
    shown = CallTree(snapshot).shown(set())
    edges = list(snapshot.graph.edges(keys=True))
    return snapshot, replay, shown, {key: i for i, key in enumerate(edges)}, edges


def _roles(snapshot, replay, shown, cursor: Cursor) -> dict[str, tuple[str, str]]:
    step = replay.view(cursor)
    return {
        node: (
            step_style.card_fill(shown.graph.nodes[node], node, step),
            step_style.card_outline(node, step, None),
        )
        for node in shown.graph.nodes
    }


def test_the_edges_sent_up_to_a_step_are_those_the_replay_says_carried_gradient() -> None:
    _, replay, shown, index, edges = _setup()
    steps = replay.passes[0].steps
    for at in range(len(steps)):
        mask = step_style.sent_mask(replay, shown, index, steps[: at + 1])
        lit = {edges[i] for i in np.flatnonzero(mask)}
        assert lit == replay.view(Cursor(0, at)).flowed


def test_every_card_whose_look_changes_on_a_step_is_among_the_moved_cards() -> None:
    snapshot, replay, shown, _, _ = _setup()
    count = len(replay.passes[0].steps)
    for at in range(-1, count - 1):
        before, after = Cursor(0, at), Cursor(0, at + 1)
        old, new = _roles(snapshot, replay, shown, before), _roles(snapshot, replay, shown, after)
        active = replay.view(before).active
        moved = step_style.moved_cards(replay, before, after, shown, active)
        assert moved is not None
        assert {n for n in old if old[n] != new[n]} <= moved


def test_all_cards_are_restyled_when_the_pass_changes_or_nothing_was_shown() -> None:
    _, replay, shown, _, _ = _setup()
    assert step_style.moved_cards(replay, None, Cursor(0, 0), shown, None) is None
    assert step_style.moved_cards(replay, Cursor(1, 0), Cursor(0, 0), shown, None) is None
    assert step_style.moved_cards(None, Cursor(0, 0), Cursor(0, 1), shown, None) is None


def test_a_leaf_card_shows_its_new_grad_and_turns_done_once_accumulated() -> None:
    snapshot, replay, shown, _, _ = _setup()
    (x,) = [n for n, a in snapshot.graph.nodes(data=True) if a.get("name") == "x"]
    end = Cursor(0, len(replay.passes[0].steps) - 1)
    grads = step_style.node_grads(replay, end, [x])
    assert np.allclose(values(grads[x]), [2 * 1.0 + 3.0, 2 * 2.0 - 1.0])  # 2x + w
    assert step_style.node_grads(replay, Cursor(0, -1), [x]) == {}
    attrs = shown.graph.nodes[x]
    assert step_style.card_fill(attrs, x, replay.view(Cursor(0, -1))) == "leaf"
    ran = replay.step_index(0, x)
    assert ran is not None
    assert step_style.card_fill(attrs, x, replay.view(Cursor(0, ran))) == "accumulated"
    assert ran + 1 < len(replay.passes[0].steps)  # w's gradient is accumulated after x's
    assert step_style.card_fill(attrs, x, replay.view(Cursor(0, ran + 1))) == "done"


def test_keys_near_a_rect_include_half_its_size_around_it() -> None:
    pos = np.array([[5.0, 5.0], [-4.0, 5.0], [-6.0, 5.0], [5.0, 14.9], [5.0, 15.1]])
    keys = ["inside", "left margin", "too far left", "top margin", "too far up"]
    assert step_style.keys_near(keys, pos, (0.0, 0.0, 10.0, 10.0)) == {
        "inside",
        "left margin",
        "top margin",
    }
