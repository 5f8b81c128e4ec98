"""slice_recording(): a smaller copy of a recording, streamed in bounded blocks of rows.

The copy is a complete recording written with RecordingWriter: metadata, variable attributes,
timeline, per-step scalars of the kept rows, and epoch logs of the epochs those rows cover.
Its `source` metadata document says what it was cut from and how.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fnmatch
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _layout as L
from .errors import RecordingError
from .reader import Recording, open_recording
from .writer import RecordingWriter, VariableSpec

BLOCK_BYTES = 32 << 20  # rows are read this many bytes at a time (all kept variables together)

Progress = Callable[[int, int], None]  # (rows done, rows in all)
StepRange = tuple[int | None, int | None]


def select_rows(steps: np.ndarray, step_range: StepRange | None = None,
                every: int = 1) -> np.ndarray:
    """Positions of the timeline whose global step is in [a, b), then every `every`-th of them.

    `step_range` is (a, b) in global step numbers; either end may be None (open). Raises
    ValueError if `every` < 1 or the range is reversed.
    """
    if every < 1:
        raise ValueError(f"--every must be 1 or more, not {every}")
    a, b = step_range if step_range is not None else (None, None)
    if a is not None and b is not None and b <= a:
        raise ValueError(f"step range {a}:{b} is empty (the end is exclusive, "
                         "and must exceed the start)")
    keep = np.ones(len(steps), dtype=bool)
    if a is not None:
        keep &= steps >= a
    if b is not None:
        keep &= steps < b
    return np.flatnonzero(keep)[::every]


def short_name(name: str) -> str:
    """The name without its first path component ('mymodel/dense/kernel' -> 'dense/kernel').

    Keras Sequential models record their variables under the model's name; functional models
    do not. A name without '/' is returned as is.
    """
    return name.split("/", 1)[1] if "/" in name else name


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) or (
        "/" in name and fnmatch.fnmatchcase(short_name(name), pattern))


def match_variables(names: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The names matching any fnmatch-style pattern, in recording order (all if no patterns).

    A pattern matches a name, or the name without its first component (so 'dense*' matches
    'mymodel/dense/kernel'). Raises ValueError naming the first pattern that matches nothing.
    """
    if not patterns:
        return list(names)
    for pattern in patterns:
        if not any(_matches(n, pattern) for n in names):
            raise ValueError(f"--include {pattern!r} matches no variable "
                             f"(variables: {_short_list(names)})")
    return [n for n in names if any(_matches(n, p) for p in patterns)]


def resolve_variable(names: Sequence[str], wanted: str) -> str:
    """The recorded name that `wanted` means.

    In order: the exact name; the one name whose short_name() is `wanted`; the one name that
    ends with `wanted` on whole path components ('kernel' in 'm/dense/kernel', not 'ernel').
    Raises ValueError: several candidates (listed) or none (the closest names listed).
    """
    if wanted in names:
        return wanted
    for candidates in ([n for n in names if "/" in n and short_name(n) == wanted],
                       [n for n in names if n.endswith("/" + wanted.lstrip("/"))]):
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise ValueError(f"variable {wanted!r} is ambiguous: it could be "
                             f"{_short_list(candidates, 8)}; give the full name")
    raise ValueError(f"no variable {wanted!r} ({_closest(names, wanted)})")


def _closest(names: Sequence[str], wanted: str) -> str:
    import difflib

    if not names:
        return "the recording has no variables"
    shorts = {short_name(n): n for n in names}
    close = difflib.get_close_matches(wanted, list(names), n=4, cutoff=0.5)
    close += [shorts[s] for s in difflib.get_close_matches(wanted, list(shorts), n=4, cutoff=0.5)]
    close = list(dict.fromkeys(close))[:4]
    if close:
        return "closest: " + ", ".join(close)
    return f"variables: {_short_list(names)}"


def check_writable(path: str | os.PathLike) -> None:
    """Raise RecordingError naming `path` if a new file cannot be created in its folder.

    A small file is created there and removed at once: permissions, read-only file systems and
    special folders such as /proc are all caught before any work is done.
    """
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    probe = os.path.join(folder, f".{base}.probe-{os.getpid()}")
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise RecordingError(path, f"cannot be written: {write_problem(exc, folder)}") from None
    os.close(fd)
    _remove_quietly(probe)


