"""Pictures that look like the window: steady GIF frames, SVG that every reader draws alike."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.ui.exports.images import ExportScene, ImageOptions
from explorer.ui.exports.passes import gif_bytes, plan_frames
from explorer.ui.exports.portable_svg import opaque_fills, portable_strokes
from explorer.ui.model import ExplorerModel
from explorer.ui.theme import LIGHT
from explorer.view.replay import Cursor
from tests.helpers import run_ok

ROOT = Path(__file__).resolve().parents[1]
CONVNET = """x = torch.randn(1, 1, 12, 12)
conv1 = nn.Conv2d(1, 4, 3)
conv2 = nn.Conv2d(4, 8, 3)
fc = nn.Linear(8 * 8 * 8, 10)
h = torch.relu(conv1(x))
h = torch.relu(conv2(h))
out = fc(h.flatten(1))
loss = torch.nn.functional.cross_entropy(out, torch.tensor([3]))
loss.backward()
"""
TALL = (
    "x = torch.ones(3, requires_grad=True)\ny = x\n"
    "for i in range(150):\n    y = y * 1.01\ny.sum().backward()\n"
)
BLOCKS = (
    "import torch\nfrom torch import nn\n\n"
    "model = nn.Sequential(*[nn.Sequential(nn.Linear(8, 8), nn.Tanh()) for _ in range(6)])\n"
    "example_input = torch.randn(2, 8)\n"
)


def model_of(script: str) -> ExplorerModel:
    model = ExplorerModel()
    model.set_snapshot(run_ok(script))
    return model


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=int)


def near(picture: np.ndarray, colour: str, reach: int = 40) -> np.ndarray:
    """Where a picture has colour, give or take reach in each channel."""
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.abs(picture - want).max(axis=2) <= reach


def mismatch(first: np.ndarray, second: np.ndarray) -> float:
    """The share of pixels that differ clearly (antialiased edges and fonts aside)."""
    assert first.shape == second.shape
    return float((np.abs(first - second).max(axis=2) > 80).mean())


# -- GIF ------------------------------------------------------------------------------------
def test_every_gif_frame_shows_the_graph_in_the_same_place(qapp) -> None:
    """The module frames' outlines never change colour during a pass: in a steady
    animation they are on the same pixels in every frame (the view no longer pans after
    the running card)."""
    model = model_of(CONVNET)
    plan = plan_frames(model, 0)
    data = gif_bytes(model, True, plan, ImageOptions(), 100)
    frames = []
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.n_frames == len(plan.steps) > 10
        for index in (0, gif.n_frames // 2, gif.n_frames - 1):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB"), dtype=int))
    outlines = [near(frame[:-40], LIGHT.call_frame) for frame in frames]  # the caption aside
    assert outlines[0].sum() > 500
    for later in outlines[1:]:
        overlap = (outlines[0] & later).sum() / (outlines[0] | later).sum()
        assert overlap > 0.9


def test_a_picture_at_any_step_frames_the_same_region(qapp) -> None:
    model = model_of(CONVNET)
    scene = ExportScene(model)
    try:
        framed, size = scene.view.view.viewRect(), scene.size
        for step in range(model.step_count(0)):
            scene.move_to(Cursor(0, step))
            assert scene.view.view.viewRect() == framed and scene.size == size
    finally:
        scene.close()


# -- SVG ------------------------------------------------------------------------------------
def _svg_and_qt_raster(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """The convnet's graph mid-pass as SVG, and as Qt draws the same picture to pixels."""
    model = model_of(CONVNET)
    model.move_to(Cursor(0, 5))
    scene = ExportScene(model)
    try:
        svg = tmp_path / "graph.svg"
        svg.write_bytes(scene.svg())
        return svg, pixels(scene.png(1.0))
    finally:
        scene.close()


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin)")
def test_librsvg_draws_the_svg_as_qt_draws_the_graph(qapp, tmp_path: Path) -> None:
    """Lines and outlines stay lines: before, librsvg drew each fifty times as wide, as
    blobs over half the picture."""
    svg, expected = _svg_and_qt_raster(tmp_path)
    out = tmp_path / "rsvg.png"
    subprocess.run(["rsvg-convert", str(svg), "-o", str(out)], check=True)
    assert mismatch(pixels(out.read_bytes()), expected) < 0.05


def _image_magick() -> bool:
    if shutil.which("convert") is None:
        return False
    done = subprocess.run(["convert", "-version"], capture_output=True, text=True)
    return done.returncode == 0 and "ImageMagick" in done.stdout


@pytest.mark.skipif(not _image_magick(), reason="ImageMagick's convert is not installed")
def test_image_magick_draws_the_svg_as_qt_draws_the_graph(qapp, tmp_path: Path) -> None:
    svg, expected = _svg_and_qt_raster(tmp_path)
    out = tmp_path / "magick.png"
    subprocess.run(["convert", str(svg), str(out)], check=True)
    assert mismatch(pixels(out.read_bytes()), expected) < 0.05


def test_non_scaling_strokes_are_written_in_their_groups_units() -> None:
    svg = (
        b'<g stroke-width="1.4" stroke-dasharray="5.6,2.8" transform="matrix(50,0,0,-50,3,4)"'
        b' >\n<path vector-effect="non-scaling-stroke" d="M0,0 L1,1"/>\n</g>\n'
        b'<g stroke-width="2" transform="matrix(50,0,0,-50,3,4)" >\n<text>a</text>\n</g>\n'
    )
    fixed = portable_strokes(svg)
    assert b"vector-effect" not in fixed
    assert b'stroke-width="0.028" stroke-dasharray="0.112,0.056"' in fixed
    assert b'stroke-width="2"' in fixed  # a group of no such stroke is left alone


def test_a_translucent_fill_becomes_its_colour_over_the_background() -> None:
    svg = b'<g fill="#000080" fill-opacity="0.25" stroke="none">'
    assert opaque_fills(svg, "#ffffff") == b'<g fill="#bfbfdf" fill-opacity="1" stroke="none">'
    assert opaque_fills(b'fill="#123456" fill-opacity="1"', "#ffffff").endswith(b'"1"')
