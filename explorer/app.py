"""Composition root: `export` on the command line, otherwise the window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def export_command(args: argparse.Namespace) -> int:
    from explorer.export import FORMATS, write
    from explorer.lessons import LessonError
    from explorer.lessons.cli import problem_place, read_source

    script = Path(args.script)
    out = Path(args.output)
    if out.suffix.lower() not in FORMATS:
        print(
            f"error: unknown output format {out.suffix!r}; use {', '.join(FORMATS)}",
            file=sys.stderr,
        )
        return 2
    try:
        text = read_source(script, args.trusted)  # a lesson (.json): its cells, checked
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {script}: {error}", file=sys.stderr)
        return 2
    except LessonError as error:
        print("\n".join(f"error: {problem}" for problem in error.problems), file=sys.stderr)
        return 2
    if args.trusted:  # the user's word that this Python file may run as Python
        from explorer.model_file import export_model_file

        snapshot = export_model_file(script, text)
    else:
        from explorer.pipeline import run_script

        snapshot = run_script(text)
    if snapshot.problem is not None:
        problem = snapshot.problem
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        where = problem_place(script, text, problem.line, problem.column)
        print(f"{where}: error: {problem.message}{hint}", file=sys.stderr)
        return 1
    try:
        write(snapshot, out)
    except OSError as error:
        print(f"error: cannot write {out}: {error}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-explorer",
        description="See PyTorch's autograd graph and step through the real backward pass.",
    )
    sub = parser.add_subparsers(dest="command")
    export = sub.add_parser("export", help="run a script and write its graph and backward passes")
    export.add_argument("script", help="the script (.py) or lesson (.json) to run")
    export.add_argument("-o", "--output", required=True, help="OUT.json, OUT.dot or OUT.graphml")
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
