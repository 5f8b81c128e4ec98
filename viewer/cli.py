"""The `weightreel` command: info, validate, repair, view, slice, export and plot.

Exit codes: 0 success, 1 a check failed (validate found problems), 2 bad input, unreadable
file or bad usage, 130 interrupted. Every error is one line on stderr, starting `weightreel: `.
The command stays thin: the work is done in weightreel.formats (info, validate, repair,
slice) and in the viewer's export and plot modules, imported only by the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._cli_common import parse_step_range, positive_int, positive_number

PROG = "weightreel"
EXPORT_FORMATS = ("npz", "csv", "png", "gif", "mp4")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{PROG}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Record, inspect and replay neural network weights.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_info(sub)
    _add_validate(sub)
    _add_repair(sub)
    _add_view(sub)
    _add_slice(sub)
    _add_export(sub)
    _add_plot(sub)
    return parser


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="print what a recording holds",
                       description="Print a summary of a recording: the run, the model, the "
                                   "variables, the steps, the file size and the scalars.")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(run="info")


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a recording against the format",
                       description="Check a recording against the format specification. Exits 0 "
                                   "when valid, 1 when problems were found (printed one per "
                                   "line), 2 when the file cannot be read as a recording.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--quick", action="store_true",
                   help="check the structure only; by default every stored row is also "
                        "compared with its recorded summaries (min, max, NaN/Inf counts, norm)")
    p.set_defaults(run="validate")


def _add_repair(sub) -> None:
    p = sub.add_parser("repair", help="rescue the committed steps of a damaged recording",
                       description="Copy every committed step that can still be read from a "
                                   "damaged recording (cut short, end address too small) into "
                                   "a new file. IN is never modified. Exits 0 when every "
                                   "committed step was rescued, 1 when some could not be, 2 "
                                   "when IN cannot be read as a recording or OUT exists.")
    p.add_argument("file", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.set_defaults(run="repair")


def _add_view(sub) -> None:
    p = sub.add_parser("view", help="open the desktop viewer",
                       description="Open a recording in the desktop viewer (needs the 'viewer' "
                                   "extra: PyQt5, pyqtgraph).")
    p.add_argument("file", metavar="FILE", nargs="?")
    p.add_argument("other", metavar="OTHER", nargs="?",
                   help="a second recording: compare it with FILE (A | B | A − B at the same "
                        "global step, both runs' curves overlaid)")
    p.add_argument("--step", type=int, metavar="K",
                   help="start at global step K (a recorded step; default: the first, or the "
                        "last with --screenshot)")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="save a PNG screenshot and quit (at the last step unless --step)")
    p.add_argument("--follow", action="store_true", help="follow a recording being written")
    p.add_argument("--variable", action="append", metavar="NAME",
                   help="variable to show (repeatable, up to 12 views side by side in a grid; the "
                        "model's name may be left out: dense/kernel; default: the viewer's "
                        "choice)")
    p.add_argument("--mode", choices=("value", "since-start", "per-step"), default="value",
                   help="show the values W (default), their change since the start W - W0, "
                        "or per step W_t - W_t-1")
    p.add_argument("--overview", action="store_true",
                   help="with --screenshot: render the layer overview (relative update of "
                        "every variable at every step)")
    _add_scale_args(p)
    p.set_defaults(run="view")


def _add_scale_args(p) -> None:
    p.add_argument("--scale", choices=("fixed", "step", "robust"), default="robust",
                   help="colour scale: fixed over the run, per step, or robust per step "
                        "(default: 1-99%% quantiles, outliers clipped)")
    p.add_argument("--symlog", action="store_true",
                   help="spread values by a symmetric log (for values spanning orders of "
                        "magnitude)")


def _add_slice(sub) -> None:
    p = sub.add_parser(
        "slice", help="write a smaller copy of a recording",
        description="Write a smaller copy of a recording, to share: a range of steps, every N-th "
                    "step, some variables, float16, compressed. The copy is a valid recording "
                    "whose 'source' metadata says what it was cut from. OUT must differ from IN "
                    "and must not exist (unless --force); it appears only once complete.")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--steps", type=parse_step_range, metavar="A:B",
                   help="global steps A (inclusive) to B (exclusive); A or B may be omitted")
    p.add_argument("--every", type=positive_int, default=1, metavar="N",
                   help="keep every N-th of the selected steps (the first is kept)")
    p.add_argument("--include", action="append", metavar="PATTERN",
                   help="keep variables whose name, or name without its first component (the "
                        "model's name), matches PATTERN (fnmatch: 'dense*/kernel'); "
                        "repeatable; default all")
    p.add_argument("--float16", action="store_true", help="store floating-point values as float16")
    p.add_argument("--compress", action="store_true", help="compress the variables (gzip)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(run="slice")


def _add_export(sub) -> None:
    p = sub.add_parser(
        "export", help="export arrays, a heatmap picture or an animation",
        description="Export variables of a recording. npz: one array per variable shaped "
                    "(n, *shape) plus steps, epochs, batches. csv: one row per step with columns "
                    "step, epoch, batch, then name[i,j] for every element. png: a heatmap of one "
                    "variable at one step (default: the last). gif/mp4: an animation of one "
                    "variable over a step range (default: all). Colours: the viewer's scale "
                    "(--scale, --symlog). "
                    "Steps are global step numbers as the viewer shows them. OUT is overwritten.")
    p.add_argument("input", metavar="IN")
    p.add_argument("--to", choices=EXPORT_FORMATS,
                   help="output format (default: from the extension of OUT)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file")
    p.add_argument("--variable", action="append", metavar="NAME",
                   help="variable to export (repeatable for npz/csv, default all; exactly one "
                        "for png/gif/mp4)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--step", type=int, metavar="K", help="one global step K")
    which.add_argument("--steps", type=parse_step_range, metavar="A:B",
                       help="global steps A (inclusive) to B (exclusive)")
    p.add_argument("--max-frames", type=positive_int, default=300, metavar="N",
                   help="gif/mp4: at most N frames, spread evenly over the range (default 300)")
    p.add_argument("--fps", type=positive_number, default=10.0, metavar="N",
                   help="gif/mp4: frames per second (default 10)")
    _add_scale_args(p)
    p.set_defaults(run="export")


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot", help="plot weight trajectories over the steps, with the loss",
        description="Plot each chosen variable over the steps: every weight of a small variable "
                    "(up to 64 elements; a legend names up to 8 of them), quantile bands (5-95%, "
                    "25-75%, median) of a large one, and the loss underneath. A variable may be "
                    "named without the model's name, e.g. dense/kernel for "
                    "mymodel/dense/kernel.")
    p.add_argument("input", metavar="IN")
    p.add_argument("--out", "-o", required=True, metavar="PNG", help="output picture (.png)")
    p.add_argument("--variable", action="append", metavar="NAME",
                   help="variable to plot (repeatable; default: the first four)")
    p.set_defaults(run="plot")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    try:
        from . import _cli_commands

        return getattr(_cli_commands, f"run_{args.run}")(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line, never a traceback
        return _fail(*_describe(exc))


EXTRA_FOR_MODULE = {"PyQt5": "viewer", "pyqtgraph": "viewer", "matplotlib": "export",
                    "PIL": "export", "imageio": "export", "tqdm": "export"}


def _describe(exc: Exception) -> tuple[str, int]:
    from weightreel.formats import RecordingError

    if isinstance(exc, ModuleNotFoundError):
        extra = EXTRA_FOR_MODULE.get((exc.name or "").split(".")[0], "all")
        return (f"this command needs the Python package {exc.name!r}, which is not installed "
                f"(pip install 'weightreel[{extra}]')"), 2
    if isinstance(exc, (RecordingError, ValueError)):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 2
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or str(exc).splitlines()[0]}", 2
    if isinstance(exc, MemoryError):
        return "not enough memory for this command", 2
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected error: {type(exc).__name__}: {first} (please report this)", 2


def _fail(message: str, code: int) -> int:
    from weightreel.formats import printable

    print(f"{PROG}: {printable(message)}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weightreel")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
