"""Module calls laid out as boxes: every frame, drawn as the window draws it, holds only its
own cards, keeps clear of its siblings and lies inside its parent."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data.export import to_dot, write
from explorer.data.nodes import AutogradGraph, GraphNode
from explorer.data.snapshot import Snapshot
from explorer.layout.sugiyama import layered
from explorer.view import geometry
from explorer.view.calls import CALL_CARD, CallTree, Shown
from tests.helpers import run_ok

SEQUENTIAL = """
model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
x = torch.randn(8, 2)
y = torch.randn(8, 1)
loss = ((model(x) - y) ** 2).mean()
loss.backward()
"""

CONVNET = """
model = nn.Sequential(
    nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
    nn.Flatten(), nn.Linear(8 * 2 * 2, 3),
)
x = torch.randn(2, 1, 10, 10)
loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 2]))
loss.backward()
"""

TRANSFORMER = """
model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
x = torch.randn(5, 3, 8)
loss = model(x).sum()
loss.backward()
"""

PAD, NAME = 0.3, 0.34  # as ui/graph/frames_item.py draws a frame


def frames(shown: Shown) -> dict[str, tuple[np.ndarray, set[str]]]:
    """Each open call's rectangle (x0, y0, x1, y1) and members, as the window computes it:
    its member cards' bounding box, padded 0.3 a level of nesting, with its name on top."""
    geo = geometry.build(shown.graph, shown.layout, upward=True, routes=shown.routes)
    deepest = max((f.depth for f in shown.frames), default=0)
    half = np.array([geometry.CARD_W / 2, geometry.CARD_H / 2])
    out = {}
    for frame in shown.frames:
        points = geo.pos[[geo.index[m] for m in frame.members]]
        pad = PAD * (1 + deepest - frame.depth)
        low, high = points.min(axis=0) - half - pad, points.max(axis=0) + half + pad
        out[frame.call] = (np.concatenate([low, high + np.array([0.0, NAME])]), set(frame.members))
    return out


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def faults(shown: Shown) -> list[str]:
    """Everything wrong with the frames: a card inside a frame not its own, sibling frames
    that overlap, a frame not strictly inside the frame around it."""
    geo = geometry.build(shown.graph, shown.layout, upward=True, routes=shown.routes)
    half = np.array([geometry.CARD_W / 2, geometry.CARD_H / 2])
    boxes = frames(shown)
    found = []
    for call, (box, members) in boxes.items():
        for card, i in geo.index.items():
            card_box = np.concatenate([geo.pos[i] - half, geo.pos[i] + half])
            if card not in members and _overlap(box, card_box):
                found.append(f"frame {call} holds {card}")
    depth = {frame.call: frame.depth for frame in shown.frames}
    for (a, (box_a, in_a)), (b, (box_b, in_b)) in itertools.combinations(boxes.items(), 2):
        if depth[a] > depth[b]:
            (a, box_a, in_a), (b, box_b, in_b) = (b, box_b, in_b), (a, box_a, in_a)
        if in_b <= in_a:  # b is made inside a
            inside = np.all(box_b[:2] > box_a[:2]) and np.all(box_b[2:] < box_a[2:])
            if not inside:
                found.append(f"frame {b} sticks out of the frame around it, {a}")
        elif _overlap(box_a, box_b):
            found.append(f"frames {a} and {b} overlap")
    return found


@pytest.mark.parametrize("script", [SEQUENTIAL, CONVNET, TRANSFORMER])
def test_frames_hold_their_own_cards_and_keep_apart(script: str) -> None:
    shown = CallTree(run_ok(script)).shown(set())
    assert len(shown.frames) >= 4
    assert faults(shown) == []


def test_the_sequential_of_the_issue_stacks_its_layers_in_order() -> None:
    snapshot = run_ok(SEQUENTIAL)
    boxes = frames(CallTree(snapshot).shown(set()))
    assert set(boxes) == {"model", "model.0", "model.1", "model.2"}
    # data flows up: layer 0's frame below the Tanh's, below layer 2's, none side by side
    assert boxes["model.0"][0][3] < boxes["model.1"][0][1]
    assert boxes["model.1"][0][3] < boxes["model.2"][0][1]
    weight = next(n for n, a in snapshot.graph.nodes(data=True) if a.name == "model.2.weight")
    assert weight in boxes["model.2"][1]


def test_collapsed_calls_sit_inside_the_frames_around_them() -> None:
    tree = CallTree(run_ok(TRANSFORMER))
    inner = {c for c in tree.all_calls if c.count(".") == 3}  # self_attn, linear1, ...
    for collapsed in [{"model.layers.0"}, inner, {"model.layers.0.self_attn", "model.layers.1"}]:
        shown = tree.shown(collapsed)
        assert any(n.startswith(CALL_CARD) for n in shown.graph.nodes)
        assert faults(shown) == []


def test_a_folded_drawing_keeps_its_frames_apart() -> None:
    tree = CallTree(run_ok(TRANSFORMER))
    shown = tree.shown({"model.layers.0", "model.layers.1"}, fold=True)
    assert any(a.repeats for _, a in shown.graph.nodes(data=True))
    assert faults(shown) == []


