"""The `weightreel` subcommands. Each returns an exit code; errors raise, cli.py prints them."""

from __future__ import annotations

import argparse
import os
import sys

from weightreel.formats import check_untrusted, open_recording, printable, validate

from ._cli_common import (
    check_output,
    check_variables,
    choose_rows,
    progress_bar,
    step_position,
)

IMAGE_FORMATS = ("png", "gif", "mp4")


def run_info(args: argparse.Namespace) -> int:
    from weightreel.formats.info import describe

    check_untrusted(args.file)
    with open_recording(args.file) as rec:
        print(describe(rec), end="")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    check_untrusted(args.file)
    with progress_bar(0, "validate") as bar:
        problems = validate(args.file, quick=args.quick, progress=_updater(bar))
    for line in problems:
        print(line)
    if problems:
        return 1
    with open_recording(args.file) as rec:
        quick = "; structure only (--quick)" if args.quick else ""
        print(f"{printable(args.file)}: valid recording ({rec.num_steps} steps{quick})")
    return 0


def run_repair(args: argparse.Namespace) -> int:
    from weightreel.formats.repair import repair

    report = repair(args.file, args.output)
    print(f"{args.output}: rescued {report.steps} of {report.committed_steps} committed steps "
          f"and {report.epochs} of {report.committed_epochs} epoch rows from {args.file}")
    return 0 if report.complete else 1


def run_view(args: argparse.Namespace) -> int:
    step, variables = args.step, args.variable
    if args.file is None:
        if args.screenshot is not None or step is not None or variables:
            raise ValueError("--screenshot, --step and --variable need a recording FILE")
    else:  # a bad file, step or variable fails here, in one line, before Qt starts
        check_untrusted(args.file)
        step, variables = _view_choices(args)
    if args.other is not None:
        return _compare(args, step)
    if args.screenshot is not None:
        check_output(args.screenshot, args.file, ".png")
    elif _no_display():
        raise ValueError("no display to open the viewer on (DISPLAY is not set); use "
                         "--screenshot OUT.png to render a picture without one")
    _check_platform()
    try:
        from weightreel.viewer.app import launch
    except ImportError as exc:
        raise ValueError(f"the viewer cannot start ({exc}); install it with "
                         "pip install 'weightreel[viewer]'") from None
    if args.overview and args.screenshot is None:
        raise ValueError("--overview renders a screenshot: add --screenshot OUT.png (in the "
                         "window, press O for the layer overview)")
    kwargs = {"variables": variables} if variables else {}
    kwargs["checked"] = True  # check_untrusted ran above
    options = {"scale": args.scale, "symlog": args.symlog, "mode": args.mode,
               "overview": args.overview}
    return int(launch(args.file, step=step, screenshot=args.screenshot, follow=args.follow,
                      options=options, **kwargs) or 0)


def _compare(args: argparse.Namespace, step: int | None) -> int:
    """`view A B`: both files must open (one line each otherwise) before Qt starts."""
    check_untrusted(args.other)
    with open_recording(args.other):
        pass
    if args.screenshot is not None:
        check_output(args.screenshot, args.file, ".png")
    elif _no_display():
        raise ValueError("no display to open the viewer on (DISPLAY is not set); use "
                         "--screenshot OUT.png to render a picture without one")
    else:
        _check_platform()
    from weightreel.viewer.compare_app import launch_compare

    variable = args.variable[0] if args.variable else None
    return int(launch_compare(args.file, args.other, step, args.screenshot, variable) or 0)


def _view_choices(args: argparse.Namespace) -> tuple[int | None, list[str] | None]:
    """The step and variables to show: --step must be recorded (when following, it may also
    lie past the end); a screenshot without --step shows the last recorded step."""
    from .components.selection import MAX_VIEWS

    if args.variable and len(dict.fromkeys(args.variable)) > MAX_VIEWS:
        raise ValueError(f"--variable was given {len(args.variable)} times: the viewer shows at "
                         f"most {MAX_VIEWS} variables at once")
    with open_recording(args.file) as rec:
        variables = check_variables(rec, args.variable) if args.variable else None
        step = args.step
        if step is None:
            if args.screenshot is not None and rec.num_steps:
                step = int(rec.steps[-1])
        elif not (args.follow and rec.num_steps and step > int(rec.steps[-1])):
            step_position(rec, step)
    return step, variables


def _check_platform() -> None:
    """Fail in one line, before Qt aborts with a cryptic one, when its X11 plugin cannot load."""
    from .qt_platform import xcb_problem

    problem = xcb_problem()
    if problem:
        raise ValueError(problem)


