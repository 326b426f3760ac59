"""Composition root: `export` on the command line, otherwise the window."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from explorer.data.snapshot import HEAD_LENGTH, SMALL_VALUES, VALUES, Problem, Snapshot
from explorer.worker.protocol import DEFAULT_MEMORY_MB

# Drawn by the window's graph view (explorer/ui/exports/headless.py), on the offscreen platform.
PICTURES = (".png", ".svg", ".pdf", ".gif")
STILL_PICTURES = (".png", ".svg", ".pdf")
PAGE = ".html"  # the HTML stepper (explorer/page/): drawn without Qt, in this process
# A GIF frame's time is kept in hundredths of a second in 16 bits; a minute is plenty.
FRAME_MS = (10, 60_000)
MAX_PX = (100, 32_000)  # a PNG's longest side: image viewers open up to 32,000 px


def export_command(args: argparse.Namespace, own_process: bool = False) -> int:
    """Run the script and write what it made; own_process: this process is the command's own,
    so the memory cap and the hard stop of a stuck call may be set on it (never on a process
    that calls main from its own code)."""
    try:
        return _export(args, own_process)
    except MemoryError:
        pass
    except RuntimeError as error:  # torch's words for an allocation that failed
        from explorer.worker.memory import is_out_of_memory

        if not is_out_of_memory(str(error)):
            raise
    print(f"error: {_one_line(_over_the_cap(_cap(args, own_process)))}", file=sys.stderr)
    return 1


def _export(args: argparse.Namespace, own_process: bool) -> int:
    from explorer.data.export import FORMATS, write
    from explorer.data.text_files import FileRefused
    from explorer.lessons import LessonError
    from explorer.lessons.cli import read_source

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
    if own_process:
        _own_the_process(args.memory_mb, script, text)
    try:
        run = _runner(args.trusted)
    except (ImportError, OSError, MemoryError):
        if not _cap(args, own_process):
            raise
        print(
            f"error: the memory cap ({args.memory_mb:,} MB) is too small to load torch; "
            "raise it with --memory-mb (0: no cap)",
            file=sys.stderr,
        )
        return 1
    snapshot = run(script, text)
    if snapshot.problem is not None:
        _print_problem(script, text, _worded(snapshot.problem, _cap(args, own_process)))
        return 1
    try:
        if out.suffix.lower() in PICTURES:
            return _write_picture(snapshot, out, args)
        if out.suffix.lower() == PAGE:
            from explorer.page import write_page

            write_page(snapshot, out, title=script.name)
        else:
            write(snapshot, out, args.values)
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _end_now(code: int) -> None:
    """End the command's own process with code once its output is out: Python's own ending
    frees the run's objects one by one, 0.7 s after a 30,000-node graph, for nothing."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _cap(args: argparse.Namespace, own_process: bool) -> int:
    """The memory cap this command runs under, in MiB; 0 for none."""
    return max(args.memory_mb, 0) if own_process else 0


def _own_the_process(memory_mb: int, script: Path, text: str) -> None:
    """The worker's memory cap, set before torch is imported; and a call stuck past the time
    limit and its grace ends the command with the timeout problem, as the worker does."""
    from explorer.lang import watchdog
    from explorer.worker.memory import cap_memory

    cap_memory(memory_mb)
    watchdog.on_overrun(lambda problem: _stuck(script, text, problem))


def _stuck(script: Path, text: str, problem: Problem) -> None:
    """Called on the watchdog's thread while the script's call still runs: report, and end."""
    _print_problem(script, text, problem)
    sys.stderr.flush()
    os._exit(1)


def _runner(trusted: bool) -> Callable[[Path, str], Snapshot]:
    """What runs the file: the script language, or Python for a model file the user trusts.
    Importing it imports torch."""
    if trusted:  # the user's word that this Python file may run as Python
        from explorer.runs.model_file import export_model_file

        return export_model_file
    from explorer.runs.session import run_script

    return lambda script, text: run_script(text)


def _print_problem(script: Path, text: str, problem: Problem) -> None:
    from explorer.lessons.cli import problem_place

    where = problem_place(script, text, problem.line, problem.column)
    print(f"{where}: error: {_one_line(problem)}", file=sys.stderr)


def _one_line(problem: Problem) -> str:
    hint = f" (hint: {problem.hint})" if problem.hint else ""
    return f"{problem.message}{hint}"


def _worded(problem: Problem, memory_mb: int) -> Problem:
    """problem, reworded at its own place when it is the memory cap's."""
    from explorer.worker.memory import is_out_of_memory

    if memory_mb > 0 and is_out_of_memory(problem.message):
        return _over_the_cap(memory_mb, problem)
    return problem


def _over_the_cap(memory_mb: int, where: Problem | None = None) -> Problem:
    from explorer.worker.memory import over_the_cap

    if memory_mb <= 0:
        return over_the_cap("there was", where)
    problem = over_the_cap(f"the cap ({memory_mb:,} MB)", where)
    problem.hint += "; or raise the cap with --memory-mb (0: no cap)"
    return problem


