"""The built-in lessons: found beside the source, or where an installed wheel put them.

They live in `resources/lessons/` of the source tree (what `pip install -e .` runs from);
an ordinary install copies them to `share/autograd-explorer/lessons` under its prefix, as
the data files pyproject.toml lists, and the distribution's own file list says where.
"""

from __future__ import annotations

import functools
import site
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from explorer.lessons.files import read_lesson
from explorer.lessons.format import LessonError

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
SOURCE_DIR = PACKAGE_PARENT / "resources" / "lessons"
DISTRIBUTION = "autograd-explorer"
DATA_PARTS = ("share", "autograd-explorer", "lessons")


@dataclass(frozen=True)
class Example:
    """A gallery lesson as the menu and the start page list it."""

    path: Path
    title: str
    description: str


def gallery_dir() -> Path | None:
    """The folder of the gallery's lesson files, or None if this install has none."""
    for folder in _candidates():
        if folder.is_dir():
            return folder
    return None


def _candidates() -> Iterator[Path]:
    yield SOURCE_DIR
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:  # where the installer recorded it put them
        if tuple(file.parts[-4:-1]) == DATA_PARTS and file.name.endswith(".json"):
            yield Path(str(file.locate())).resolve().parent
            break
    # pip --target records paths as if under a prefix; the data sits beside the package
    for prefix in (Path(sys.prefix), Path(site.USER_BASE or sys.prefix), PACKAGE_PARENT):
        yield prefix.joinpath(*DATA_PARTS)


@functools.cache
def examples() -> tuple[Example, ...]:
    """The gallery in file-name order; a file that does not load is left out."""
    folder = gallery_dir()
    if folder is None:
        return ()
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            lesson = read_lesson(path)
        except LessonError:
            continue  # tests prove every shipped lesson loads; never break the menu
        found.append(Example(path, lesson.title, lesson.description))
    return tuple(found)


def is_example(path: Path) -> bool:
    """Whether path is a gallery lesson, which opens read-only."""
    folder = gallery_dir()
    try:
        return folder is not None and path.resolve().parent == folder.resolve()
    except OSError:
        return False
