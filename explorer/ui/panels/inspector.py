"""The inspector: everything about one node, and the gradients through it at the current step."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from explorer.data import nonfinite
from explorer.data.snapshot import TensorSummary
from explorer.ui.model import ExplorerModel
from explorer.ui.panels.numeric_check import CHECK_LINK
from explorer.ui.theme import Theme
from explorer.view import labels
from explorer.view.derivatives import derivative
from explorer.worker.protocol import Withheld

TABLE_LIMIT = 64  # elements shown as a table; more are summarised
LOADING = "loading…"  # the saved values are on their way from the worker
NOT_AVAILABLE = "not available: the worker has run another script since"


def _muted(text: str, theme: Theme) -> str:
    return f"<span style='color:{theme.muted}'>{text}</span>"


def tensor_html(summary: Any, theme: Theme) -> str:
    if summary is None:
        return "<i>None</i>"
    if not isinstance(summary, TensorSummary):
        return html.escape(str(summary))
    head = _muted(f"{labels.shape_text(summary.shape)} · {summary.dtype}", theme)
    values = summary.values
    if values is not None and values.size <= TABLE_LIMIT and values.ndim <= 2:
        return head + _table(values, theme)
    stats = summary.statistics()
    parts = html.escape(", ".join(f"{k} {labels.number(v)}" for k, v in stats.items()))
    first = values.reshape(-1)[:8] if values is not None else np.asarray(summary.head)
    listed = ", ".join(labels.number(float(v)) for v in first)
    return f"{head}<br>{parts}<br>{_muted(f'first: {listed} …', theme)}"


def saved_html(value: Any, theme: Theme) -> str:
    """A value saved for backward as PyTorch gives it: a tensor, or a scalar as Python writes it
    (`-1`, `'mean'`, `True`); a list of ints as the tuple it was (`(-1,)`)."""
    if isinstance(value, TensorSummary) or value is None:
        return tensor_html(value, theme)
    if isinstance(value, list):
        if any(isinstance(v, TensorSummary) for v in value):
            return "<br>".join(saved_html(v, theme) for v in value)
        return html.escape(repr(tuple(value)))
    return html.escape(repr(value))


def _table(values: np.ndarray, theme: Theme) -> str:
    grid = np.atleast_2d(values.astype(float))
    cell = (
        f"style='padding:2px 8px;border:1px solid {theme.edge_faded};text-align:right;"
        "white-space:nowrap'"  # a wide row scrolls sideways rather than stack digits
    )
    rows = "".join(
        "<tr>" + "".join(f"<td {cell}>{labels.number(float(v))}</td>" for v in row) + "</tr>"
        for row in grid
    )
    return f"<table cellspacing='0' style='border-collapse:collapse;margin:4px 0'>{rows}</table>"


def _module_html(model: ExplorerModel, card: str) -> str:
    """A collapsed module call: what it holds and how far the backward pass is through it."""
    assert model.shown is not None and model.snapshot is not None
    attrs, esc = model.shown.graph.nodes[card], html.escape
    members = model.shown.members[card]
    inside = labels.inside_text([model.snapshot.graph.nodes[n] for n in members])
    out = [
        f"<h2 style='margin:0'>{esc(attrs.label or 'module')}</h2>",
        f"<p>{_muted('module call', model.theme)} <b>{esc(attrs.call or '')}</b></p>",
        f"<p>{esc(inside)}</p>",
    ]
    if attrs.repeats:
        out.append(f"<p>{attrs.repeats} identical calls folded into this card.</p>")
    span = model.span(card)
    if span is not None:
        at = model.cursor.step_index
        ran = sum(
            1
            for node in members
            if (i := model.replay.step_index(model.cursor.pass_index, node)) is not None and i <= at
        )
        out.append(f"<p>Backward, this pass: {ran:,} of its nodes ran "
                   f"(steps {span[0] + 1}–{span[1] + 1}).</p>")  # fmt: skip
    out.append(f"<p>{_muted('Double-click the card to open it.', model.theme)}</p>")
    return "".join(out)


def node_html(
    model: ExplorerModel, node: str, check: str = "", saved: dict[str, Any] | str | None = None
) -> str:
    """The inspector page for node, as HTML; check goes above the backward pass's part.

    saved replaces the node's saved values when they were fetched from the worker, or says
    why they are not shown yet (LOADING, NOT_AVAILABLE)."""
    snapshot, theme = model.snapshot, model.theme
    if model.shown is not None and node in model.shown.members:
        return _module_html(model, node)
    if snapshot is None or node not in snapshot.graph:
        return ""
    attrs = snapshot.graph.nodes[node]
    esc = html.escape
    kind = "output" if attrs.output else attrs.kind or "op"
    out = [
        f"<h2 style='margin:0'>{esc(labels.node_title(attrs))}</h2>",
        "<p>" + _muted(f"{esc(kind)} · {esc(attrs.op or '')} · id {esc(node)}", theme) + "</p>",
    ]
    if attrs.module:
        out.append(f"<p>made inside module <b>{esc(attrs.module)}</b></p>")
    out.append(_nonfinite_html(model, node))
    found = derivative(attrs.op or "", attrs.saved)
    if found:
        forward, rules = found
        items = "".join(f"<li>{esc(r)}</li>" for r in rules)
        out.append(f"<h3>Derivative</h3><p>forward: <b>{esc(forward)}</b></p><ul>{items}</ul>")
    if attrs.shape is not None:
        shape = esc(labels.shape_text(attrs.shape))
        out.append(f"<p>shape <b>{shape}</b>, dtype {esc(attrs.dtype or '')}</p>")
    if attrs.value is not None:
        out.append("<h3>Value</h3>" + tensor_html(attrs.value, theme))
    if attrs.const_slots:
        out.append("<p>" + _muted(esc(labels.const_note(attrs)), theme) + "</p>")
    out.append(_saved_section(attrs.saved if saved is None else saved, theme, attrs.saved_bytes))
    out.append(check)
    out.append(_step_html(model, node))
    return "".join(out)


def _nonfinite_html(model: ExplorerModel, node: str) -> str:
    """Why the first NaN of a pass started here, when it did."""
    located = model.first_nonfinite()
    if located is None or located[1].node != node or model.snapshot is None:
        return ""
    found = located[1]
    words = html.escape(found.why or nonfinite.why(model.snapshot.graph, found))
    return f"<p style='color:{model.theme.error}'><b>NaN starts here.</b> {words}</p>"


def _saved_section(saved: dict[str, Any] | str | None, theme: Theme, held: int | None) -> str:
    heading = "<h3>Saved for backward</h3>"
    if held:
        heading += f"<p>holds <b>{labels.byte_text(held)}</b> until backward frees it</p>"
    if isinstance(saved, str):
        return f"{heading}<p>{_muted(html.escape(saved), theme)}</p>"
    if not saved:
        return ""
    esc = html.escape
    rows = "".join(f"<p><b>{esc(k)}</b>: {saved_html(v, theme)}</p>" for k, v in saved.items())
    return heading + rows


def memory_html(model: ExplorerModel) -> str:
    """With no node chosen: the memory the graph holds for backward, and its heaviest nodes."""
    snapshot, theme = model.snapshot, model.theme
    total = snapshot.graph.graph.get("saved_bytes") if snapshot is not None else None
    if not total:
        return ""
    graph = snapshot.graph
    rows = "".join(
        f"<li>{html.escape(labels.node_title(graph.nodes[n]))} · {labels.byte_text(b)}</li>"
        for n, b in labels.heaviest(list(graph.nodes(data=True)))
    )
    note = _muted("each storage counted once, however many nodes saved it", theme)
    return (
        f"<h3>Held for backward</h3><p><b>{labels.byte_text(total)}</b> of saved tensors "
        f"({note})</p><p>Heaviest nodes:</p><ul>{rows}</ul>"
    )


def withheld_run(saved: dict[str, Any] | None) -> int | None:
    """The worker's run whose saved tensors these values left out, or None: all are here."""
    for value in (saved or {}).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Withheld):
                return item.run
    return None


