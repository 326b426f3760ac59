"""A lesson's cells as one program: joined with `# %%` marker lines, split again on them.

The cells run in order as one script. With more than one cell, each starts with a
`# %% cell N` comment line, so the editor shows where a cell begins, a problem's line
can be named by its cell, and saving splits the editor's text back into the same cells.
"""

from __future__ import annotations

MARKER = "# %%"


def is_marker(line: str) -> bool:
    return line.startswith(MARKER)


def program(cells: list[str]) -> str:
    """The script the cells make, marker lines between them when there are several."""
    if len(cells) == 1:
        return cells[0] + "\n" if cells[0] else ""
    lines: list[str] = []
    for number, cell in enumerate(cells, 1):
        lines.append(f"{MARKER} cell {number}")
        if cell:
            lines.append(cell)
    return "\n".join(lines) + "\n"


def _chunks(text: str) -> list[tuple[int, list[str]]]:
    """The cells of text as (first line number, lines); text before a first marker counts
    as a cell only if it holds something."""
    chunks: list[tuple[int, list[str]]] = [(1, [])]
    marked = False
    for number, line in enumerate(text.split("\n"), 1):
        if is_marker(line):
            marked = True
            chunks.append((number + 1, []))
        else:
            chunks[-1][1].append(line)
    if marked and not "".join(chunks[0][1]).strip():
        chunks.pop(0)
    return chunks


def split_cells(text: str) -> list[str]:
    """The editor's text as cells: the parts between marker lines (one cell without any)."""
    return [normalize("\n".join(lines)) for _, lines in _chunks(text)]


def normalize(cell: str) -> str:
    """A cell without trailing line ends, so joining and splitting give the same cell back."""
    return cell.rstrip("\n")


def cell_position(text: str, line: int) -> tuple[int, int] | None:
    """(cell number, line within the cell) of a line of the joined text, both from 1.

    None when the text has no markers (one cell: its lines are the script's) or the line
    is a marker.
    """
    if not any(is_marker(row) for row in text.split("\n")):
        return None
    for number, (start, lines) in enumerate(_chunks(text), 1):
        if start <= line < start + len(lines):
            return number, line - start + 1
    return None


def where(text: str, line: int, column: int) -> str:
    """`Cell 2, line 3, column 5: ` for a script of cells, `Line 9, column 5: ` otherwise."""
    if not line:
        return ""
    place = cell_position(text, line)
    if place is None:
        return f"Line {line}, column {column}: "
    return f"Cell {place[0]}, line {place[1]}, column {column}: "