def _no_display() -> bool:
    """True on Linux without X11/Wayland and no explicit Qt platform (Qt would abort)."""
    return (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"))


def run_slice(args: argparse.Namespace) -> int:
    from weightreel.formats.slice import slice_recording

    check_untrusted(args.input)
    with progress_bar(0, "slice") as bar:
        slice_recording(args.input, args.output, steps=args.steps, every=args.every,
                        include=args.include, float16=args.float16, compress=args.compress,
                        progress=_updater(bar), overwrite=args.force)
    with open_recording(args.output) as out:
        _say(f"{args.output}: {_plural(out.num_steps, 'step')}, "
              f"{_plural(len(out.variable_names), 'variable')}, "
              f"{_megabytes(out.file_size)} (from {_megabytes(os.path.getsize(args.input))})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    fmt = args.to or export_format_of(args.output)
    check_output(args.output, args.input, f".{fmt}")
    check_untrusted(args.input)
    with open_recording(args.input) as rec:
        if fmt in IMAGE_FORMATS:
            return _export_image(rec, args, fmt)
        from .export import export_csv, export_npz

        names = check_variables(rec, args.variable or rec.variable_names)
        rows = choose_rows(rec, args.step, args.steps)
        write = export_npz if fmt == "npz" else export_csv
        with progress_bar(0, f"export {fmt}") as bar:
            write(rec, args.output, names, rows, progress=_updater(bar))
        _say(f"{args.output}: {_plural(len(names), 'variable')} at {_plural(rows.size, 'step')}")
    return 0


def _export_image(rec, args: argparse.Namespace, fmt: str) -> int:
    from . import _cli_images as images

    name = _one_variable(rec, args.variable, fmt)
    if fmt == "png":
        if args.steps is not None:
            raise ValueError("--to png draws one step: use --step K, not --steps")
        if rec.num_steps == 0:
            raise ValueError(f"{rec.path}: has no steps")
        row = rec.num_steps - 1 if args.step is None else step_position(rec, args.step)
        images.export_png(rec, args.output, name, row, _scale_choice(args))
        _say(f"{args.output}: {name} at step {int(rec.steps[row])}")
        return 0
    if args.step is not None:
        raise ValueError(f"--to {fmt} animates a range: use --steps A:B, not --step")
    if fmt == "mp4" and images.find_ffmpeg() is None:
        raise ValueError("mp4 export needs ffmpeg: pip install imageio-ffmpeg (or install "
                         "ffmpeg), or use --to gif")
    rows = images.frame_rows(choose_rows(rec, None, args.steps), args.max_frames)
    with progress_bar(rows.size, f"export {fmt}", unit="frame") as bar:
        images.export_animation(rec, args.output, name, rows, fmt, fps=args.fps,
                                progress=_updater(bar), choice=_scale_choice(args))
    _say(f"{args.output}: {name}, {rows.size} frames, steps {int(rec.steps[rows[0]])}.."
          f"{int(rec.steps[rows[-1]])}")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    from .plot import default_variables, plot_trajectories

    check_output(args.out, args.input, ".png")
    check_untrusted(args.input)
    with open_recording(args.input) as rec:
        names = check_variables(rec, args.variable) if args.variable else default_variables(rec)
        plot_trajectories(rec, args.out, names)
        _say(f"{args.out}: {_plural(len(names), 'variable')} over "
              f"{_plural(rec.num_steps, 'step')}")
    return 0


def export_format_of(path: str) -> str:
    """The export format named by OUT's extension; ValueError if it names none."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in ("npz", "csv", "png", "gif", "mp4"):
        raise ValueError(f"{path}: cannot tell the format from the extension; "
                         "give --to npz|csv|png|gif|mp4")
    return ext


def _one_variable(rec, names: list[str] | None, fmt: str) -> str:
    if names and len(names) == 1:
        return check_variables(rec, names)[0]
    if not names and len(rec.variable_names) == 1:
        return rec.variable_names[0]
    shown = ", ".join(rec.variable_names[:8]) + (" ..." if len(rec.variable_names) > 8 else "")
    raise ValueError(f"--to {fmt} draws exactly one variable: give one --variable NAME "
                     f"(variables: {shown})")


def _updater(bar):
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return update


def _megabytes(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _say(line: str) -> None:
    """Print a line that holds text from a file (names), its control characters escaped."""
    print(printable(line))


def _scale_choice(args: argparse.Namespace):
    from weightreel.viewer.components.scale import ScaleChoice

    return ScaleChoice(args.scale, args.symlog)