def _random_model(seed: int) -> AutogradGraph:
    """A forward pass through random nested modules: runs of ops, children called in turn,
    two branches added up, parameters named by the module that owns them."""
    rng = random.Random(seed)
    graph = AutogradGraph()
    counter = itertools.count()

    def node(kind: str, chain: tuple[str, ...], inputs: list[str], name: str | None = None) -> str:
        made = f"n{next(counter)}"
        record = GraphNode(op="Op", kind=kind, label=kind, name=name, calls=chain or None)
        graph.add_records([(made, record)])
        for slot, source in enumerate(inputs):
            graph.add_edge(source, made, key=slot, slot=slot)
        return made

    def module(path: str, chain: tuple[str, ...], x: str, depth: int) -> str:
        call = path
        chain = (*chain, call)
        choice = rng.random() if depth < 3 else 0.0
        if choice < 0.4:  # a layer: ops, with a parameter of its own
            weight = node("leaf", (), [], name=f"{path}.weight")
            x = node("op", chain, [x, weight])
            for _ in range(rng.randrange(3)):
                x = node("op", chain, [x])
            return x
        if choice < 0.75:  # a sequence of children
            for i in range(rng.randrange(1, 4)):
                x = module(f"{path}.{i}", chain, x, depth + 1)
            return x
        left = module(f"{path}.left", chain, x, depth + 1)  # two branches, added in the parent
        right = module(f"{path}.right", chain, x, depth + 1) if rng.random() < 0.7 else x
        return node("op", chain, [left, right])

    x = node("leaf", (), [], name="x")
    out = module("model", (), x, 0)
    node("op", (), [out])
    return graph


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6))
def test_frames_keep_apart_in_random_nested_modules(seed: int) -> None:
    graph = _random_model(seed)
    layout = layered(graph)
    tree = CallTree(Snapshot(graph=graph, layout=layout.positions, routes=layout.routes))
    assert faults(tree.shown(set())) == []
    rng = random.Random(seed)
    collapsed = {c for c in tree.all_calls if rng.random() < 0.3}
    assert faults(tree.shown(collapsed)) == []


def test_a_layout_with_calls_is_deterministic_and_keeps_cards_apart() -> None:
    graph = _random_model(11)
    first, second = layered(graph), layered(_random_model(11))
    assert first == second
    by_layer: dict[float, list[float]] = {}
    for x, y in first.positions.values():
        by_layer.setdefault(y, []).append(x)
    for xs in by_layer.values():
        xs.sort()
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(xs))
    for u, v in graph.edges():
        assert first.positions[v][1] > first.positions[u][1]


def _dot_nesting(text: str) -> dict[str, list[str]]:
    """Each node of DOT text with the labels of the clusters around it, outermost first."""
    where: dict[str, list[str]] = {}
    stack: list[str | None] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            stack.append(None)
        elif line.startswith("label=") and stack:
            stack[-1] = json.loads(line[len("label=") : -1])
        elif line == "}" and stack:
            stack.pop()
        elif (found := re.match(r'^"([^"]+)" \[label=', line)) is not None:
            where[found.group(1)] = [str(label) for label in stack]
    return where


def test_the_dot_export_nests_each_node_in_its_calls() -> None:
    snapshot = run_ok(SEQUENTIAL)
    nesting = _dot_nesting(to_dot(snapshot.graph))
    tree = CallTree(snapshot)
    assert set(nesting) == set(snapshot.graph.nodes)
    for node, chain in tree.chain_of.items():
        assert nesting[node] == [tree.label(call) for call in chain]
    weight = next(n for n, a in snapshot.graph.nodes(data=True) if a.name == "model.0.weight")
    assert nesting[weight] == ["model", "0"]


def test_the_dot_export_labels_a_repeated_call() -> None:
    snapshot = run_ok(
        "cell = nn.Linear(2, 2)\nh = torch.randn(1, 2)\nfor i in range(3):\n    h = cell(h)\n"
        "loss = h.sum()\n"
    )
    labels = {label for chain in _dot_nesting(to_dot(snapshot.graph)).values() for label in chain}
    assert labels == {"cell", "cell · call 2", "cell · call 3"}


def test_the_export_says_which_call_each_parameter_belongs_to(tmp_path: Path) -> None:
    snapshot = run_ok(TRANSFORMER)
    write(snapshot, tmp_path / "out.json")
    nodes = {n["id"]: n for n in json.loads((tmp_path / "out.json").read_text())["graph"]["nodes"]}
    tree = CallTree(snapshot)
    parameters = [n for n in nodes.values() if n["kind"] == "leaf" and n.get("name")]
    assert len(parameters) > 20
    for parameter in parameters:
        assert parameter["calls"] == list(tree.chain_of[parameter["id"]])
    weight = next(n for n in parameters if n["name"] == "model.layers.1.linear2.weight")
    assert weight["calls"] == ["model", "model.layers.1", "model.layers.1.linear2"]
