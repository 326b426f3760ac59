"""Check numerically: the inspector's link that asks the worker to compare a leaf's gradient
with float64 finite differences (explorer/runs/gradcheck.py), and the answer as HTML."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.data.reports import GradCheck
from explorer.ui.model import ExplorerModel
from explorer.ui.theme import Theme
from explorer.ui.worker_bridge import WorkerRequest

CHECK_LINK = "action:check"  # the inspector's anchor that starts a check of its node
RUNNING = "running"
ROWS = 20  # elements listed in the answer
_CANCELLED = "no answer came back"  # cancelled: Cancel, or the script ran again


class NumericChecks(QObject):
    """Checks on request and keeps each node's answer until the graph changes."""

    changed = Signal()  # a check started or answered

    def __init__(self, model: ExplorerModel, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.worker = worker
        self.results: dict[str, GradCheck | str] = {}  # node -> its answer, or RUNNING
        self._asked: dict[str, WorkerRequest] = {}  # node -> its check in the worker
        model.snapshot_changed.connect(self._forget)

    def request(self, node: str) -> None:
        """Check the leaf at node (its answer comes back through `changed`)."""
        if self.results.get(node) == RUNNING:
            return
        asked = self.worker.gradcheck(node)
        asked.answered.connect(lambda check: self._take(node, check))
        asked.failed.connect(lambda words: self._take(node, GradCheck(node, problem=words)))
        asked.cancelled.connect(lambda: self._take(node, GradCheck(node, problem=_CANCELLED)))
        self._asked[node] = asked
        self.results[node] = RUNNING
        self.changed.emit()

    def html(self, node: str) -> str:
        """The link, or the check's answer, for the inspector's page about node."""
        snapshot, theme = self.model.snapshot, self.model.theme
        if snapshot is None or node not in snapshot.graph:
            return ""
        if snapshot.graph.nodes[node].kind != "leaf":
            return ""
        found = self.results.get(node)
        link = f"<a href='{CHECK_LINK}'>Check numerically</a>"
        why = _muted("compare .grad with float64 finite differences", theme)
        out = [f"<h3>Check numerically</h3><p>{link} {why}</p>"]
        if found == RUNNING:
            waiting = "Checking: the script runs again for each difference…"
            out.append(f"<p>{_muted(waiting, theme)}</p>")
        elif isinstance(found, GradCheck):
            out.append(check_html(found, theme))
        return "".join(out)

    def _take(self, node: str, check: GradCheck) -> None:
        del self._asked[node]
        self.results[node] = check
        self.changed.emit()

    def _forget(self) -> None:
        # New values or another pass: old answers no longer hold, and late ones are not shown.
        self.results.clear()
        for asked in self._asked.values():
            asked.drop()
        self._asked.clear()


def check_html(check: GradCheck, theme: Theme) -> str:
    """A check's answer: the verdict, the two gradients side by side, and how it was made."""
    esc = html.escape
    if check.problem:
        text = check.problem[:1].upper() + check.problem[1:]
        return f"<p style='color:{theme.error}'>{esc(text)}.</p>"
    colour = theme.text if check.agree else theme.error
    out = [f"<p style='color:{colour}'><b>{esc(check.verdict)}</b></p>"]
    cell = f"style='padding:2px 8px;border:1px solid {theme.edge_faded};text-align:right'"
    head = "".join(f"<th {cell}>{h}</th>" for h in ("element", "autograd", "numeric", "|diff|"))
    rows = []
    for index, a, n in list(zip(check.indices, check.autograd, check.numeric, strict=True))[:ROWS]:
        where = "[" + ", ".join(map(str, index)) + "]" if index else "scalar"
        values = (where, f"{a:.8g}", f"{n:.8g}", f"{abs(a - n):.2g}")  # digits to compare
        rows.append("<tr>" + "".join(f"<td {cell}>{esc(v)}</td>" for v in values) + "</tr>")
    out.append(
        "<table cellspacing='0' style='border-collapse:collapse;margin:4px 0'>"
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )
    out.append(
        f"<p>max |diff| {check.max_abs:.3g} · max relative {check.max_rel:.3g}</p>"
        + "".join(f"<p>{_muted(esc(note), theme)}</p>" for note in check.notes)
    )
    return "".join(out)


def _muted(text: str, theme: Theme) -> str:
    return f"<span style='color:{theme.muted}'>{text}</span>"
