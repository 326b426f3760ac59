"""The graph as SVG markup, drawn as the window draws it; the page's script restyles it per step.

Scene units are the window's (a card is 2.2 × 1.1, y up); the SVG's are SCALE times larger,
with y down. Classes name roles, not colours: the page's style sheet colours them per theme.
"""

from __future__ import annotations

from html import escape

import numpy as np

from explorer.page.scene import Scene, bounds
from explorer.view import labels
from explorer.view.geometry import CARD_H, CARD_W, STUB_SIZE

SCALE = 60.0  # SVG units per scene unit
LINE = 18.0  # a card's text line, as the window's LINE_HEIGHT
FONT = 15.0  # a card's text at full size
TEXT_ROOM = CARD_W * SCALE * 0.94  # the widest a line of a card may be
CHAR_EM = 0.56  # about how wide a character is, in ems, for fitting text without a browser
PILL_H = 0.36 * SCALE
PILL_FONT = PILL_H * 0.75
MARGIN = 0.6 * SCALE


def _n(value: float) -> str:
    """A coordinate with one decimal, without a trailing .0: the file stays small."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _xy(x: float, y: float) -> str:
    return f"{_n(x * SCALE)},{_n(-y * SCALE)}"


def card_font(lines: list[str]) -> float:
    """The text size that fits a card's longest line in its width, as the window shrinks it."""
    longest = max((len(line) for line in lines), default=1)
    return min(FONT, TEXT_ROOM / max(longest * CHAR_EM, 1e-9))


def view_box(scene: Scene) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bounds(scene)
    return (
        x0 * SCALE - MARGIN,
        -y1 * SCALE - MARGIN,
        (x1 - x0) * SCALE + 2 * MARGIN,
        (y1 - y0) * SCALE + 2 * MARGIN,
    )


def svg(scene: Scene, prefix: str, card_roles: list[str], card_lines: list[list[str]]) -> str:
    """The whole graph before any step, as two layers with one view box: module frames and
    constants behind, which no step changes, and the edges, cards and gradient labels a step
    restyles in front (so a step repaints the front only)."""
    x, y, w, h = view_box(scene)
    box = f'viewBox="{_n(x)} {_n(y)} {_n(w)} {_n(h)}"'
    return "".join(
        [
            f'<svg class="agx-behind" xmlns="http://www.w3.org/2000/svg" {box} aria-hidden="true">',
            _frames(scene),
            _stubs(scene),
            "</svg>",
            f'<svg class="agx-svg" xmlns="http://www.w3.org/2000/svg" id="{prefix}-svg" {box} '
            'role="img" aria-label="The autograd graph">',
            _edges(scene),
            _cards(scene, prefix, card_roles, card_lines),
            '<g class="agx-pills"></g>',
            "</svg>",
        ]
    )


def _frames(scene: Scene) -> str:
    out = ['<g class="agx-frames">']
    name_top = 0.05
    for label, _depth, (x0, y0, x1, y1) in scene.frames:
        out.append(
            f'<rect class="agx-frame" x="{_n(x0 * SCALE)}" y="{_n(-y1 * SCALE)}" '
            f'width="{_n((x1 - x0) * SCALE)}" height="{_n((y1 - y0) * SCALE)}" rx="15"/>'
            f'<text class="agx-fname" x="{_n((x0 + 0.15) * SCALE)}" '
            f'y="{_n(-(y1 - name_top - 0.27) * SCALE)}">{escape(label)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _stubs(scene: Scene) -> str:
    """A faded dot beside each op for every input that needs no gradient, with what it was."""
    geo, graph = scene.geo, scene.shown.graph
    out = ['<g class="agx-stubs">']
    for (node, slot), (cx, cy), line in zip(
        geo.stub_owner, geo.stub_pos, geo.stub_lines, strict=True
    ):
        (ax, ay), (bx, by) = line
        text = labels.const_text(graph.nodes[node], slot)
        out.append(
            f'<path class="agx-stubline" d="M{_xy(ax, ay)}L{_xy(bx, by)}"/>'
            f'<circle class="agx-stub" cx="{_n(cx * SCALE)}" cy="{_n(-cy * SCALE)}" '
            f'r="{_n(STUB_SIZE / 2 * SCALE)}"/>'
            f'<text class="agx-const" x="{_n((cx + 0.2) * SCALE)}" '
            f'y="{_n(-cy * SCALE + 4)}">{escape(text)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _edges(scene: Scene) -> str:
    """Each edge one path, its arrowhead drawn with it as the window draws it."""
    arrows = scene.geo.arrows()
    out = ['<g class="agx-edges">']
    if not len(arrows.owner):
        return '<g class="agx-edges"></g>'
    starts = np.flatnonzero(np.r_[True, arrows.owner[1:] != arrows.owner[:-1]])
    ends = np.r_[starts[1:], len(arrows.owner)]
    for start, end in zip(starts, ends, strict=True):
        d, move = [], True
        for j in range(start, end):
            d.append(("M" if move else "L") + _xy(arrows.x[j], arrows.y[j]))
            move = not arrows.connect[j]
        out.append(f'<path class="agx-e" data-e="{int(arrows.owner[start])}" d="{"".join(d)}"/>')
    out.append("</g>")
    return "".join(out)


def _cards(scene: Scene, prefix: str, roles: list[str], lines: list[list[str]]) -> str:
    """Every card one shape, used as often as there are cards: the file stays small. The shape
    takes its fill and outline from its card (inherited), so a class on the card restyles it."""
    w, h = CARD_W * SCALE, CARD_H * SCALE
    shape = f"{prefix}-card"
    out = [
        f'<defs><rect id="{shape}" x="{_n(-w / 2)}" y="{_n(-h / 2)}" width="{_n(w)}" '
        f'height="{_n(h)}" rx="{_n(min(w, h) * 0.18)}" vector-effect="non-scaling-stroke"/></defs>'
        '<g class="agx-cards">'
    ]
    for i, (x, y) in enumerate(scene.geo.pos):
        out.append(
            f'<g class="agx-c agx-{roles[i]}" data-c="{i}" data-id="{escape(scene.cards[i])}" '
            f'transform="translate({_xy(x, y)})"><use href="#{shape}"/>{card_text(lines[i])}</g>'
        )
    out.append("</g>")
    return "".join(out)


def card_text(lines: list[str]) -> str:
    """The card's lines centred on it, as a block (the script moves them when one is added)."""
    size = card_font(lines)
    step = LINE * size / FONT
    first = -(len(lines) - 1) / 2 * step + size * 0.35
    spans = "".join(
        f'<tspan x="0" y="{_n(first + k * step)}">{escape(line)}</tspan>'
        for k, line in enumerate(lines)
    )
    return f'<text style="font-size:{_n(size)}px">{spans}</text>'
