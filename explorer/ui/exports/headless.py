"""Pictures of a run without a window, for `export -o OUT.png|.svg|.pdf|.gif`.

The command line has the run's Snapshot already (plain data); this draws it with the
window's own view on Qt's offscreen platform, so it needs no display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from explorer.data.snapshot import Snapshot
from explorer.ui.exports import passes as pass_export
from explorer.ui.exports.cards import choose_cards
from explorer.ui.exports.images import PNG_MAX_SIDE, ImageOptions, draw_picture, write_file
from explorer.ui.main import make_app
from explorer.ui.model import ExplorerModel
from explorer.ui.theme import THEMES
from explorer.view.replay import Cursor

PICTURE_FORMATS = (".png", ".svg", ".pdf", ".gif")
SMALL_SHARE = 0.5  # a PNG drawn below half its readable size gets a note saying so


class StepOutOfRange(ValueError):
    """--step names a step the last backward pass does not have."""


@dataclass(frozen=True)
class Drawing:
    """How the command line draws the graph, beyond the window's defaults.

    collapse: None, as the window opens the graph; "none", every op as its own card; "all",
    the outermost module calls as cards (inside a lone outer call, its parts); or module
    names, comma-separated, each collapsing the calls of that module and of those inside it.
    fold: repeated identical blocks as one card (None: as the window opens the graph).
    max_px: the longest side of a PNG, in pixels.
    """

    theme: str = "light"
    white: bool = False
    collapse: str | None = None
    fold: bool | None = None
    max_px: int = PNG_MAX_SIDE


def write_picture(
    snapshot: Snapshot,
    path: Path,
    step: int | None = None,
    frame_ms: int = pass_export.FRAME_MS,
    drawing: Drawing = Drawing(),
) -> str:
    """Draw snapshot into path (its suffix says how) and return a note for the user, if any.

    step: show the state after that many steps of the last backward pass (0: before it);
    None: after its last step. A .gif shows every step of the last pass.
    """
    suffix = path.suffix.lower()
    if suffix not in PICTURE_FORMATS:
        raise ValueError(f"unknown picture format {suffix!r}; use {', '.join(PICTURE_FORMATS)}")
    if suffix == ".gif" and step is not None:
        raise StepOutOfRange("--step is for a single picture; a .gif shows every step")
    if suffix == ".gif" and not snapshot.passes:
        raise StepOutOfRange("the script runs no backward pass, so there is nothing to animate")
    # Before Qt starts: a picture needs no display, and there may be none.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    make_app()
    model = ExplorerModel()
    model.set_theme(THEMES[drawing.theme])
    model.set_snapshot(snapshot, cursor_after(snapshot, step))
    choose_cards(model, drawing.collapse, drawing.fold)
    options = ImageOptions(white=drawing.white)
    if suffix != ".gif":
        data, share = draw_picture(model, True, suffix, options, png_side=drawing.max_px)
        write_file(path, data)
        return _shrunk_note(share, drawing.max_px) if suffix == ".png" else ""
    plan = pass_export.plan_frames(model, model.pass_count - 1)
    write_file(path, pass_export.gif_bytes(model, True, plan, options, frame_ms))
    return plan.note


def _shrunk_note(share: float, max_px: int) -> str:
    """A word when the PNG had to be drawn too small to read, and what would help."""
    if share >= SMALL_SHARE:
        return ""
    return (
        f"the PNG shows the graph at {share:.0%} of a readable size (at most {max_px:,} px "
        "a side); --fold or --collapse draw fewer cards, --max-px a larger picture, and a "
        ".pdf prints it readably on several pages"
    )


def cursor_after(snapshot: Snapshot, step: int | None) -> Cursor:
    """The replay position after `step` steps of the last pass (None: all of them)."""
    if not snapshot.passes:
        if step:
            raise StepOutOfRange(f"--step {step}: the script runs no backward pass")
        return Cursor(0, -1)
    last = len(snapshot.passes) - 1
    count = len(snapshot.passes[last].steps)
    if step is None:
        return Cursor(last, count - 1)
    if not 0 <= step <= count:
        raise StepOutOfRange(f"--step {step}: the last backward pass has steps 0 to {count}")
    return Cursor(last, step - 1)
