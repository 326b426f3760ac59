"""The colours of the graph and the window, light and dark, and their high-contrast versions.

Every colour text is written in reads at 4.5:1 or more against what it is written on (WCAG
AA, tests/test_colours.py): text and links on the window and the graph, a card's text on each
fill a card takes, a gradient's text on its pill, a module frame's name on the graph.

Plain data: the window's theme (explorer/ui/theme.py) and the HTML stepper (explorer/page/)
colour the same things the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    panel: str
    text: str
    muted: str
    edge: str
    edge_faded: str
    flow: str  # edges that carried gradient
    active: str  # the node the engine is running and what it sends
    leaf: str
    op: str
    output: str
    const: str
    done: str  # nodes that already ran in this pass
    accumulated: str
    selection: str
    error: str
    node_text: str
    call_card: str  # a collapsed module call's card
    call_frame: str  # the frame of an open module call and a call card's outline
    # gradient size, from the smallest of a pass (cool) to the largest (warm): card fills
    grad_scale: tuple[str, ...] = ()
    nan_fill: str = ""  # a card whose arrived gradient holds NaN or infinity
    grad_edges: tuple[str, ...] = ()  # the same scale for edges: lines, so stronger colours
    line_scale: float = 1.0  # how much wider than usual lines and outlines are drawn
    on_selection: str = "#ffffff"  # text on the selection colour: selected text, a chosen row


LIGHT = Theme(
    name="light", background="#fbfbfd", panel="#ffffff", text="#1d2330", muted="#6b7280",
    edge="#9aa3b2", edge_faded="#d4d8df", flow="#c84d0a", active="#d6336c",
    leaf="#d0ebff", op="#eef0f4", output="#d3f9d8", const="#f1f3f5", done="#ffe8cc",
    accumulated="#ffd43b", selection="#1971c2", error="#c92a2a", node_text="#1d2330",
    call_card="#e5dbff", call_frame="#7048e8",
    grad_scale=("#a5d8ff", "#c3fae8", "#fff3bf", "#ffc078", "#ff8787"), nan_fill="#e599f7",
    grad_edges=("#1c7ed6", "#0ca678", "#f59f00", "#e8590c", "#e03131"),
)  # fmt: skip
DARK = Theme(
    name="dark", background="#15171c", panel="#1d2027", text="#e6e8ee", muted="#9aa1ae",
    edge="#5c6473", edge_faded="#343944", flow="#ff922b", active="#f06595",
    leaf="#1f4e79", op="#2b2f38", output="#1e5631", const="#23262d", done="#5c3b14",
    accumulated="#876900", selection="#4dabf7", error="#ff6b6b", node_text="#f1f3f5",
    call_card="#362a5e", call_frame="#9775fa", on_selection="#15171c",
    grad_scale=("#1c4a73", "#0b5961", "#5c4d00", "#7a3e00", "#8a1c1c"), nan_fill="#6b1f7a",
    grad_edges=("#4dabf7", "#38d9a9", "#fcc419", "#ff922b", "#ff6b6b"),
)  # fmt: skip
THEMES = {"light": LIGHT, "dark": DARK}

# For a projector: stronger colours, black on white or white on black, lines twice as wide.
_PRESENTER = {
    "light": dict(
        background="#ffffff", panel="#ffffff", text="#000000", muted="#343a40",
        edge="#495057", edge_faded="#adb5bd", flow="#cf450e", active="#c2255c",
        leaf="#74c0fc", op="#dee2e6", output="#69db7c", const="#e9ecef", done="#ffc078",
        accumulated="#fab005", selection="#1864ab", node_text="#000000", call_card="#b197fc",
        call_frame="#6741d9",
    ),
    "dark": dict(
        background="#000000", panel="#101114", text="#ffffff", muted="#ced4da",
        edge="#adb5bd", edge_faded="#495057", flow="#ff922b", active="#ff6b9a",
        leaf="#1971c2", op="#343a40", output="#29843b", const="#212529", done="#a85d00",
        accumulated="#8a7000", selection="#74c0fc", node_text="#ffffff", call_card="#5f3dc4",
        call_frame="#b197fc", on_selection="#000000",
    ),
}  # fmt: skip


def presenter(theme: Theme) -> Theme:
    """The high-contrast version of a theme, for presenting to a room."""
    if theme.name.endswith("-presenter"):
        return theme
    base = "dark" if theme.name.startswith("dark") else "light"
    return replace(theme, name=f"{base}-presenter", line_scale=2.0, **_PRESENTER[base])