def write_problem(exc: BaseException, folder: str) -> str:
    """A short reason why writing in `folder` failed, without temporary names or HDF5 text."""
    code = getattr(exc, "errno", None)
    if code is None:  # h5py puts the errno inside its message: "... errno = 2, ..."
        found = re.search(r"errno = (\d+)", str(exc))
        code = int(found.group(1)) if found else None
    reasons = {errno.EACCES: f"permission denied in folder {folder}",
               errno.EPERM: f"permission denied in folder {folder}",
               errno.EROFS: f"folder {folder} is on a read-only file system",
               errno.ENOSPC: "no space left on the device",
               errno.EDQUOT: "disk quota exceeded",
               errno.ENOENT: f"folder {folder} does not accept new files"}
    if code in reasons:
        return reasons[code]
    if code is not None:
        return os.strerror(code)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def slice_recording(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    steps: StepRange | None = None,
    every: int = 1,
    include: Sequence[str] | None = None,
    float16: bool = False,
    compress: bool = False,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write a smaller copy of recording `src` to `dst`; returns the `source` document written.

    Args:
        steps: (a, b) global step numbers, b exclusive, either may be None.
        every: keep every N-th of the selected steps (the first selected step is kept).
        include: fnmatch-style patterns of variable names to keep (default: all).
        float16: store floating-point variables as float16 (kept if `src` already is).
        compress: gzip the variables' rows.
        progress: called with (rows done, rows in all) as rows are copied.
        overwrite: replace an existing `dst` (otherwise an existing `dst` is refused).

    The copy is written next to `dst` under a temporary name and renamed when complete, so an
    interrupted slice never leaves a half-written `dst`. Memory stays bounded: rows are copied
    in blocks of about BLOCK_BYTES whatever the size of `src`.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    _check_destination(src, dst, overwrite)
    with open_recording(src) as rec:
        rows = select_rows(rec.steps, steps, every)
        if rows.size == 0:
            raise ValueError(f"{src}: the step selection keeps no steps "
                             f"(recorded steps: {_step_span(rec)})")
        try:
            names = match_variables(rec.variable_names, include)
        except ValueError as exc:
            raise ValueError(f"{src}: {exc}") from None
        source = _source_document(rec, steps, every, include, float16, compress, rows)
        tmp = _temporary_name(dst)
        try:
            _write_copy(rec, tmp, rows, names, source, float16, compress, progress)
            os.replace(tmp, dst)
        except (OSError, RecordingError) as exc:
            _remove_quietly(tmp)
            if isinstance(exc, RecordingError) and exc.path != tmp:
                raise
            folder = os.path.dirname(os.path.abspath(dst))
            raise RecordingError(dst, f"cannot be written: {write_problem(exc, folder)}") from exc
        except BaseException:
            _remove_quietly(tmp)
            raise
    return source


def _check_destination(src: str, dst: str, overwrite: bool) -> None:
    if os.path.isdir(dst):
        raise RecordingError(dst, "is a directory; give the output file's name")
    if os.path.exists(dst):
        if os.path.exists(src) and os.path.samefile(src, dst):
            raise RecordingError(dst, "is the input file; choose another output name")
        if not overwrite:
            raise RecordingError(dst, "already exists (use --force to overwrite it)")
    parent = os.path.dirname(os.path.abspath(dst))
    if not os.path.isdir(parent):
        raise RecordingError(dst, f"cannot be created: folder {parent} does not exist")
    check_writable(dst)


def _temporary_name(dst: str) -> str:
    folder, base = os.path.split(os.path.abspath(dst))
    return os.path.join(folder, f".{base}.partial-{os.getpid()}")


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _write_copy(rec: Recording, out: str, rows: np.ndarray, names: list[str],
                source: dict[str, Any], float16: bool, compress: bool,
                progress: Progress | None) -> None:
    infos = [rec.variables[n] for n in names]
    store16 = float16 or any(v.stored_dtype == "float16" and v.dtype != "float16" for v in infos)
    writer = RecordingWriter(out, "x", metadata=_metadata(rec, source), float16=store16,
                             compression="gzip" if compress else None, commit_interval=5.0)
    try:
        for v in infos:
            writer.declare(v.name, VariableSpec(v.shape, v.dtype, v.layer, v.layer_class,
                                                v.role, v.trainable))
        _copy_steps(rec, writer, rows, names, progress, np.float16 if store16 else None)
        _copy_epochs(rec, writer, rows)
    except BaseException:
        writer.abandon()
        raise
    writer.close(finished=rec.finished)


def _copy_steps(rec: Recording, writer: RecordingWriter, rows: np.ndarray, names: list[str],
                progress: Progress | None, cast: type | None) -> None:
    """Append the kept rows, read in blocks; floats are cast to `cast` first if given.

    Casting here with numpy is much faster than letting HDF5 convert float32 to float16.
    """
    row_bytes = sum(rec.variables[n].size * np.dtype(rec.variables[n].stored_dtype).itemsize
                    for n in names)
    per_block = max(1, BLOCK_BYTES // max(row_bytes, 1))
    scalars = {n: rec.scalar(n)[rows] for n in rec.scalar_names}
    steps, epochs = rec.steps[rows], rec.epochs[rows]
    batches, times = rec.batches[rows], rec.wall_times[rows]
    for lo in range(0, rows.size, per_block):
        block = rows[lo:lo + per_block]
        arrays = {n: _cast(rec.read_rows(n, block), cast) for n in names}
        for k in range(block.size):
            i = lo + k
            writer.append({n: a[k] for n, a in arrays.items()}, step=int(steps[i]),
                          epoch=int(epochs[i]), batch=int(batches[i]), wall_time=float(times[i]),
                          scalars={n: float(v[i]) for n, v in scalars.items()})
        del arrays
        if progress is not None:
            progress(lo + block.size, rows.size)


def _cast(values: np.ndarray, cast: type | None) -> np.ndarray:
    if cast is None or values.dtype.kind != "f" or values.dtype == cast:
        return values
    return values.astype(cast)


def _copy_epochs(rec: Recording, writer: RecordingWriter, rows: np.ndarray) -> None:
    """Copy the epoch logs of the epochs that the kept rows cover."""
    if rec.num_epochs == 0:
        return
    kept = rec.epochs[rows]
    lo, hi = int(kept.min()), int(kept.max())
    numbers = rec.epoch_numbers
    logs = {n: rec.epoch_scalar(n) for n in rec.epoch_scalar_names}
    for j, epoch in enumerate(numbers):
        if lo <= int(epoch) <= hi:
            writer.append_epoch(int(epoch), {n: float(v[j]) for n, v in logs.items()})


def _metadata(rec: Recording, source: dict[str, Any]) -> dict[str, Any]:
    meta = rec.metadata
    keep = (*L.RUN_ATTRS_TEXT, *L.META_JSON, *L.META_TEXT)
    out = {k: meta[k] for k in keep if k in meta and meta[k] not in (None, "")}
    out["source"] = source
    return out


def _source_document(rec: Recording, steps: StepRange | None, every: int,
                     include: Sequence[str] | None, float16: bool, compress: bool,
                     rows: np.ndarray) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "sliced_from": os.path.basename(rec.path),
        "sliced_from_path": os.path.abspath(rec.path),
        "sliced_from_created": rec.created,
        "sliced_from_steps": rec.num_steps,
        "sliced_from_ended": rec.metadata.get("ended", ""),
        "sliced_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "slice": {
            "steps": None if steps is None else [steps[0], steps[1]],
            "every": every,
            "include": list(include) if include else None,
            "float16": float16,
            "compress": compress,
        },
        "kept_steps": int(rows.size),
    }
    previous = rec.metadata.get("source")
    if previous not in (None, ""):
        doc["original_source"] = previous
    return doc


def _step_span(rec: Recording) -> str:
    if rec.num_steps == 0:
        return "none"
    return f"{int(rec.steps[0])}..{int(rec.steps[-1])}"


def _short_list(names: Sequence[str], limit: int = 6) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
