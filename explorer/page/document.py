"""The stepper as HTML: a whole page for a file, or a fragment for a notebook's output.

Self-contained: its style and script are inline, and it loads nothing from anywhere.
"""

from __future__ import annotations

import json
import secrets
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from explorer.data.snapshot import Snapshot
from explorer.page import steps
from explorer.page.scene import Scene, scene_of
from explorer.page.svg import SCALE, svg
from explorer.view.colours import DARK, LIGHT, Theme
from explorer.view.geometry import midpoint

FORMAT = 1  # of the data the page's script reads


def page(snapshot: Snapshot, title: str = "Backward pass", origin: str = "") -> str:
    """A whole HTML document: the stepper fills the window; ← → Space step and play anywhere,
    and the address's `#step=K` opens step K of the last pass."""
    body = fragment(snapshot, title, origin, standalone=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        # No request may leave the page: not a script, a style, a font or an image.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title></head>"
        f'<body class="agx-page">{body}</body></html>\n'
    )


def write_page(snapshot: Snapshot, path: Path, title: str = "", origin: str = "") -> None:
    path.write_text(page(snapshot, title or path.stem, origin), encoding="utf-8")


def fragment(
    snapshot: Snapshot, title: str = "Backward pass", origin: str = "", standalone: bool = False
) -> str:
    """The stepper as one element with its own style and script, for a notebook's output:
    its keys work while it has the focus, and several can share a page."""
    scene = scene_of(snapshot)
    prefix = "agx" + secrets.token_hex(4)
    roles = steps.card_roles(scene)
    texts = steps.Texts()
    data = {
        "format": FORMAT,
        "standalone": standalone,
        "roles": roles,
        "lines": steps.card_lines(scene),
        "info": steps.card_info(scene, snapshot, texts),
        "edges": len(scene.geo.edge_keys),
        "mid": _midpoints(scene),
        "passes": steps.passes(scene, snapshot, texts),
    }
    data["texts"] = texts.table
    heading = escape(title) + (
        f' <span class="agx-origin">{escape(origin)}</span>' if origin else ""
    )
    return (
        f'<div class="agx" id="{prefix}" tabindex="0">'
        # Shown only where the script does not run (a notebook that is not trusted strips
        # scripts and styles alike): the script removes it as it starts.
        '<p class="agx-untrusted">This stepper needs its script to run: in a notebook, run '
        "the cell again, or trust the notebook (JupyterLab: Trust Notebook in the command "
        "palette).</p>"
        f"<style>{_style()}</style>"
        f'<div class="agx-head"><div class="agx-title">{heading}</div>{_legend()}</div>'
        '<div class="agx-body">'
        f'<div class="agx-graph">{svg(scene, prefix, roles, data["lines"])}'
        '<div class="agx-zoom"><button type="button" class="agx-fit" '
        'title="Fit the graph (F)">Fit</button></div></div>'
        '<div class="agx-inspector" aria-live="polite">'
        '<p class="agx-muted">Click a card to inspect it.</p></div></div>'
        f"{_controls()}"
        f'<script type="application/json" class="agx-data">{_json(data)}</script>'
        f"<script>{_script()}</script>"
        "</div>"
    )


def _midpoints(scene: Scene) -> dict[int, list[float]]:
    """Where each edge's gradient label sits (the window's place for it), on graphs that have
    labels at all."""
    geo = scene.geo
    if len(geo.edge_keys) > steps.EDGE_LABELS_MAX:
        return {}
    out = {}
    for i in range(len(geo.edge_keys)):
        x, y = midpoint(geo.edge_line(i))
        out[i] = [round(x * SCALE, 1), round(-y * SCALE, 1)]
    return out


def _json(data: Any) -> str:
    """JSON that cannot end the script element it sits in."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _controls() -> str:
    def button(cls: str, text: str, tip: str) -> str:
        label = f'title="{tip}" aria-label="{tip}"'
        return f'<button type="button" class="{cls}" {label}>{text}</button>'

    return (
        '<div class="agx-stepper">'
        + button("agx-first", "⇤", "First step (Home)")
        + button("agx-back", "◀", "Step back (←)")
        + button("agx-forward", "▶", "Step forward (→)")
        + button("agx-last", "⇥", "Last step (End)")
        + button("agx-play", "Play", "Play or pause (Space)")
        + button("agx-tonan", "First NaN", "Go to where the first NaN started (N)")
        + '<input type="range" class="agx-slider" min="0" max="0" value="0" '
        'aria-label="Step">'
        '<span class="agx-caption" role="status"></span>'
        '<select class="agx-speed" title="Playback speed, steps per second">'
        + "".join(
            f'<option value="{v}"{" selected" if v == 2 else ""}>{v:g} steps/s</option>'
            for v in (0.5, 1, 2, 4, 8, 30)
        )
        + '</select><select class="agx-pass" title="Backward pass to replay"></select>'
        "</div>"
    )


def _legend() -> str:
    items = [
        ("leaf", "■", "leaf tensor"),
        ("op", "■", "operation"),
        ("output", "■", "output"),
        ("const", "●", "constant (no gradient)"),
        ("done", "■", "ran in backward"),
        ("active", "□", "running now"),
        ("accumulated", "■", ".grad just filled"),
        ("flow", "━━", "gradient flowed"),
        ("norm", "‖·‖", "norm of a larger tensor"),
    ]
    spans = "".join(
        f'<span><span class="agx-sw agx-sw-{role}">{mark}</span> {text}</span>'
        for role, mark, text in items
    )
    return f'<div class="agx-legend">{spans}</div>'


def _theme_vars(theme: Theme) -> str:
    names = (
        "background", "panel", "text", "muted", "edge", "edge_faded", "flow", "active", "leaf",
        "op", "output", "const", "done", "accumulated", "selection", "node_text", "call_card",
        "call_frame", "error",
    )  # fmt: skip
    return ";".join(f"--agx-{name.replace('_', '-')}:{getattr(theme, name)}" for name in names)


def _style() -> str:
    sheet = resources.files("explorer.page").joinpath("stepper.css").read_text(encoding="utf-8")
    light, dark = _theme_vars(LIGHT), _theme_vars(DARK)
    return sheet.replace("/*LIGHT*/", light).replace("/*DARK*/", dark)


def _script() -> str:
    return resources.files("explorer.page").joinpath("stepper.js").read_text(encoding="utf-8")
