"""Pasted REPL or notebook transcripts: strip the prompts, skip the printed output.

A transcript is text where some line starts with a `>>>` or `>>` prompt outside a
multi-line string (a docstring's doctest is a script's text, not a prompt). Prompt lines
are code, `...` or `..` lines continue them, and every other line after the first
prompt is output that was printed, and is blanked. A continuation under a `with`,
`for` or `if` header that lost its indentation is indented under the header again.
Line numbers never change; `shift` maps a column of the returned text back to the
column in the pasted text.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_PROMPT = re.compile(r"^(\s*)(>>>|>>)(?: |$)")
_CONTINUATION = re.compile(r"^(\s*)(\.\.\.|\.\.)(?: |$)")
_INDENT = 4


@dataclass
class Code:
    """Script text ready to parse, with per-line column shifts back to the original."""

    text: str
    shift: list[int] = field(default_factory=list)  # original column = column + shift[line - 1]

    def original_column(self, line: int, column: int) -> int:
        if 1 <= line <= len(self.shift):
            return max(0, column + self.shift[line - 1])
        return column


def is_transcript(text: str) -> bool:
    prompts = [n for n, line in enumerate(text.splitlines(), 1) if _PROMPT.match(line)]
    if not prompts:
        return False
    inside = _lines_inside_strings(text)
    return any(n not in inside for n in prompts)


def _lines_inside_strings(text: str) -> set[int]:
    """Numbers of the lines that begin inside a string spanning several lines."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass  # printed output need not be Python: the strings read before it still count
    return inside


def strip_prompts(text: str) -> Code:
    """Turn text into code: transcripts lose prompts and outputs, plain scripts are unchanged."""
    lines = text.splitlines()
    if not is_transcript(text):
        return Code(text, [0] * len(lines))
    out: list[str] = []
    shift: list[int] = []
    header_indent: int | None = None  # indentation of the last block header, if open
    started = False  # lines before the first prompt are code: output follows a prompt
    for line in lines:
        prompt = _PROMPT.match(line)
        more = None if prompt else _CONTINUATION.match(line)
        started = started or prompt is not None
        if not started:
            out.append(line)
            shift.append(0)
            continue
        if prompt is None and more is None:
            out.append("")  # printed output of the line before
            shift.append(0)
            header_indent = None
            continue
        match = prompt or more
        assert match is not None
        code = line[match.end() :]
        removed = match.end()
        indent = len(code) - len(code.lstrip(" "))
        if prompt:
            header_indent = None
        elif header_indent is not None and indent <= header_indent:
            code = " " * (header_indent + _INDENT - indent) + code
            removed -= header_indent + _INDENT - indent
        if code.rstrip().endswith(":") and not code.lstrip().startswith("#"):
            header_indent = len(code) - len(code.lstrip(" "))
        out.append(code)
        shift.append(removed)
    return Code("\n".join(out) + ("\n" if text.endswith("\n") else ""), shift)
