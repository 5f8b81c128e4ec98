"""validate(path): every problem found in a recording, as one-line strings."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from . import _layout as L
from ._crosscheck import data_problems
from ._reading import file_errors
from ._text import printable
from .reader import Recording, open_recording

MAX_STEP = 1 << 53  # steps must be exact in a float64 (the viewer's axes)


def validate(path: str | os.PathLike, quick: bool = False,
             progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Check a recording against SPEC.md.

    Raises RecordingError when the file cannot be opened as a recording at all (not HDF5, not a
    recording, unsupported version, missing required parts, links or data outside the file,
    claims its size cannot hold). Otherwise returns the problems found, each a line naming the
    file, with any file text escaped; an empty list means the file is valid.

    Args:
        path: the recording.
        quick: check the structure only; by default every stored row is also compared with
            its recorded summaries (min, max, NaN and Inf counts, norm).
        progress: called with (rows done, rows in all) during the data check.

    Example:
        >>> validate("samples/golden-v1.0.h5")
        []
    """
    with open_recording(path) as rec, file_errors(rec.path):
        problems = _root_problems(rec) + _timeline_problems(rec) + _variable_problems(rec)
        problems += _scalar_problems(rec)
        if not quick and not problems:
            problems += data_problems(rec, progress)
        return [printable(f"{rec.path}: {p}") for p in problems]


def _root_problems(rec: Recording) -> list[str]:
    attrs = rec._file.attrs
    problems = [f"root attribute {a!r} is missing" for a in (L.ATTR_CREATOR, L.ATTR_CREATED)
                if a not in attrs]
    meta = rec._meta_group.attrs
    problems += [f"/meta attribute {a!r} is missing"
                 for a in (*L.RUN_ATTRS_TEXT, L.RUN_ATTR_FINISHED) if a not in meta]
    return problems


def _timeline_problems(rec: Recording) -> list[str]:
    problems = []
    for column, dtype in L.TIMELINE_COLUMNS.items():
        ds = rec._timeline[column]
        if ds.ndim != 1 or ds.dtype.kind != np.dtype(dtype).kind:
            problems.append(f"/timeline/{column} should be 1-D {dtype}, is {ds.dtype} {ds.shape}")
    if problems or rec.num_steps == 0:
        return problems
    problems += _step_problems(rec.steps)
    if not np.all(np.isfinite(rec.wall_times)):
        problems.append("/timeline/wall_time has non-finite values")
    return problems


def _step_problems(steps: np.ndarray) -> list[str]:
    """Python integers: np.diff of int64 steps overflows and can hide a step that goes down."""
    values = [int(s) for s in steps.tolist()]
    if values[0] < 0 or max(values) >= MAX_STEP:
        return [f"/timeline/step has values outside 0..2**53-1 ({min(values)}..{max(values)})"]
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            return [f"/timeline/step is not strictly increasing (step {values[i]} at position "
                    f"{i} follows {values[i - 1]})"]
    return []


def _variable_problems(rec: Recording) -> list[str]:
    problems = []
    for name, ds in rec._datasets.items():
        where = f"/variables/{name}"
        missing = [a for a in L.VAR_ATTRS if a not in ds.attrs]
        if missing:
            problems.append(f"{where} lacks attributes {', '.join(missing)}")
        if ds.dtype.kind not in "fiub":
            problems.append(f"{where} has non-numeric dtype {ds.dtype}")
        summary = rec._summaries[name]
        expected = L.BASE_SUMMARY_COLUMNS if rec.format_version == "1.0" else L.SUMMARY_COLUMNS
        if summary.shape[1:] != (len(expected),):
            problems.append(f"/summaries/{name} should have {len(expected)} columns, "
                            f"has shape {summary.shape}")
    extra = sorted(set(rec._summaries) - set(rec._datasets))
    problems += [f"/summaries/{n} has no variable" for n in extra]
    return problems


def _scalar_problems(rec: Recording) -> list[str]:
    problems = []
    for name, ds in rec._scalar_sets.items():
        if ds.ndim != 1 or ds.shape[0] < rec.num_steps:
            problems.append(f"/scalars/step/{name} is shorter than the {rec.num_steps} steps")
    for name, ds in rec._epoch_sets.items():
        if ds.ndim != 1 or ds.shape[0] < rec.num_epochs:
            problems.append(f"/scalars/epoch/{name} is shorter than the {rec.num_epochs} epochs")
    return problems