def _wrong_arguments(
    args: argparse.Namespace, script: Path, out: Path, formats: tuple[str, ...]
) -> str | None:
    """What is wrong with the command line, checked before anything runs; None when nothing."""
    suffix = out.suffix.lower()
    known = (*formats, *PICTURES, PAGE)
    if suffix not in known:
        return f"unknown output format {suffix!r}; use {', '.join(known)}"
    if args.step is not None and suffix not in STILL_PICTURES:
        return f"--step is for {', '.join(STILL_PICTURES)} pictures, not {suffix}"
    if not FRAME_MS[0] <= args.frame_ms <= FRAME_MS[1]:
        return f"--frame-ms must be from {FRAME_MS[0]} to {FRAME_MS[1]:,} (milliseconds)"
    if args.max_px is not None and suffix != ".png":
        return f"--max-px is for .png pictures, not {suffix}"
    if args.max_px is not None and not MAX_PX[0] <= args.max_px <= MAX_PX[1]:
        return f"--max-px must be from {MAX_PX[0]} to {MAX_PX[1]:,} (pixels)"
    drawn = args.collapse is not None or args.fold is not None
    if drawn and suffix not in PICTURES:
        return f"--collapse and --fold are for {', '.join(PICTURES)} pictures, not {suffix}"
    if args.collapse is not None and not args.collapse.strip(" ,"):
        return "--collapse needs none, all or module names"
    if args.memory_mb < 0:
        return "--memory-mb must be a number of MiB, or 0 for no cap"
    if out.resolve() == script.resolve():
        return f"{out} is the file being exported: choose another output"
    return None


def _write_picture(snapshot: Any, out: Path, args: argparse.Namespace) -> int:
    from explorer.ui.exports import headless
    from explorer.ui.exports.cards import UnknownCall
    from explorer.ui.exports.headless import Drawing, StepOutOfRange, write_picture

    max_px = args.max_px or headless.PNG_MAX_SIDE
    drawing = Drawing(args.theme, args.white, args.collapse, args.fold, max_px)
    try:
        note = write_picture(snapshot, out, args.step, args.frame_ms, drawing)
    except (StepOutOfRange, UnknownCall) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


# How Recording.show() (explorer/runs/recorded.py) starts a window on a recording it pipes in;
# not in --help: it is the library's, not a command for people.
RECORDING_FLAG = "--recording-on-stdin"
PICTURE_FLAG = "--picture-on-stdin"  # Recording.save("step.png"): drawn here, not in its process


def _picture_from_stdin(out: Path) -> int:
    """Draw the recording piped in (pickled by Recording.save) into out, as export would."""
    import pickle

    snapshot = pickle.loads(sys.stdin.buffer.read())
    defaults = argparse.Namespace(
        step=None, frame_ms=800, theme="light", white=False, collapse=None, fold=None, max_px=None
    )
    try:
        return _write_picture(snapshot, out, defaults)
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 2


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
        "as drawn); OUT.gif (the last backward pass, a frame a step); OUT.html (a page that "
        "steps through the backward passes in any browser)",
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
    export.add_argument(
        "--collapse",
        metavar="WHAT",
        help="for pictures: which module calls are drawn as one card each: none, all (the "
        "outermost, inside a lone model), or module names, comma-separated (each with the "
        "modules inside it); default: as the window opens the graph",
    )
    export.add_argument(
        "--fold",
        action=argparse.BooleanOptionalAction,
        help="for pictures: draw repeated identical blocks (the layers of an encoder) as one "
        "card, or not (--no-fold); default: as the window opens the graph",
    )
    export.add_argument(
        "--max-px",
        type=int,
        metavar="N",
        help=f"for .png: at most N pixels on its longer side, {MAX_PX[0]} to {MAX_PX[1]:,} "
        "(default 8,000); a larger graph is drawn smaller",
    )
    export.add_argument(
        "--values",
        choices=VALUES,
        default="small",
        help=f"for .json and .graphml: small (default): every value of tensors up to "
        f"{SMALL_VALUES} elements, and the shape, statistics and first {HEAD_LENGTH} values of "
        "larger ones; all: every value of every tensor the window shows whole (up to 10,000 "
        "elements), a larger file",
    )
    export.add_argument("--theme", choices=("light", "dark"), default="light")
    export.add_argument("--white", action="store_true", help="a white background, for print")
    export.add_argument(
        "--trusted",
        action="store_true",
        help="the file is your own Python model file (defining model, and example_input or "
        "loss): run it as Python with your permissions; only for files you trust",
    )
    export.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"cap this run's memory (address space) at N MiB, as the window's worker is "
        f"(default {DEFAULT_MEMORY_MB:,}; 0: no cap)",
    )
    export.set_defaults(handler=export_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command for argv; without argv, this process's own command line, and then the
    process is the command's own (see export_command)."""
    own_process = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "export":
        args = build_parser().parse_args(argv)
        code = args.handler(args, own_process)
        if own_process:
            _end_now(code)
        return code
    if argv and argv[0] in ("-h", "--help"):
        build_parser().print_help()
        return 0
    if len(argv) == 2 and argv[0] == PICTURE_FLAG:  # Recording.save() of a picture
        return _picture_from_stdin(Path(argv[1]))
    from explorer.ui.main import run_window

    if argv and argv[0] == RECORDING_FLAG:  # Recording.show(): the recording on stdin
        return run_window(recording=sys.stdin.buffer.read())
    return run_window(argv[0] if argv else None)
