"""The backward pass as an animation: a frame before the first step and one after each step,
as an animated GIF (assembled with Pillow: Qt writes no GIF) or a folder of PNG files."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from explorer.ui.exports.images import PNG_RATIO, ExportScene, ImageOptions, png_bytes
from explorer.ui.model import ExplorerModel
from explorer.view import labels
from explorer.view.replay import Cursor

MAX_FRAMES = 600  # longer passes are shown by evenly chosen steps
# Drawing a frame costs about 70 µs per node and edge here (a 7,500-item graph: 0.53 s a
# frame, or more under load), so a large graph gets fewer frames: a GIF is written in about a
# minute however large the graph.
FRAME_WORK = 250_000  # frames × (nodes + edges) at most
MIN_FRAMES = 12  # the start, the end and ten steps between, however large the graph
FRAME_MS = 800  # how long a frame is shown, by default
HOLD_LAST = 3  # the finished pass stays this many frames' time before the GIF loops
# Pillow holds every frame of a GIF (a byte a pixel) until it writes the file.
GIF_PIXEL_BUDGET = 200e6  # pixels of all frames together
GIF_FRAME_MAX_PIXELS = 1.2e6  # pixels of one GIF frame
PNG_FRAME_MAX_PIXELS = 4e6  # device pixels of one PNG frame
CAPTION_PX = 30  # the band under each frame that says which step it shows
MIN_FRAME_WIDTH = 480  # room for the caption beside a narrow graph
FRAME_NAME = "frame_{:04d}.png"
Progress = Callable[[int, int], bool]  # (frames done, frames in all) -> go on?


class Cancelled(Exception):
    """The user stopped an export before it finished."""


@dataclass(frozen=True)
class FramePlan:
    """Which steps of a pass become frames, and a note for the user when not all of them."""

    pass_index: int
    steps: list[int]  # step indices, -1 the start
    step_count: int
    cap: int = MAX_FRAMES  # the most frames this graph gets

    @property
    def note(self) -> str:
        shown = len(self.steps) - 1
        if shown >= self.step_count:
            return ""
        limit = f"{self.cap:,} frames at most"
        if self.cap < MAX_FRAMES:
            limit += " for a graph this large"
        return (
            f"The pass has {self.step_count:,} steps; the animation shows {shown:,} of them, "
            f"evenly spaced, and the last ({limit})."
        )


def plan_frames(model: ExplorerModel, pass_index: int, cap: int = MAX_FRAMES) -> FramePlan:
    """The start, then every step of the pass, or cap - 1 steps evenly chosen ending at the
    last; fewer for a graph so large that each frame takes long to draw."""
    graph = model.snapshot.graph
    items = graph.number_of_nodes() + graph.number_of_edges()
    cap = max(MIN_FRAMES, min(cap, FRAME_WORK // max(items, 1)))
    count = model.step_count(pass_index)
    return FramePlan(pass_index, frame_steps(count, cap), count, cap)


def frame_steps(count: int, cap: int = MAX_FRAMES) -> list[int]:
    if count + 1 <= cap:
        return list(range(-1, count))
    picked = {round((count - 1) * (k + 1) / (cap - 1)) for k in range(cap - 1)}
    return [-1, *sorted(picked)]


def frames(
    model: ExplorerModel,
    upward: bool,
    plan: FramePlan,
    options: ImageOptions,
    ratio: float,
    max_pixels: float,
    region: QRectF | None = None,
) -> Iterator[QImage]:
    """Each planned step drawn with its caption, on a view of its own (the window's replay
    does not move)."""
    budget = max_pixels / ratio**2
    scene = ExportScene(model, upward, region, max_pixels=budget, white=options.white)
    _fit_frame(scene, budget)
    try:
        for step in plan.steps:
            scene.move_to(Cursor(plan.pass_index, step))
            yield _captioned(scene, ratio, caption(scene.model, plan, step))
    finally:
        scene.close()


def _fit_frame(scene: ExportScene, budget: float) -> None:
    """Draw smaller if the frame (at least MIN_FRAME_WIDTH wide, with its caption) would
    have more than budget pixels: a long, narrow graph is centred in the frame."""
    width, height = scene.region.width(), scene.region.height()
    scale = scene.scale
    if max(width * scale, MIN_FRAME_WIDTH) * (height * scale + CAPTION_PX) <= budget:
        return
    if width * scale > MIN_FRAME_WIDTH:  # the graph is the frame's width: shrink both ways
        scale = min(scale, math.sqrt(budget / (width * height)))
    if width * scale <= MIN_FRAME_WIDTH:
        scale = min(scale, (budget / MIN_FRAME_WIDTH - CAPTION_PX) / height)
    scene.set_scale(max(scale, 1e-3))


def caption(model: ExplorerModel, plan: FramePlan, step: int) -> str:
    """`Step 2 of 4 · mul (MulBackward0)`: which step a frame shows and the node that ran."""
    where = f"Pass {plan.pass_index + 1} of {model.pass_count} · " if model.pass_count > 1 else ""
    if step < 0:
        return f"{where}Before the backward pass ({plan.step_count} steps)"
    node = model.snapshot.passes[plan.pass_index].steps[step].node
    attrs = model.snapshot.graph.nodes[node]
    ran = labels.node_title(attrs)
    if attrs.kind == "leaf":
        ran = f"{ran}.grad accumulates"
    return f"{where}Step {step + 1} of {plan.step_count} · {ran} ({attrs.op or '?'})"


def _captioned(scene: ExportScene, ratio: float, text: str) -> QImage:
    picture = scene.image(ratio)
    height = scene.size.height()
    width = max(scene.size.width(), MIN_FRAME_WIDTH)
    frame = QImage(
        round(width * ratio), round((height + CAPTION_PX) * ratio), QImage.Format.Format_RGB32
    )
    frame.setDevicePixelRatio(ratio)
    frame.fill(scene.background)
    painter = QPainter(frame)
    try:
        painter.drawImage((width - scene.size.width()) // 2, 0, picture)
        font = QFont()
        font.setPixelSize(15)
        painter.setFont(font)
        painter.setPen(QColor(scene.model.theme.text if not _is_white(scene) else "#1d2330"))
        band = QRectF(8, height, width - 16, CAPTION_PX)
        flags = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(band, int(flags), _elided(painter, text, band.width()))
    finally:
        painter.end()
    return frame


def _is_white(scene: ExportScene) -> bool:
    return scene.background == QColor("#ffffff")


def _elided(painter: QPainter, text: str, width: float) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))


# -- files ----------------------------------------------------------------------------------
def gif_bytes(
    model: ExplorerModel,
    upward: bool,
    plan: FramePlan,
    options: ImageOptions,
    frame_ms: int = FRAME_MS,
    region: QRectF | None = None,
    progress: Progress | None = None,
) -> bytes:
    """An animated GIF of the planned frames that loops, the finished pass held longer."""
    budget = min(GIF_FRAME_MAX_PIXELS, GIF_PIXEL_BUDGET / len(plan.steps))
    images = frames(model, upward, plan, options, 1.0, budget, region)
    palettes = (_paletted(image) for image in _counted(images, len(plan.steps), progress))
    first = next(palettes)
    durations = [frame_ms] * len(plan.steps)
    durations[-1] = frame_ms * HOLD_LAST
    out = io.BytesIO()
    first.save(
        out,
        format="GIF",
        save_all=True,
        append_images=palettes,
        duration=durations,
        loop=0,
        disposal=1,
    )
    return out.getvalue()


def write_png_frames(
    model: ExplorerModel,
    upward: bool,
    plan: FramePlan,
    options: ImageOptions,
    folder: Path,
    region: QRectF | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """frame_0000.png (the start), frame_0001.png… into folder; none are left on failure."""
    images = frames(model, upward, plan, options, PNG_RATIO, PNG_FRAME_MAX_PIXELS, region)
    written: list[Path] = []
    try:
        for index, image in enumerate(_counted(images, len(plan.steps), progress)):
            path = folder / FRAME_NAME.format(index)
            path.write_bytes(png_bytes(image))
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def _counted(images: Iterator[QImage], total: int, progress: Progress | None) -> Iterator[QImage]:
    for done, image in enumerate(images):
        if progress is not None and not progress(done, total):
            images.close()
            raise Cancelled
        yield image


def _paletted(image: QImage) -> Image.Image:
    """A QImage as a Pillow image of at most 256 colours, without dithering: the cards and
    lines are flat colours, and dithering would speckle them."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    size = (rgb.width(), rgb.height())
    data = bytes(rgb.constBits())
    picture = Image.frombuffer("RGB", size, data, "raw", "RGB", rgb.bytesPerLine(), 1)
    return picture.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
