"""A picture on A4 pages: one page when the graph fits it readably, else pages in reading order.

A graph too tall (or wide) for one page at half its readable size is printed at a readable
scale across pages, top to bottom, then left to right. Pages break between cards where they
can, so a card is not cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import QMarginsF, QRectF
from PySide6.QtGui import QPageLayout, QPageSize

SCREEN_DPI = 96  # a pixel of the picture is a pixel of a 96 dpi screen on the page
PDF_MARGIN_MM = 10.0
MIN_PRINT_SCALE = 0.5  # smaller than half its readable size, a card's text is hard to read
BREAK_ROOM = 0.6  # a page break may come this early (a share of the page) to miss a card

Span = tuple[float, float]  # where a card lies along one axis of the picture, in pixels


@dataclass(frozen=True)
class Page:
    """One printed page: the part of the picture it shows, in the picture's pixels."""

    source: QRectF


@dataclass(frozen=True)
class PagePlan:
    """The page layout and the pages, in order, with the picture's pixels per page pixel."""

    layout: QPageLayout
    pages: list[Page]
    scale: float  # page pixels per picture pixel (1: the readable size)


def a4(width: float, height: float) -> QPageLayout:
    """A4 in the picture's orientation, with margins."""
    orientation = (
        QPageLayout.Orientation.Landscape if width > height else QPageLayout.Orientation.Portrait
    )
    margins = QMarginsF(PDF_MARGIN_MM, PDF_MARGIN_MM, PDF_MARGIN_MM, PDF_MARGIN_MM)
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), orientation, margins)


def room(layout: QPageLayout) -> QRectF:
    """The printable part of a page, in page pixels, from its top left corner."""
    rect = QRectF(layout.paintRectPixels(SCREEN_DPI))
    rect.moveTo(0, 0)
    return rect


def plan_pages(width: float, height: float, rows: list[Span], columns: list[Span]) -> PagePlan:
    """The pages for a picture of width × height pixels at its readable size.

    rows, columns: where the cards lie, top to bottom and left to right, so that breaks
    miss them. One page, fitted to it, when the picture fits at half its size or more.
    """
    layout = a4(width, height)
    page = room(layout)
    fit = min(page.width() / width, page.height() / height)
    if fit >= MIN_PRINT_SCALE:
        return PagePlan(layout, [Page(QRectF(0, 0, width, height))], fit)
    scale = min(1.0, max(MIN_PRINT_SCALE, page.width() / width))
    tops = breaks(height, page.height() / scale, rows)
    lefts = breaks(width, page.width() / scale, columns)
    pages = [
        Page(QRectF(left, top, right - left, bottom - top))
        for left, right in pairwise(lefts)
        for top, bottom in pairwise(tops)
    ]
    return PagePlan(layout, pages, scale)


def breaks(length: float, page: float, cards: list[Span]) -> list[float]:
    """Where pages of at most page pixels begin along a side of length pixels, then its end.

    Each break is the latest place on the page that no card crosses, if there is one in the
    page's last part; otherwise the page is full and a card is cut.
    """
    cuts = [0.0]
    while length - cuts[-1] > page:
        start = cuts[-1]
        cuts.append(_free_place(start + page * BREAK_ROOM, start + page, cards))
    cuts.append(length)
    return cuts


def _free_place(low: float, high: float, cards: list[Span]) -> float:
    """The largest point in [low, high] inside no card's span; high when there is none."""
    place = high
    for top, bottom in sorted(cards, key=lambda span: -span[1]):
        if bottom < place:  # this card and all after it end above the place
            break
        if top < place:  # the card crosses the place: try just above it
            place = top
            if place < low:
                return high
    return place


def placed(width: float, height: float, page: QRectF, plan: PagePlan) -> QRectF:
    """Where a part of width × height picture pixels goes on its page: alone on one page,
    as large as fits and centred; one of several, at the plan's scale from the top."""
    if len(plan.pages) > 1:
        w, h = width * plan.scale, height * plan.scale
        return QRectF(page.x() + max(0.0, (page.width() - w) / 2), page.y(), w, h)
    factor = min(page.width() / width, page.height() / height)
    w, h = width * factor, height * factor
    return QRectF(page.x() + (page.width() - w) / 2, page.y() + (page.height() - h) / 2, w, h)
