"""Composition root: `export` on the command line, otherwise the window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# Drawn by the window's graph view (explorer/ui/exports/headless.py), on the offscreen platform.
PICTURES = (".png", ".svg", ".pdf", ".gif")
STILL_PICTURES = (".png", ".svg", ".pdf")
# A GIF frame's time is kept in hundredths of a second in 16 bits; a minute is plenty.
FRAME_MS = (10, 60_000)


def export_command(args: argparse.Namespace) -> int:
    from explorer.data.export import FORMATS, write
    from explorer.data.text_files import FileRefused
    from explorer.lessons import LessonError
    from explorer.lessons.cli import problem_place, read_source

    script = Path(args.script)
    out = Path(args.output)
    wrong = _wrong_arguments(args, script, out, FORMATS)
    if wrong:
        print(f"error: {wrong}", file=sys.stderr)
        return 2
    try:
        text = read_source(script, args.trusted)  # a lesson (.json): its cells, checked
    except FileRefused as refused:
        print(f"error: cannot read {script}: {refused.reason}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot read {script}: {error.strerror or error}", file=sys.stderr)
        return 2
    except LessonError as error:
        print("\n".join(f"error: {problem}" for problem in error.problems), file=sys.stderr)
        return 2
    if args.trusted:  # the user's word that this Python file may run as Python
        from explorer.runs.model_file import export_model_file

        snapshot = export_model_file(script, text)
    else:
        from explorer.runs.session import run_script

        snapshot = run_script(text)
    if snapshot.problem is not None:
        problem = snapshot.problem
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        where = problem_place(script, text, problem.line, problem.column)
        print(f"{where}: error: {problem.message}{hint}", file=sys.stderr)
        return 1
    try:
        if out.suffix.lower() in PICTURES:
            return _write_picture(snapshot, out, args)
        write(snapshot, out)
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _wrong_arguments(
    args: argparse.Namespace, script: Path, out: Path, formats: tuple[str, ...]
) -> str | None:
    """What is wrong with the command line, checked before anything runs; None when nothing."""
    suffix = out.suffix.lower()
    if suffix not in formats + PICTURES:
        return f"unknown output format {suffix!r}; use {', '.join(formats + PICTURES)}"
    if args.step is not None and suffix not in STILL_PICTURES:
        return f"--step is for {', '.join(STILL_PICTURES)} pictures, not {suffix}"
    if not FRAME_MS[0] <= args.frame_ms <= FRAME_MS[1]:
        return f"--frame-ms must be from {FRAME_MS[0]} to {FRAME_MS[1]:,} (milliseconds)"
    if out.resolve() == script.resolve():
        return f"{out} is the file being exported: choose another output"
    return None


def _write_picture(snapshot: Any, out: Path, args: argparse.Namespace) -> int:
    from explorer.ui.exports.headless import StepOutOfRange, write_picture

    try:
        note = write_picture(snapshot, out, args.step, args.frame_ms, args.theme, args.white)
    except StepOutOfRange as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-explorer",
        description="See PyTorch's autograd graph and step through the real backward pass.",
    )
    sub = parser.add_subparsers(dest="command")
    export = sub.add_parser("export", help="run a script and write its graph and backward passes")
    export.add_argument("script", help="the script (.py) or lesson (.json) to run")
    export.add_argument(
        "-o",
        "--output",
        required=True,
        help="OUT.json, OUT.dot or OUT.graphml (data); OUT.png, OUT.svg or OUT.pdf (the graph "
        "as drawn); OUT.gif (the last backward pass, a frame a step)",
    )
    export.add_argument(
        "--step",
        type=int,
        help="for .png, .svg and .pdf: show the graph after step N of the last backward pass "
        "(0: before it; default: after its last step)",
    )
    export.add_argument(
        "--frame-ms",
        type=int,
        default=800,
        help=f"for .gif: how long each step is shown, {FRAME_MS[0]} to {FRAME_MS[1]:,} ms",
    )
    export.add_argument("--theme", choices=("light", "dark"), default="light")
    export.add_argument("--white", action="store_true", help="a white background, for print")
    export.add_argument(
        "--trusted",
        action="store_true",
        help="the file is your own Python model file (defining model, and example_input or "
        "loss): run it as Python with your permissions; only for files you trust",
    )
    export.set_defaults(handler=export_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "export":
        args = build_parser().parse_args(argv)
        return args.handler(args)
    if argv and argv[0] in ("-h", "--help"):
        build_parser().print_help()
        return 0
    from explorer.ui.main import run_window

    return run_window(argv[0] if argv else None)
