"""The plain data that crosses from the torch side to the view, and its JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from explorer.data.nodes import AutogradGraph, GraphNode

FORMAT = 1
FULL_VALUES_LIMIT = 10_000  # tensors up to this many elements keep every value
HEAD_LENGTH = 8  # first elements kept of a larger tensor
# The JSON writes every value of tensors up to this many elements, unless asked for all: a
# summary of larger ones keeps the file small and quick to write (the window shows them all).
SMALL_VALUES = 64
VALUES = ("small", "all")  # the JSON's values policies, as the export command names them
OPEN_COLLAPSED_ABOVE = 2000  # larger graphs of module calls open with their calls collapsed
# The most nodes the window draws: the worker refuses larger graphs (Limits.max_graph_nodes),
# and the window refuses what reaches it past this, rather than freeze drawing it.
MAX_DRAWN_NODES = 50_000


def module_of_call(call: str) -> str:
    """`cell#3` -> `cell`: the module's path without the call number."""
    return call.partition("#")[0]


def opens_collapsed(graph: AutogradGraph) -> bool:
    """Whether the window opens this graph collapsed to its module calls, so that its full
    layout waits until it is expanded or exported."""
    if graph.number_of_nodes() <= OPEN_COLLAPSED_ABOVE:
        return False
    return any(attrs.calls for _, attrs in graph.nodes(data=True))


def shape_text(shape: Any) -> str:
    """A shape as people write it: 2×3, or scalar."""
    if shape is None:
        return ""
    shape = list(shape)
    return "×".join(map(str, shape)) if shape else "scalar"


@dataclass
class Problem:
    """An error a script can cause: where it is, what went wrong, what to try."""

    message: str
    line: int = 0
    column: int = 0
    text: str = ""
    hint: str = ""

    def one_line(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.message}{hint}"

    def __str__(self) -> str:
        return self.one_line()


@dataclass(frozen=True)
class JsonForm:
    """How tensors and attributes go into the JSON: a tensor value by value up to `limit`
    elements (a summary above), as the plain data json.dumps takes; explorer.data.json_text's
    form keeps them in the form its writer takes instead."""

    limit: float = SMALL_VALUES

    def array(self, values: np.ndarray) -> Any:
        return json_number(values.tolist())

    def tensor(self, summary: TensorSummary | None) -> Any:
        return None if summary is None else summary.to_dict(self)

    def attribute(self, value: Any) -> Any:
        """A node's or an edge's attribute."""
        return attribute_to_json(value, self)


def json_form(values: str = "small") -> JsonForm:
    """The form of a values policy: "small" (every value up to SMALL_VALUES elements) or "all"
    (every value kept, as the window has it)."""
    if values not in VALUES:
        raise ValueError(f"values must be one of {', '.join(VALUES)}, not {values!r}")
    return JsonForm(SMALL_VALUES if values == "small" else math.inf)


SMALL_FORM = JsonForm()


@dataclass(slots=True)
class TensorSummary:
    """A tensor as plain data: all values when small, statistics when large."""

    shape: tuple[int, ...]
    dtype: str
    values: np.ndarray | None = None  # every value, when numel <= FULL_VALUES_LIMIT
    head: tuple[float, ...] = ()  # first elements of a large tensor
    stats: dict[str, float] | None = None  # of a large tensor
    requires_grad: bool = False
    sparse: bool = False  # the tensor was sparse; values, head and stats are of its dense form

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def statistics(self) -> dict[str, float]:
        """min, max, mean and norm; computed on demand for small tensors."""
        if self.stats is not None or self.values is None:
            return self.stats or {}
        if self.values.size == 0:
            return {}
        v = self.values.astype(np.float64, copy=False)
        # The ufuncs' own reductions: the same sums as v.sum() and v.mean(), bit for bit,
        # without their wrappers' cost (the export computes this for every tensor).
        with np.errstate(all="ignore"):  # NaN and infinity are values like any other here
            return {
                "min": float(np.minimum.reduce(v, axis=None)),
                "max": float(np.maximum.reduce(v, axis=None)),
                "mean": float(np.add.reduce(v, axis=None) / v.size),
                "norm": float(np.sqrt(np.add.reduce(v * v, axis=None))),
            }

    def whole_in(self, form: JsonForm) -> bool:
        """Whether the JSON of this form holds every value of the tensor."""
        return self.values is not None and self.numel <= form.limit

    def first_values(self) -> list[float]:
        """The first HEAD_LENGTH values, as floats (as `head` holds them)."""
        if self.values is None:
            return list(self.head)
        return self.values.reshape(-1)[:HEAD_LENGTH].astype(np.float64).tolist()

    def to_dict(
        self, form: JsonForm = SMALL_FORM, stats: dict[str, float] | None = None
    ) -> dict[str, Any]:
        """The tensor in the JSON; stats: its statistics(), when they are known already."""
        out: dict[str, Any] = {"shape": list(self.shape), "dtype": self.dtype}
        if self.whole_in(form):
            out["values"] = form.array(self.values)  # type: ignore[arg-type]
        else:
            out["head"] = json_number(self.first_values())
        stats = self.statistics() if stats is None else stats
        out.update({k: json_number(v) for k, v in stats.items()})
        if self.requires_grad:
            out["requires_grad"] = True
        if self.sparse:
            out["sparse"] = True
        return out