class SavedFetches(QObject):
    """Saved tensors the worker kept out of the Snapshot, fetched when a node is inspected.

    One fetch at a time: while a pass plays, the node shown changes faster than the worker
    answers, and only the latest one wanted is asked for next.
    """

    changed = Signal()  # an answer came

    def __init__(self, model: ExplorerModel, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.worker = worker
        self.known: dict[tuple[int, str], dict[str, Any] | str] = {}  # or LOADING
        self._asking: tuple[int, str] | None = None  # the fetch in flight
        self._next: tuple[int, str] | None = None  # the one to ask for once it is answered

    def saved(self, node: str) -> dict[str, Any] | str | None:
        """node's saved values, LOADING (fetching them now) or NOT_AVAILABLE; None when the
        Snapshot holds them all."""
        snapshot = self.model.snapshot
        if snapshot is None or node not in snapshot.graph:
            return None
        run = withheld_run(snapshot.graph.nodes[node].saved)
        if run is None:
            return None
        if any(known_run != run for known_run, _ in self.known):
            self.known.clear()  # another run's values: no node of theirs is shown again
        wanted = (run, node)
        found = self.known.get(wanted)
        if found is None or (found == LOADING and wanted not in (self._asking, self._next)):
            self.known[wanted] = LOADING
            if self._asking is None:
                self._ask(wanted)
            else:
                self._next = wanted
        return self.known.get(wanted, NOT_AVAILABLE)

    def _ask(self, wanted: tuple[int, str]) -> None:
        run, node = wanted
        try:
            asked = self.worker.fetch_saved(run, node)
        except RuntimeError:  # the window is closing: its worker has stopped
            self.known[wanted] = NOT_AVAILABLE
            return
        self._asking = wanted
        asked.answered.connect(lambda answer: self._answered(wanted, answer.saved))
        asked.failed.connect(lambda words: self._answered(wanted, None))
        asked.cancelled.connect(lambda: self._answered(wanted, None))

    def _answered(self, wanted: tuple[int, str], saved: dict[str, Any] | None) -> None:
        self.known[wanted] = NOT_AVAILABLE if saved is None else saved
        self._asking, following, self._next = None, self._next, None
        if following is not None and self.known.get(following) == LOADING:
            self._ask(following)
        self.changed.emit()


def _step_html(model: ExplorerModel, node: str) -> str:
    replay, theme = model.replay, model.theme
    if replay is None or not 0 <= model.cursor.pass_index < len(replay.passes):
        return ""
    steps = replay.passes[model.cursor.pass_index].steps[: model.cursor.step_index + 1]
    mine = [s for s in steps if s.node == node]
    if not mine:
        return "<p>" + _muted("Not run yet in this backward pass.", theme) + "</p>"
    step = mine[-1]
    out = ["<h3>Backward, this pass</h3>"]
    if step.seconds is not None:
        took = labels.duration_text(step.seconds)
        out.append(f"<p>its step took <b>{took}</b> {_muted('(CPU, timed by hooks)', theme)}</p>")
    view = model.step_view()
    meeting = sorted(e for e in view.flowed if e[0] == node)
    if len(meeting) > 1:
        out.append(f"<p><b>{len(meeting)} gradients met here and were summed:</b></p>")
        for edge in meeting:
            source = html.escape(_name(model, edge[1]))
            grad = tensor_html(view.edge_grads[edge], theme)
            out.append(f"<p>from {source} (slot {edge[2]}): {grad}</p>")
    several = len(step.grad_in) > 1
    for k, grad in enumerate(step.grad_in):
        which = f" (output {k})" if several else ""
        out.append(f"<p><b>gradient arrived</b>{which}: {tensor_html(grad, theme)}</p>")
    for slot, grad in enumerate(step.grad_out):
        out.append(f"<p><b>sent to slot {slot}</b>: {tensor_html(grad, theme)}</p>")
    if step.grad_after is not None:
        out.append(f"<p><b>.grad before</b>: {tensor_html(step.grad_before, theme)}</p>")
        out.append(f"<p><b>.grad after</b>: {tensor_html(step.grad_after, theme)}</p>")
    return "".join(out)


def _name(model: ExplorerModel, node: str) -> str:
    snapshot = model.snapshot
    return labels.node_title(snapshot.graph.nodes[node]) if snapshot else node


class Inspector(QTextBrowser):
    """Shows the selected node; while stepping with nothing selected, the running node."""

    def __init__(self, model: ExplorerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.checks: Any = None  # NumericChecks: the "Check numerically" link of a leaf
        self.fetches: SavedFetches | None = None  # saved tensors left in the worker
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        # Steps come faster than a page is laid out while playing: show the latest once the
        # graph has been repainted, instead of every step in turn.
        self._pending = QTimer(self, singleShot=True, interval=0)
        self._pending.timeout.connect(self._on_change)
        model.selection_changed.connect(self._on_change)
        model.cursor_changed.connect(self._pending.start)
        model.snapshot_changed.connect(self._on_change)
        model.theme_changed.connect(self._on_change)
        self._on_change()

    def shown_node(self) -> str | None:
        return self.model.selected or self.model.step_view().active

    def set_checks(self, checks: Any) -> None:
        """Offer numerical gradient checks of leaves (explorer/ui/panels/numeric_check.py)."""
        self.checks = checks
        checks.changed.connect(self._on_change)
        self.fetch_from(checks.worker)  # the worker that checks also keeps saved tensors

    def fetch_from(self, worker: Any) -> None:
        """Fetch from worker the saved tensors its Snapshots leave out (a WorkerBridge)."""
        self.fetches = SavedFetches(self.model, worker, self)
        self.fetches.changed.connect(self._on_change)

    def _on_anchor(self, url: Any) -> None:
        node = self.shown_node()
        if self.checks is not None and node is not None and url.toString() == CHECK_LINK:
            self.checks.request(node)

    def _on_change(self, *args: Any) -> None:
        node = self.shown_node()
        if node is None:
            self.setHtml(
                f"<p style='color:{self.model.theme.muted}'>Click a node to inspect it.</p>"
                + memory_html(self.model)
            )
        else:
            check = self.checks.html(node) if self.checks is not None else ""
            saved = self._saved(node)
            self.setHtml(node_html(self.model, node, check, saved))

    def _saved(self, node: str) -> dict[str, Any] | str | None:
        if self.fetches is not None:
            return self.fetches.saved(node)
        snapshot = self.model.snapshot
        left_out = snapshot is not None and node in snapshot.graph
        left_out = left_out and withheld_run(snapshot.graph.nodes[node].saved) is not None
        return NOT_AVAILABLE if left_out else None
