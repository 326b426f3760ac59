"""The Help menu's pages: Getting Started, and the keyboard shortcuts the window really has."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.graph.view import GRAPH_KEYS

GETTING_STARTED = """
<h2>Getting started</h2>
<p>The window opens on the example from the notes: <i>y</i> = 2<i>x</i>&sup2; + 3, whose
derivative by the chain rule is 4<i>x</i> = 16 at <i>x</i> = 4.</p>
<ol>
<li><b>Type a script</b> in the Script pane on the left, for example:
<pre>x = torch.full((2, 3), 4.0, requires_grad=True)
y = 2 * x**2 + 3
y.backward(torch.ones_like(x))
x.grad</pre></li>
<li><b>Run it</b> with <b>Ctrl+Enter</b> (or Run &rarr; Run). A line that is only a name,
such as <code>x.grad</code>, shows its value in the Output pane under the script. A mistake
is underlined in the script, with a message and a hint below it.</li>
<li><b>Read the graph</b> in the centre: the inputs at the bottom and the data flowing up.
<code>x</code> is a leaf (it requires grad), each operation is a card with its op and shape,
and <code>y</code> is the output. Constants are faded dots: no gradient goes to them.
Wheel to zoom, drag to pan, <b>F</b> to fit, and <b>Ctrl+F</b> finds a node.</li>
<li><b>Backward</b> (the button below the graph, or Ctrl+B) replays the script's own
backward pass the way PyTorch's engine ran it. Step through it with <b>&larr;</b> and
<b>&rarr;</b> (click the graph first), Home and End, or Space to play. The running node is
outlined and the edges that carried gradient turn orange with their value.</li>
<li><b>Click a card</b> to see it in the Inspector on the right: its derivative in plain
maths (for <code>x**2</code>, <code>g &middot; 2 &middot; x^1</code>), its saved tensors and,
during a pass, the gradient it received and what it sent to each input.</li>
<li><b>Watch <code>.grad</code></b> in the Leaves and .grad pane: at the step where the
gradient reaches <code>x</code>, its <code>.grad</code> fills with 16, 4&middot;<i>x</i>.
On a leaf, Check numerically compares it with finite differences.</li>
<li><b>Lessons</b>: Help &rarr; Examples opens the lessons that come with the explorer: a
script with notes, and bookmarks at the interesting steps of its backward pass, shown in the
Lesson pane.</li>
<li><b>Exports</b>: File &rarr; Export writes the graph as PNG, SVG or PDF, the backward pass
as a GIF or frames, and the graph's data as JSON, GraphML or DOT.</li>
</ol>
<p>Help &rarr; Keyboard Shortcuts lists every key the window answers to.</p>
"""

FIND_BOX_KEYS = (
    ("Enter", "Next match"),
    ("Shift+Enter", "Previous match"),
)


def show_getting_started(window: QMainWindow) -> None:
    show_page(window, "Getting Started", GETTING_STARTED)


def show_shortcuts(window: QMainWindow) -> None:
    show_page(window, "Keyboard Shortcuts", shortcuts_html(window))


def show_page(parent: QWidget, title: str, html: str) -> None:
    """A page of plain HTML in a dialog of its own, closed with its Close button."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(560, 620)
    browser = QTextBrowser()
    browser.setObjectName("help-page")
    browser.setHtml(html)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    column = QVBoxLayout(dialog)
    column.addWidget(browser)
    column.addWidget(buttons)
    dialog.exec()


def shortcuts_html(window: QMainWindow) -> str:
    """Every shortcut of the window's actions, by menu, then the graph's and the find box's
    own keys: read from the actions themselves, so the page never names a key that is gone."""
    sections = [(menu, rows) for menu, rows in action_shortcuts(window).items()]
    sections.append(("In the graph", [(keys, what) for _, keys, what, _, _ in GRAPH_KEYS]))
    sections.append(("In the find box", list(FIND_BOX_KEYS)))
    parts = ["<h2>Keyboard shortcuts</h2>"]
    for title, rows in sections:
        parts.append(f"<h3>{escape(title)}</h3><table cellspacing='2' cellpadding='3'>")
        parts += [
            f"<tr><td><b>{escape(keys)}</b></td><td>{escape(what)}</td></tr>" for keys, what in rows
        ]
        parts.append("</table>")
    return "\n".join(parts)


def action_shortcuts(window: QMainWindow) -> dict[str, list[tuple[str, str]]]:
    """Menu title -> (keys, action text) for each of the window's actions with a shortcut,
    the menus in the menu bar's order."""
    order = [_plain(a.text()) for a in window.menuBar().actions()]
    found: dict[str, list[tuple[str, str]]] = {}
    for action in window.findChildren(QAction):
        if action.shortcut().isEmpty():
            continue
        found.setdefault(_menu_of(action), []).append((keys_text(action), _plain(action.text())))
    rank = {title: i for i, title in enumerate(order)}
    return dict(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))


def keys_text(action: QAction) -> str:
    """`Ctrl+Return, Ctrl+Enter`: every shortcut of action, as the menus write them."""
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(keys.toString(native) for keys in action.shortcuts())


def _menu_of(action: QAction) -> str:
    menus = [o for o in action.associatedObjects() if isinstance(o, QMenu)]
    return _plain(menus[0].title()) if menus else "Window"


def _plain(text: str) -> str:
    """A menu text without its mnemonic's & or its trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")
