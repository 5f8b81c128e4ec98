"""Small pieces shared by the `weightreel` subcommands: step arguments, row choice, progress."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

StepRange = tuple[int | None, int | None]


def parse_step_range(text: str) -> StepRange:
    """'A:B' -> (A, B) global step numbers, B exclusive; either may be empty ('100:', ':50')."""
    if text.count(":") != 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a step range A:B (e.g. 100:200, 100:, :200)")
    a, b = (part.strip() for part in text.split(":"))
    try:
        start = int(a) if a else None
        stop = int(b) if b else None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a step range A:B of whole numbers (e.g. 100:200)") from None
    if start is not None and stop is not None and stop <= start:
        raise argparse.ArgumentTypeError(
            f"{text!r} is empty: B must be greater than A (B is exclusive)")
    return start, stop


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def step_position(rec: Any, step: int) -> int:
    """The timeline position of global step `step`; ValueError if that step is not recorded."""
    if rec.num_steps == 0:
        raise ValueError(f"{rec.path}: has no steps")
    i = int(np.searchsorted(rec.steps, step))
    if i < rec.num_steps and int(rec.steps[i]) == step:
        return i
    near = sorted({int(rec.steps[j]) for j in (i - 1, i) if 0 <= j < rec.num_steps})
    raise ValueError(f"{rec.path}: step {step} is not recorded (nearest: "
                     f"{', '.join(map(str, near))}; recorded {int(rec.steps[0])}.."
                     f"{int(rec.steps[-1])})")


def choose_rows(rec: Any, step: int | None = None, steps: StepRange | None = None) -> np.ndarray:
    """Timeline positions for `--step K` (one) or `--steps A:B` (a range); all if neither."""
    if step is not None:
        return np.array([step_position(rec, step)])
    from weightreel.formats.slice import select_rows

    rows = select_rows(rec.steps, steps)
    if rows.size == 0:
        span = f"{int(rec.steps[0])}..{int(rec.steps[-1])}" if rec.num_steps else "none"
        raise ValueError(f"{rec.path}: the step range keeps no steps (recorded steps: {span})")
    return rows


def check_variables(rec: Any, names: Sequence[str]) -> list[str]:
    """The recorded names that `names` mean (see formats.slice.resolve_variable), in order and
    without repeats; ValueError naming the file and the first name that means none or several.
    """
    from weightreel.formats.slice import resolve_variable

    found = []
    for name in names:
        try:
            found.append(resolve_variable(rec.variable_names, name))
        except ValueError as exc:
            raise ValueError(f"{rec.path}: {exc}") from None
    return list(dict.fromkeys(found))


def check_output(out: str, source: str | None, extension: str | None = None) -> None:
    """Refuse an output path that is a folder, lies in a missing or unwritable folder, is the
    input, or (given `extension`, such as '.png') has another extension than the data written.
    """
    if os.path.isdir(out):
        raise ValueError(f"{out}: is a directory; give the output file's name")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"{out}: cannot be written: folder {parent} does not exist")
    if source and os.path.exists(out) and os.path.exists(source) and os.path.samefile(out, source):
        raise ValueError(f"{out}: is the input recording; choose another output name")
    if extension is not None:
        check_extension(out, extension)
    from weightreel.formats.slice import check_writable

    check_writable(out)


def check_extension(out: str, extension: str) -> None:
    """ValueError unless `out` ends with `extension` (any case): the data written is that kind."""
    if os.path.splitext(out)[1].lower() != extension:
        stem = os.path.splitext(os.path.basename(out))[0] or "out"
        raise ValueError(f"{out}: this writes {extension[1:].upper()} data, so the file name "
                         f"must end in {extension} (e.g. {stem}{extension})")


def positive_number(text: str) -> float:
    """A finite number greater than zero (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number greater than 0")
    return value


class _NoBar:
    n = 0

    def update(self, k: int = 1) -> None:
        self.n += k

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str = "step") -> Any:
    """A tqdm bar on a terminal; a silent stand-in when stderr is not a terminal or no tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(), leave=False)
