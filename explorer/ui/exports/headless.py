"""Pictures of a run without a window, for `export -o OUT.png|.svg|.pdf|.gif`.

The command line has the run's Snapshot already (plain data); this draws it with the
window's own view on Qt's offscreen platform, so it needs no display.
"""

from __future__ import annotations

import os
from pathlib import Path

from explorer.data.snapshot import Snapshot
from explorer.ui.exports import passes as pass_export
from explorer.ui.exports.images import ImageOptions, picture_bytes, write_file
from explorer.ui.main import make_app
from explorer.ui.model import ExplorerModel
from explorer.ui.theme import THEMES
from explorer.view.replay import Cursor

PICTURE_FORMATS = (".png", ".svg", ".pdf", ".gif")


class StepOutOfRange(ValueError):
    """--step names a step the last backward pass does not have."""


def write_picture(
    snapshot: Snapshot,
    path: Path,
    step: int | None = None,
    frame_ms: int = pass_export.FRAME_MS,
    theme: str = "light",
    white: bool = False,
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
    model.set_theme(THEMES[theme])
    model.set_snapshot(snapshot, cursor_after(snapshot, step))
    options = ImageOptions(white=white)
    if suffix != ".gif":
        write_file(path, picture_bytes(model, True, suffix, options))
        return ""
    plan = pass_export.plan_frames(model, model.pass_count - 1)
    write_file(path, pass_export.gif_bytes(model, True, plan, options, frame_ms))
    return plan.note


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