@dataclass
class Output:
    """One displayed value or printed text, at the script line that made it."""

    line: int
    text: str


@dataclass
class Step:
    """One node the engine ran: gradients that arrived (per output) and that it sent (per input).

    grad_in[k] is the gradient with respect to the node's k-th forward output;
    grad_out[k] is what it sent along next_functions[k] (graph edge with slot k).
    For a leaf, grad_before/grad_after are its .grad around the accumulation.
    """

    node: str
    grad_in: list[TensorSummary | None] = field(default_factory=list)
    grad_out: list[TensorSummary | None] = field(default_factory=list)
    grad_before: TensorSummary | None = None
    grad_after: TensorSummary | None = None
    # how long the node's own work took, timed between the engine's hooks before and after it
    # (CPU; the recording's hooks are not in it); None where it was not timed
    seconds: float | None = None


@dataclass
class GradResult:
    """One result of torch.autograd.grad: the node of the input it is the gradient of (None when
    that input is not in the graph), and the gradient, None for an unused input."""

    node: str | None
    grad: TensorSummary | None


# root: the pass started from a gradient that was not finite; op: a node made a NaN or an
# infinity from finite gradients; grad: a leaf's .grad held one before this pass added to it
Origin = Literal["root", "op", "grad"]


@dataclass(frozen=True, slots=True)
class FirstNonFinite:
    """The first step of a pass whose output is not finite although what arrived there was."""

    step: int  # counting from 1 in the pass's steps
    node: str
    origin: Origin = "op"
    why: str = ""  # in words (explorer/data/nonfinite.py), said where the pass was recorded

    def to_dict(self) -> dict[str, int | str]:
        return {"step": self.step, "node": self.node}


@dataclass
class Pass:
    """One backward call: its root, the gradient it started with, the steps in engine order.

    A pass started from several roots at once keeps them all in `roots`, in the order given,
    with one gradient each in `gradients`; `root` and `gradient` are then the first's.
    """

    root: str
    line: int
    gradient: TensorSummary | None
    steps: list[Step] = field(default_factory=list)
    retain_graph: bool = False
    error: str = ""
    roots: list[str] = field(default_factory=list)  # set when there are several
    gradients: list[TensorSummary | None] = field(default_factory=list)  # one per root in roots
    inputs: list[str | None] | None = None  # the nodes backward(inputs=...) named
    # torch.autograd.grad's results, one per input; None for a pass that fills .grad instead
    results: list[GradResult] | None = None
    # where its gradients first became NaN or infinite (explorer/data/health.py); None: never
    first_nonfinite: FirstNonFinite | None = None

    def root_ids(self) -> list[str]:
        """Every node the pass started from, in the order given."""
        return self.roots or [self.root]


@dataclass
class Snapshot:
    """Everything the view shows about one run of a script."""

    outputs: list[Output] = field(default_factory=list)
    graph: AutogradGraph = field(default_factory=AutogradGraph)
    passes: list[Pass] = field(default_factory=list)
    grads: dict[str, TensorSummary | None] = field(default_factory=dict)
    layout: dict[str, tuple[float, float]] = field(default_factory=dict)
    # bend points of edges that span several layers, keyed (source, target, slot)
    routes: dict[tuple[str, str, int], list[tuple[float, float]]] = field(default_factory=dict)
    problem: Problem | None = None

    def laid_out(self) -> bool:
        """Whether every node has its place; a graph that opens collapsed is laid out on demand."""
        return len(self.layout) == self.graph.number_of_nodes()

    def with_passes(self, added: PassesAdded) -> Snapshot:
        """This run after a backward pass on request: the same graph and layout, shared."""
        return replace(
            self, passes=[*self.passes, *added.passes], grads=added.grads, problem=added.problem
        )

    def to_dict(self, values: str = "small") -> dict[str, Any]:
        """The export's JSON as plain data; values: "small" (every value of tensors up to
        SMALL_VALUES elements, a summary of larger ones) or "all"."""
        return snapshot_to_dict(self, json_form(values))


