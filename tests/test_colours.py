"""Every colour text is written in reads at WCAG AA contrast (4.5:1) on what it is written on,
in both themes and their presenter versions."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.nodes import GraphNode
from explorer.view import grad_scale
from explorer.view.colours import DARK, LIGHT, Theme, presenter
from explorer.view.replay import StepView
from explorer.view.step_style import card_fill

AA = 4.5
THEMES = [LIGHT, DARK, presenter(LIGHT), presenter(DARK)]

# (text colour, what it is drawn on), by the Theme's names
ON_WINDOW = [
    (text, ground)
    for text in ("text", "muted", "selection", "error")  # selection: links too
    for ground in ("background", "panel")
]
ON_GRAPH = [
    ("flow", "panel"),  # a gradient's text on its pill
    ("call_frame", "background"),  # an open module call's name above its frame
    ("muted", "background"),  # what a constant was, beside its stub
    ("on_selection", "selection"),  # selected text in the editor, a chosen row in a list
]
CARD_FILLS = ("leaf", "op", "output", "done", "accumulated", "call_card")


def _luminance(colour: str) -> float:
    """Relative luminance as WCAG 2 defines it, from #rrggbb."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just short of AA
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_window_and_graph_text_pass_aa(theme: Theme) -> None:
    low = {
        f"{text} on {ground}": round(contrast(getattr(theme, text), getattr(theme, ground)), 2)
        for text, ground in ON_WINDOW + ON_GRAPH
    }
    assert {pair: ratio for pair, ratio in low.items() if ratio < AA} == {}


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_card_text_passes_aa_on_every_fill_a_card_takes(theme: Theme) -> None:
    low = {
        fill: round(contrast(theme.node_text, getattr(theme, fill)), 2)
        for fill in CARD_FILLS
        if contrast(theme.node_text, getattr(theme, fill)) < AA
    }
    assert low == {}


def test_the_fills_checked_are_the_fills_cards_take() -> None:
    step = StepView(done={"a", "b"}, accumulated="c")
    fills = {
        card_fill(GraphNode(kind="leaf"), "x", step),
        card_fill(GraphNode(kind="op"), "x", step),
        card_fill(GraphNode(kind="op", output=True), "x", step),
        card_fill(GraphNode(kind="op"), "a", step),
        card_fill(GraphNode(kind="leaf"), "c", step),
    }
    assert fills | {"call_card"} == set(CARD_FILLS)


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_the_scripts_highlighting_passes_aa_on_the_editor(theme: Theme) -> None:
    from explorer.ui.panels.editor import syntax_colours

    low = {
        kind: round(contrast(colour, theme.panel), 2)
        for kind, colour in syntax_colours(theme).items()
        if contrast(colour, theme.panel) < AA
    }
    assert low == {}


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_card_text_passes_aa_on_every_colour_of_the_gradient_size_scale(theme: Theme) -> None:
    scale = grad_scale.Scale(-9, 2)
    fills = {grad_scale.fill(10.0**e, scale, theme) for e in np.linspace(-10, 3, 200)}
    fills |= {grad_scale.fill(0.0, scale, theme), grad_scale.fill(float("nan"), scale, theme)}
    assert len(fills) > grad_scale.LEVELS // 2  # the scale is a scale, not one colour
    low = {f: round(contrast(theme.node_text, f), 2) for f in fills}
    assert {f: r for f, r in low.items() if r < AA} == {}
