"""`python main.py export`: the documented JSON, DOT and GraphML, and clean failure."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from explorer.data.export import to_dot, write
from tests.helpers import run_ok

ROOT = Path(__file__).resolve().parents[1]
NOTES = (
    "x = torch.full((2,3), 4., requires_grad=True)\n"
    "y = (2*x**2+3)\ny\n"
    "y.backward(torch.ones_like(x))\n"
    "print(x.grad)\n"
)


def _export(tmp_path: Path, script: str, name: str) -> subprocess.CompletedProcess:
    source = tmp_path / "script.py"
    source.write_text(script)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", str(tmp_path / name)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_json_export_has_the_documented_sections(tmp_path: Path) -> None:
    done = _export(tmp_path, NOTES, "out.json")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["format"] == 1
    assert [o["line"] for o in data["outputs"]] == [3, 5]
    assert "grad_fn=<AddBackward0>" in data["outputs"][0]["text"]
    nodes = {n["id"]: n for n in data["graph"]["nodes"]}
    assert {n["op"] for n in nodes.values()} == {
        "AddBackward0",
        "MulBackward0",
        "PowBackward0",
        "AccumulateGrad",
    }
    for edge in data["graph"]["edges"]:
        assert {"source", "target", "slot"} <= edge.keys()
        assert edge["source"] in nodes and edge["target"] in nodes
    (backward,) = data["backward"]
    assert backward["root"] in nodes
    assert [nodes[s["node"]]["op"] for s in backward["steps"]][-1] == "AccumulateGrad"
    assert backward["steps"][-1]["grad_after"]["values"] == [[16.0] * 3] * 2
    assert data["grads"] == {"x": [[16.0] * 3] * 2}
    assert set(data["layout"]) == set(nodes)


def test_dot_and_graphml_exports(tmp_path: Path) -> None:
    assert _export(tmp_path, NOTES, "out.dot").returncode == 0
    dot = (tmp_path / "out.dot").read_text()
    assert dot.startswith("digraph autograd {") and dot.count("->") == 3
    assert _export(tmp_path, NOTES, "out.graphml").returncode == 0
    graph = nx.read_graphml(tmp_path / "out.graphml")
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 3
    ET.parse(tmp_path / "out.graphml")


def test_a_bad_script_exits_non_zero_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    done = _export(tmp_path, "x = torch.full((2,3), 4, requires_grad=True)\n", "out.json")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert ":1:5: error:" in lines[0] and "4.0" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.json").exists()


def test_unknown_format_and_missing_script_are_clean_errors(tmp_path: Path) -> None:
    done = _export(tmp_path, NOTES, "out.xyz")
    assert done.returncode == 2 and "unknown output format" in done.stderr
    command = [sys.executable, str(ROOT / "main.py"), "export", str(tmp_path / "nope.py")]
    missing = subprocess.run(
        [*command, "-o", "o.json"], capture_output=True, text=True, cwd=tmp_path
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_non_finite_numbers_are_written_as_strings(tmp_path: Path) -> None:
    snapshot = run_ok("x = torch.tensor([0.0, 1.0], requires_grad=True)\ny = x.log()\n")
    write(snapshot, tmp_path / "out.json")
    data = json.loads((tmp_path / "out.json").read_text())
    (log,) = [n for n in data["graph"]["nodes"] if n["op"] == "LogBackward0"]
    assert log["value"]["values"] == ["-Infinity", 0.0]


def test_dot_quotes_names() -> None:
    snapshot = run_ok("x = torch.ones(1, requires_grad=True)\n")
    assert '"n0" [label="x\\n1"' in to_dot(snapshot.graph)


@pytest.mark.parametrize("suffix", [".json", ".dot", ".graphml"])
def test_every_format_writes_a_file(tmp_path: Path, suffix: str) -> None:
    write(run_ok(NOTES), tmp_path / f"out{suffix}")
    assert (tmp_path / f"out{suffix}").stat().st_size > 0
