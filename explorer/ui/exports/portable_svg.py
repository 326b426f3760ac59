"""Qt's SVG made to draw the same in every reader: strokes in the units of their own group.

The view draws its lines with cosmetic pens (a width in pixels whatever the zoom) inside
groups scaled from graph units to pixels, about fifty times. QSvgGenerator writes such a
pen as `vector-effect="non-scaling-stroke"`, which browsers honour and librsvg, ImageMagick
and LibreOffice ignore: they draw every line and card outline fifty times as wide, as
solid blobs over the graph. Here each such stroke is written in its group's own units
instead, so it needs no vector-effect and looks the same everywhere.

The module frames are filled with a faint, translucent colour, which ImageMagick's own
reader draws opaque; they lie on the background only, so their fill is written as the
opaque colour it makes there.
"""

from __future__ import annotations

import math
import re

# One group's opening tag and what it holds up to the next group (Qt writes them flat).
_GROUP = re.compile(rb"(<g\b[^>]*>)(.*?)(?=<g\b|</g>)", re.DOTALL)
_MATRIX = re.compile(rb'transform="matrix\(([^)]*)\)"')
_NON_SCALING = b' vector-effect="non-scaling-stroke"'
_LENGTHS = (b"stroke-width", b"stroke-dashoffset", b"stroke-dasharray")
_TRANSLUCENT = re.compile(rb'fill="#([0-9a-fA-F]{6})" fill-opacity="(0(?:\.\d*)?)"')


def portable_strokes(svg: bytes) -> bytes:
    """svg with every non-scaling stroke rewritten as a plain stroke of the same look."""
    return _GROUP.sub(_portable_group, svg)


def opaque_fills(svg: bytes, background: str) -> bytes:
    """svg with each translucent fill replaced by its colour over background (#rrggbb)."""
    ground = _rgb(background.encode()[1:])

    def blended(match: re.Match[bytes]) -> bytes:
        alpha = float(match.group(2))
        colour = _rgb(match.group(1))
        mixed = (round(alpha * c + (1 - alpha) * g) for c, g in zip(colour, ground, strict=True))
        return b'fill="#%02x%02x%02x" fill-opacity="1"' % tuple(mixed)

    return _TRANSLUCENT.sub(blended, svg)


def _rgb(hex_digits: bytes) -> tuple[int, int, int]:
    return int(hex_digits[0:2], 16), int(hex_digits[2:4], 16), int(hex_digits[4:6], 16)


def _portable_group(match: re.Match[bytes]) -> bytes:
    tag, body = match.group(1), match.group(2)
    if _NON_SCALING not in body:
        return match.group(0)
    scale = _scale(tag)
    for name in _LENGTHS:
        tag = re.sub(
            rb"(\b" + name + rb'=")([^"]*)(")',
            lambda m: m.group(1) + _divided(m.group(2), scale) + m.group(3),
            tag,
        )
    return tag + body.replace(_NON_SCALING, b"")


def _scale(tag: bytes) -> float:
    """How many pixels one unit of the group's transform is (its matrix's mean scale)."""
    found = _MATRIX.search(tag)
    if found is None:
        return 1.0
    a, b, c, d = (float(v) for v in found.group(1).split(b",")[:4])
    return math.sqrt(abs(a * d - b * c)) or 1.0


def _divided(values: bytes, scale: float) -> bytes:
    """A length or a list of lengths (a dash pattern), in units scale times larger."""
    if scale == 1.0 or values.strip() in (b"", b"none"):
        return values
    parts = [float(v) / scale for v in re.split(rb"[,\s]+", values.strip()) if v]
    return b",".join(f"{v:.6g}".encode() for v in parts)