def snapshot_to_dict(snapshot: Snapshot, form: JsonForm) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "outputs": [{"line": o.line, "text": o.text} for o in snapshot.outputs],
        "graph": graph_to_dict(snapshot.graph, form),
        "backward": [pass_to_dict(p, form) for p in snapshot.passes],
        "grads": {name: grad_to_json(g, form) for name, g in snapshot.grads.items()},
        "layout": {n: [float(x), float(y)] for n, (x, y) in snapshot.layout.items()},
        "routes": [
            {"source": u, "target": v, "slot": k, "points": [[x, y] for x, y in points]}
            for (u, v, k), points in snapshot.routes.items()
        ],
        "error": None if snapshot.problem is None else problem_to_dict(snapshot.problem),
    }


@dataclass
class PassesAdded:
    """What a backward pass on request adds to the run on screen: its pass, the leaves' .grad
    after it, and its problem. The graph and its layout stay as they were, so they are not sent
    again; `snapshot` is the whole run instead, in the rare case the pass reached new nodes."""

    passes: list[Pass] = field(default_factory=list)
    grads: dict[str, TensorSummary | None] = field(default_factory=dict)
    problem: Problem | None = None
    snapshot: Snapshot | None = None


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    return {
        "message": problem.message,
        "line": problem.line,
        "column": problem.column,
        "text": problem.text,
        "hint": problem.hint,
    }


def grad_to_json(s: TensorSummary | None, form: JsonForm = SMALL_FORM) -> Any:
    """A leaf's gradient: a nested list when small, a summary object when large or sparse."""
    if s is None:
        return None
    if s.whole_in(form) and not s.sparse:
        return form.array(s.values)  # type: ignore[arg-type]
    return form.tensor(s)


def pass_to_dict(p: Pass, form: JsonForm = SMALL_FORM) -> dict[str, Any]:
    tensor = form.tensor
    steps = []
    for s in p.steps:
        step: dict[str, Any] = {
            "node": s.node,
            "grad_in": [tensor(g) for g in s.grad_in],
            "grad_out": [tensor(g) for g in s.grad_out],
        }
        if s.grad_after is not None:
            step["grad_before"] = tensor(s.grad_before)
            step["grad_after"] = tensor(s.grad_after)
        steps.append(step)
    out: dict[str, Any] = {"roots": list(p.roots)} if p.roots else {"root": p.root}
    out["line"] = p.line
    if p.roots:
        out["gradient"] = [tensor(g) for g in p.gradients]
    else:
        out["gradient"] = tensor(p.gradient)
    out["retain_graph"] = p.retain_graph
    out["error"] = p.error or None
    if p.inputs is not None:
        out["inputs"] = list(p.inputs)
    if p.results is not None:
        out["results"] = [{"node": r.node, "grad": tensor(r.grad)} for r in p.results]
    found = p.first_nonfinite
    out["health"] = {"first_nonfinite": None if found is None else found.to_dict()}
    out["steps"] = steps
    return out


def node_to_dict(node_id: str, attrs: GraphNode, form: JsonForm = SMALL_FORM) -> dict[str, Any]:
    """A node's id and its set fields, in the record's order."""
    out: dict[str, Any] = {"id": node_id}
    attribute = form.attribute
    for key, value in attrs.fields_set():
        out[key] = value if type(value) in _PLAIN else attribute(value)
    return out


_PLAIN = frozenset((str, int, bool))  # what every form writes as it is


def attribute_to_json(value: Any, form: JsonForm = SMALL_FORM) -> Any:
    if isinstance(value, TensorSummary):
        return form.tensor(value)
    if isinstance(value, dict):
        return {k: attribute_to_json(v, form) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [attribute_to_json(v, form) for v in value]
    return json_number(value)


def graph_to_dict(graph: AutogradGraph, form: JsonForm = SMALL_FORM) -> dict[str, Any]:
    nodes = [node_to_dict(n, a, form) for n, a in graph.nodes(data=True)]
    attribute = form.attribute
    edges = [
        {
            "source": u,
            "target": v,
            **{k: x if type(x) in _PLAIN else attribute(x) for k, x in a.items()},
        }
        for u, v, a in graph.edges(data=True)
    ]
    out: dict[str, Any] = {"directed": True, "multigraph": True}
    if graph.graph.get("saved_bytes"):
        out["saved_bytes"] = graph.graph["saved_bytes"]  # held for backward, each storage once
    out.update(nodes=nodes, edges=edges)
    return out


def json_number(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, list):
        return [json_number(v) for v in value]
    return value
