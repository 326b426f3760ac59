"""Pictures that look like the window: steady GIF frames, SVG that every reader draws alike,
tall graphs on several PDF pages and in a PNG of a size viewers open, cards collapsed and
folded as asked."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.data.snapshot import Snapshot
from explorer.ui.exports import pages
from explorer.ui.exports.cards import UnknownCall, calls_named, choose_cards
from explorer.ui.exports.images import PDF_MAX_SIDE, ExportScene, ImageOptions, draw_picture
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


# -- tall graphs ----------------------------------------------------------------------------
def test_a_tall_graph_prints_on_a4_pages_top_to_bottom(qapp) -> None:
    model = model_of(TALL)
    scene = ExportScene(model, max_pixels=float("inf"), max_side=PDF_MAX_SIDE)
    try:
        plan = scene.page_plan()
        rows, _ = scene.card_spans()
        data = scene.pdf()
        height = scene.size.height()
    finally:
        scene.close()
    assert len(plan.pages) >= 3 and plan.scale >= pages.MIN_PRINT_SCALE
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") == len(plan.pages)
    assert data.count(b"/MediaBox [0 0 595") == len(plan.pages)  # A4 portrait, each
    tops = [page.source.top() for page in plan.pages]
    bottoms = [page.source.bottom() for page in plan.pages]
    assert tops[0] == 0 and bottoms[-1] == height and tops[1:] == bottoms[:-1]  # in order
    for cut in tops[1:]:  # each break passes between cards
        assert not any(top < cut < bottom for top, bottom in rows)


def test_page_breaks_fall_between_cards_when_they_can() -> None:
    cards = [(90.0, 110.0), (180.0, 230.0)]
    assert pages.breaks(300, 100, cards) == [0.0, 90.0, 180.0, 280.0, 300]
    assert pages.breaks(300, 100, [(10.0, 290.0)]) == [0.0, 100.0, 200.0, 300]  # no room
    assert pages.breaks(80, 100, cards) == [0.0, 80]


def test_a_png_is_at_most_8000_pixels_long_unless_asked(qapp) -> None:
    model = model_of(TALL)
    data, share = draw_picture(model, True, ".png")
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) <= 8_000 and max(image.size) > 7_900
    assert share < 1
    larger, _ = draw_picture(model, True, ".png", png_side=12_000)
    with Image.open(io.BytesIO(larger)) as image:
        assert 8_000 < max(image.size) <= 12_000


# -- collapsed and folded -------------------------------------------------------------------
@pytest.fixture(scope="module")
def blocks(tmp_path_factory) -> Snapshot:
    from explorer.runs.model_file import export_model_file

    path = tmp_path_factory.mktemp("blocks") / "blocks.py"
    path.write_text(BLOCKS)
    snapshot = export_model_file(path, BLOCKS)
    assert snapshot.problem is None, snapshot.problem
    return snapshot


def test_collapse_and_fold_draw_fewer_cards(qapp, blocks) -> None:
    def cards(collapse: str | None, fold: bool | None) -> int:
        model = ExplorerModel()
        model.set_snapshot(blocks)
        choose_cards(model, collapse, fold)
        return model.shown.graph.number_of_nodes()

    whole = cards(None, None)  # a small graph opens whole
    assert cards("none", False) == whole
    assert cards("all", False) == 6  # the six blocks inside the lone model
    assert cards("all", True) == 1  # folded: one card, "× 6"
    assert cards("model.0,model.1", False) < whole


def test_collapse_names_must_be_modules_of_the_run(qapp, blocks) -> None:
    model = ExplorerModel()
    model.set_snapshot(blocks)
    assert calls_named(model.call_tree, "model.2") == {
        c for c in model.call_tree.all_calls if c.startswith("model.2")
    }
    with pytest.raises(UnknownCall, match=r"model.9: no module of that name ran; modules: model"):
        calls_named(model.call_tree, "model.9")


def _cli(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    source = tmp_path / "script.py"
    source.write_text(script)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(source), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )


def test_cli_folds_collapses_and_sizes_a_picture(tmp_path: Path) -> None:
    done = _cli(tmp_path, BLOCKS, "-o", "f.png", "--trusted", "--collapse", "all", "--fold")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "f.png") as folded:
        assert max(folded.size) < 1_000  # one card
    done = _cli(tmp_path, BLOCKS, "-o", "w.png", "--trusted", "--max-px", "600")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "w.png") as whole:
        assert max(whole.size) <= 600
    assert "note: the PNG shows the graph at" in done.stderr
    assert "of a readable size (at most 600 px a side)" in done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("-o", "out.svg", "--max-px", "900"), "--max-px is for .png pictures, not .svg"),
        (("-o", "out.png", "--max-px", "50"), "--max-px must be from 100 to 32,000"),
        (("-o", "out.json", "--fold"), "--collapse and --fold are for .png, .svg, .pdf, .gif"),
        (("-o", "out.png", "--collapse", ","), "--collapse needs none, all or module names"),
        (("-o", "out.png", "--collapse", "enc"), "--collapse enc: no module of that name ran"),
    ],
)
def test_cli_refuses_wrong_drawing_arguments(tmp_path: Path, args: tuple, words: str) -> None:
    done = _cli(tmp_path, CONVNET, *args)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / args[1]).exists()
