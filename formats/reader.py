"""open_recording() and Recording: lazy, O(1)-to-open access to a recording, live or finished."""

from __future__ import annotations

import fcntl
import os
import time
from functools import cached_property
from typing import Any

import h5py
import numpy as np

from . import _layout as L
from ._direct import DirectRows
from ._h5 import check_identity, describe_os_error, open_h5_read
from ._meta import read_metadata
from ._reading import (
    READ_ERRORS,
    VariableInfo,
    _collect,
    _first_line,
    _identity,
    _text,
    check_lengths,
    variable_info,
)
from .errors import (
    CorruptRecordingError,
    MissingColumnError,
    RecordingError,
    RecordingIndexError,
    UnknownVariableError,
)
from .trust import check_claims, survey


def open_recording(path: str | os.PathLike) -> Recording:
    """Open a recording for reading. Raises RecordingError with a one-line message on failure."""
    return Recording(os.fspath(path))


class Recording:
    """A recording opened for reading. Cheap to open; arrays are read only when asked for.

    Indexes are positions on the timeline (0 is the initial state); `steps[i]` is the global
    step number at position i. `refresh()` picks up steps that a live writer has committed.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._file: h5py.File | None = None
        self._open()

    # ----------------------------------------------------------------- opening
    def _open(self) -> None:
        self.close()  # else HDF5 hands back the open file, stale metadata and all
        f = open_h5_read(self.path)
        try:
            facts = survey(self.path, f)  # headers only: refuses links, external data, VDS
            self.format_version = check_identity(self.path, f)
            self._bind(f)
            check_claims(self.path, facts, self.num_steps, self.num_epochs,
                         os.path.getsize(self.path))
        except RecordingError:
            self.close()
            f.close()
            raise
        except READ_ERRORS as exc:
            self.close()
            f.close()
            raise CorruptRecordingError(
                self.path, f"is missing or has broken parts ({_first_line(exc)})") from None
        self._file = f

    def _bind(self, f: h5py.File) -> None:
        required = [L.COMMITTED, L.META, *(f"{L.TIMELINE}/{c}" for c in L.TIMELINE_COLUMNS),
                    L.VARIABLES, L.SUMMARIES, L.STEP_SCALARS, f"{L.EPOCH_SCALARS}/{L.EPOCH_COLUMN}"]
        missing = [name for name in required if name not in f]
        if missing:
            raise CorruptRecordingError(
                self.path, f"is missing {', '.join('/' + m for m in missing)}")
        committed = f[L.COMMITTED]
        if not isinstance(committed, h5py.Dataset) or committed.shape != (2,) \
                or committed.dtype.kind != "i":
            raise CorruptRecordingError(self.path, "has a malformed /committed dataset")
        self._committed_offset = committed.id.get_offset()
        self._identity = _identity(self.path)
        self._timeline = {c: self._need(f, f"{L.TIMELINE}/{c}", h5py.Dataset)
                          for c in L.TIMELINE_COLUMNS}
        self._datasets = _collect(self._need(f, L.VARIABLES, h5py.Group))
        self._rows = DirectRows()
        self._summaries = _collect(self._need(f, L.SUMMARIES, h5py.Group))
        self._scalar_sets = _collect(self._need(f, L.STEP_SCALARS, h5py.Group))
        self._epoch_sets = _collect(self._need(f, L.EPOCH_SCALARS, h5py.Group))
        self._meta_group = self._need(f, L.META, h5py.Group)
        self.num_steps, self.num_epochs = self._read_committed(committed)
        if self.num_steps < 0 or self.num_epochs < 0:
            raise CorruptRecordingError(
                self.path, f"has negative committed counts ({self.num_steps}, {self.num_epochs})")
        self._check_lengths()
        self._forget_cached()

    def _need(self, f: h5py.File, name: str, kind: type) -> Any:
        obj = f[name]
        if not isinstance(obj, kind):
            raise CorruptRecordingError(self.path, f"/{name} should be a {kind.__name__.lower()}"
                                                   f" but is a {type(obj).__name__.lower()}")
        return obj

    def _read_committed(self, committed: h5py.Dataset) -> tuple[int, int]:
        if self._committed_offset is not None:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
            raw = os.pread(self._fd, 16, self._committed_offset)
            if len(raw) == 16:
                steps, epochs = np.frombuffer(raw, dtype="<i8")
                return int(steps), int(epochs)
        steps, epochs = committed[:2]
        return int(steps), int(epochs)

    def _check_lengths(self) -> None:
        check_lengths(self.path, self.num_steps, {L.TIMELINE: self._timeline,
                                                  L.VARIABLES: self._datasets,
                                                  L.SUMMARIES: self._summaries})

    def _forget_cached(self) -> None:
        for name in ("steps", "epochs", "batches", "wall_times", "metadata", "variables",
                     "summary_columns"):
            self.__dict__.pop(name, None)

    def refresh(self) -> int:
        """Pick up what a live writer committed since opening; returns num_steps.

        Unless the file changed on disk, this costs one stat. When it did, the committed count
        is read (16 bytes); when that changed, or the file was replaced (a writer compacts
        small files when it closes), or the writer closed it, the file is opened again, so
        that new extents, scalars and metadata are seen too.
        """
        stamp = _identity(self.path)
        if stamp == self._identity:
            return self.num_steps
        if self._file is not None and stamp[:2] == self._identity[:2]:
            try:
                counts = self._read_committed(self._file[L.COMMITTED])
            except READ_ERRORS as exc:
                raise describe_os_error(self.path, exc) from None
            if counts == (self.num_steps, self.num_epochs) and self._writer_holds_file():
                self._identity = stamp  # rows were written, none committed yet
                return self.num_steps
        self._reopen()
        return self.num_steps

    def _writer_holds_file(self) -> bool:
        """Whether a writer still has the file open (it holds an exclusive flock)."""
        if self._fd is None:
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return True  # no locks on this file system: wait for the count to change
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    def _reopen(self, attempts: int = 3) -> None:
        # A writer in the middle of a growth event can make one attempt see torn metadata.
        for attempt in range(attempts):
            try:
                self._open()
                return
            except RecordingError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Recording {self.path!r}: {len(self._datasets)} variables, {self.num_steps} steps>"

    # ----------------------------------------------------------------- description
    @cached_property
    def metadata(self) -> dict[str, Any]:
        """Run metadata: framework, host, started, ended, finished, model_config, notes, ...

        A document longer than 1 MiB is kept as its first 1 MiB of text, unparsed."""
        return self._guarded(lambda: read_metadata(self._meta_group))

    @property
    def float16_overflow_step(self) -> int | None:
        """The first step whose float16-stored values overflowed to inf (None: none did)."""
        value = self._file.attrs.get(L.ATTR_FLOAT16_OVERFLOW)
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return None

    @property
    def creator(self) -> str:
        return self._guarded(lambda: _text(self._file.attrs.get(L.ATTR_CREATOR, "")))

    @property
    def created(self) -> str:
        return self._guarded(lambda: _text(self._file.attrs.get(L.ATTR_CREATED, "")))

    @property
    def finished(self) -> bool:
        return bool(self.metadata.get("finished", False))

    @cached_property
    def variables(self) -> dict[str, VariableInfo]:
        return self._guarded(self._variable_infos)

    def _variable_infos(self) -> dict[str, VariableInfo]:
        return {name: variable_info(name, ds) for name, ds in self._datasets.items()}

    @property
    def variable_names(self) -> list[str]:
        return list(self._datasets)

    @property
    def file_size(self) -> int:
        return os.path.getsize(self.path)

    # ----------------------------------------------------------------- timeline
    def _column(self, name: str) -> np.ndarray:
        return self._guarded(lambda: self._timeline[name][: self.num_steps])

    @cached_property
    def steps(self) -> np.ndarray:
        """Global step number at each position."""
        return self._column("step")

    @cached_property
    def epochs(self) -> np.ndarray:
        return self._column("epoch")

    @cached_property
    def batches(self) -> np.ndarray:
        return self._column("batch")

    @cached_property
    def wall_times(self) -> np.ndarray:
        return self._column("wall_time")

    def index_of_step(self, step: int) -> int:
        """Position of global step `step`, or of the last recorded step before it."""
        i = self._guarded(lambda: int(np.searchsorted(self.steps, step, side="right"))) - 1
        return max(i, 0)

    # ----------------------------------------------------------------- arrays
    def _position(self, index: int) -> int:
        try:
            i = int(index)
        except (TypeError, ValueError, OverflowError):
            raise RecordingIndexError(self.path, f"step index {index!r} is not a whole number") \
                from None
        if i < 0:
            i += self.num_steps
        if not 0 <= i < self.num_steps:
            raise RecordingIndexError(
                self.path, f"step index {index} out of range for {self.num_steps} steps")
        return i

    def _dataset(self, name: str) -> h5py.Dataset:
        try:
            return self._datasets[name]
        except KeyError:
            raise UnknownVariableError(self.path, f"no variable {name!r}") from None

    def read(self, name: str, index: int) -> np.ndarray:
        """The value of variable `name` at timeline position `index`, in its stored dtype."""
        ds, i = self._dataset(name), self._position(index)  # _fd: opened with the file
        row = self._guarded(lambda: self._rows.read(name, ds, self._fd, i))
        return row if row is not None else self._guarded(lambda: ds[i])

    def read_range(self, name: str, start: int = 0, stop: int | None = None,
                   stride: int = 1) -> np.ndarray:
        """Values at positions start:stop:stride, shaped (n, *shape)."""
        ds = self._dataset(name)
        s = slice(start, self.num_steps if stop is None else min(stop, self.num_steps), stride)
        return self._guarded(lambda: ds[s])

    def read_element(self, name: str, element: tuple[int, ...] | int, start: int = 0,
                     stop: int | None = None) -> np.ndarray:
        """The trajectory of one element (index tuple, or flat index) over positions start:stop."""
        ds = self._dataset(name)
        info = self.variables[name]
        try:
            if isinstance(element, (int, np.integer)):
                element = np.unravel_index(int(element), info.shape) if info.shape else ()
            where = tuple(int(e) for e in element)
        except (ValueError, TypeError) as exc:
            raise RecordingIndexError(self.path, f"element {element!r} of {name!r}: "
                                                 f"{_first_line(exc)}") from None
        stop = self.num_steps if stop is None else min(stop, self.num_steps)
        return self._guarded(lambda: ds[(slice(start, stop), *where)])

    def read_rows(self, name: str, positions: np.ndarray) -> np.ndarray:
        """Values at sorted `positions`, shaped (n, *shape): one strided read when evenly spaced."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        if positions.size == 0:
            raise RecordingIndexError(self.path, "no positions to read")
        first, last = int(positions[0]), int(positions[-1])
        if positions.size == 1:
            return self.read_range(name, first, first + 1)
        stride = int(positions[1] - positions[0])
        if stride > 0 and np.all(np.diff(positions) == stride):
            return self.read_range(name, first, last + 1, stride)
        return np.stack([self.read(name, int(i)) for i in positions])

    def _guarded(self, read):
        try:
            return read()
        except RecordingError:
            raise
        except MemoryError:
            raise CorruptRecordingError(self.path, "needs more memory to read than is free") \
                from None
        except READ_ERRORS as exc:
            raise describe_os_error(self.path, exc) from None

    # ----------------------------------------------------------------- scalars and summaries
    @property
    def scalar_names(self) -> list[str]:
        return list(self._scalar_sets)

    def scalar(self, name: str) -> np.ndarray:
        """A per-step scalar (loss, metrics, learning_rate) at every position; NaN where missing."""
        ds = self._named(self._scalar_sets, name, "step scalar")
        return self._guarded(lambda: ds[: self.num_steps])

    @property
    def epoch_scalar_names(self) -> list[str]:
        return [n for n in self._epoch_sets if n != L.EPOCH_COLUMN]

    def epoch_scalar(self, name: str) -> np.ndarray:
        ds = self._named(self._epoch_sets, name, "epoch scalar")
        return self._guarded(lambda: ds[: self.num_epochs])

    @property
    def epoch_numbers(self) -> np.ndarray:
        return self.epoch_scalar(L.EPOCH_COLUMN)

    @cached_property
    def summary_columns(self) -> tuple[str, ...]:
        """This file's summary columns, from the summaries' `columns` attribute: the 18 of
        format 1.0, or those plus `update_norm` (1.1)."""
        for ds in self._summaries.values():
            names = ds.attrs.get("columns")
            if names is not None:
                return tuple(_text(n) for n in names)
            return L.SUMMARY_COLUMNS[: ds.shape[1]]
        return L.BASE_SUMMARY_COLUMNS if self.format_version == "1.0" else L.SUMMARY_COLUMNS

    def has_summary_column(self, column: str) -> bool:
        return column in self.summary_columns

    def summary(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Summary rows (see summary_columns) of variable `name`, shaped (n, columns)."""
        stop = self.num_steps if stop is None else min(stop, self.num_steps)
        ds = self._named(self._summaries, name, "summary")
        return self._guarded(lambda: ds[start:stop])

    def summary_column(self, name: str, column: str) -> np.ndarray:
        """One summary column of variable `name` at every position.

        Raises MissingColumnError when this file lacks the column (update_norm before 1.1).
        """
        try:
            j = self.summary_columns.index(column)
        except ValueError:
            raise MissingColumnError(
                self.path, f"has no summary column {column!r} (format {self.format_version}; "
                + ("update_norm was added in format 1.1" if column == L.UPDATE_NORM
                   else f"columns: {', '.join(self.summary_columns)}") + ")") from None
        ds = self._named(self._summaries, name, "summary")
        return self._guarded(lambda: ds[: self.num_steps, j])

    def _named(self, sets: dict[str, h5py.Dataset], name: str, what: str) -> h5py.Dataset:
        try:
            return sets[name]
        except KeyError:
            raise UnknownVariableError(self.path, f"no {what} {name!r}") from None
