"""The colours of the graph and the window, light and dark, and their high-contrast versions.

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
    line_scale: float = 1.0  # how much wider than usual lines and outlines are drawn


LIGHT = Theme(
    name="light", background="#fbfbfd", panel="#ffffff", text="#1d2330", muted="#6b7280",
    edge="#9aa3b2", edge_faded="#d4d8df", flow="#e8590c", active="#d6336c",
    leaf="#d0ebff", op="#eef0f4", output="#d3f9d8", const="#f1f3f5", done="#ffe8cc",
    accumulated="#ffd43b", selection="#1c7ed6", error="#c92a2a", node_text="#1d2330",
    call_card="#e5dbff", call_frame="#9775fa",
)  # fmt: skip
DARK = Theme(
    name="dark", background="#15171c", panel="#1d2027", text="#e6e8ee", muted="#9aa1ae",
    edge="#5c6473", edge_faded="#343944", flow="#ff922b", active="#f06595",
    leaf="#1f4e79", op="#2b2f38", output="#1e5631", const="#23262d", done="#5c3b14",
    accumulated="#b08900", selection="#4dabf7", error="#ff6b6b", node_text="#f1f3f5",
    call_card="#362a5e", call_frame="#9775fa",
)  # fmt: skip
THEMES = {"light": LIGHT, "dark": DARK}

# For a projector: stronger colours, black on white or white on black, lines twice as wide.
_PRESENTER = {
    "light": dict(
        background="#ffffff", panel="#ffffff", text="#000000", muted="#343a40",
        edge="#495057", edge_faded="#adb5bd", flow="#d9480f", active="#c2255c",
        leaf="#74c0fc", op="#dee2e6", output="#69db7c", const="#e9ecef", done="#ffc078",
        accumulated="#fab005", selection="#1864ab", node_text="#000000", call_card="#b197fc",
        call_frame="#6741d9",
    ),
    "dark": dict(
        background="#000000", panel="#101114", text="#ffffff", muted="#ced4da",
        edge="#adb5bd", edge_faded="#495057", flow="#ff922b", active="#ff6b9a",
        leaf="#1c7ed6", op="#343a40", output="#2b8a3e", const="#212529", done="#a85d00",
        accumulated="#f59f00", selection="#74c0fc", node_text="#ffffff", call_card="#5f3dc4",
        call_frame="#b197fc",
    ),
}  # fmt: skip


def presenter(theme: Theme) -> Theme:
    """The high-contrast version of a theme, for presenting to a room."""
    if theme.name.endswith("-presenter"):
        return theme
    base = "dark" if theme.name.startswith("dark") else "light"
    return replace(theme, name=f"{base}-presenter", line_scale=2.0, **_PRESENTER[base])
