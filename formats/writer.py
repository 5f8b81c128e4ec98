"""RecordingWriter: the public way to record named numpy arrays, step after step, into one file."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import h5py
import numpy as np

from . import _layout as L
from ._compact import compact, data_bytes, worth_compacting
from ._direct import DirectWriter
from ._float16 import OverflowWatch, as_stored
from ._meta import now_iso, update_run_attrs, write_documents
from ._stage import RowStage
from ._tables import RowTables, create_rows, fit_to_superblock, forget_rows, write_rows
from ._writer_open import VariableSpec, WriterFile, _Variable
from .errors import RecordingError
from .summaries import (
    EXACT_LIMIT,
    summarize,
    summarize_rows,
    summarize_step,
    update_norm,
    update_norms,
)

__all__ = ["RecordingWriter", "VariableSpec"]


class RecordingWriter(WriterFile):
    """Create or append to a recording, and write it step after step.

    The first call to `append` fixes the set of variables (unless `declare` was called first).
    Rows are written straight to the file; nothing accumulates in memory. A commit, at least
    every `commit_interval` seconds and at `close`, makes the new steps durable and visible.

    Args:
        path: the recording file.
        mode: "w" creates or overwrites, "x" creates and refuses an existing file, "a" appends
            to an existing recording (resuming its step count) or creates a new one.
        metadata: run metadata (framework, model_config, optimizer_config, hyperparameters,
            notes, versions, ...); see SPEC.md. Unknown keys are kept under `extra`.
        float16: store floating-point variables as float16 (their original dtype is noted).
        compression: None (default, readable by any HDF5 tool), "gzip" or "lzf".
        commit_interval: seconds between automatic commits.

    Example:
        >>> import numpy as np
        >>> from weightreel.formats import RecordingWriter
        >>> with RecordingWriter("/tmp/example.h5", metadata={"notes": "toy"}) as w:
        ...     for step in range(3):
        ...         w.append({"w": np.full((2, 2), step, np.float32)},
        ...                  scalars={"loss": 1 / (step + 1)})
    """

    def __init__(
        self,
        path: str | os.PathLike,
        mode: str = "w",
        *,
        metadata: Mapping[str, Any] | None = None,
        float16: bool = False,
        compression: str | None = None,
        commit_interval: float = 1.0,
    ) -> None:
        if mode not in ("w", "x", "a"):
            raise ValueError(f"mode must be 'w', 'x' or 'a', not {mode!r}")
        if compression not in (None, "gzip", "lzf"):
            raise ValueError(f"compression must be None, 'gzip' or 'lzf', not {compression!r}")
        self.path = os.fspath(path)
        self.float16 = float16
        self.compression = compression
        self.commit_interval = float(commit_interval)
        self._vars: dict[str, _Variable] = {}
        self._scalars: dict[str, h5py.Dataset] = {}
        self._epoch_scalars: dict[str, h5py.Dataset] = {}
        self._key: tuple[int, int] | None = None
        self._buffers: dict[str, np.ndarray] = {}  # copies of the last row, for update_norm
        self._stage = RowStage()
        self._file = self._open(mode, dict(metadata or {}))
        self._direct = DirectWriter(self._fd)
        self._overflow = OverflowWatch(self.path, self._file, self._version != "1.0")
        self._last_commit = time.monotonic()
        self.closed = False

    # ----------------------------------------------------------------- writing
    def append(
        self,
        arrays: Mapping[str, Any],
        *,
        step: int | None = None,
        epoch: int | None = None,
        batch: int | None = None,
        scalars: Mapping[str, float] | None = None,
        wall_time: float | None = None,
        copy: bool = True,
    ) -> int:
        """Write one step: every variable's array, its timeline entry and scalars.

        `step` defaults to the previous step + 1, `epoch` to the previous epoch, and `batch` to
        the previous batch + 1. Returns the step's row index. The writer keeps each array until
        the next step (for the update norm): it copies them unless `copy` is False, for callers
        that hand fresh arrays and never change them afterwards.
        """
        info = {"step": step, "epoch": epoch, "batch": batch, "scalars": scalars,
                "wall_time": wall_time}
        return self.append_many([(arrays, info)], copy=copy).start

    def append_many(self, steps: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *,
                    copy: bool = True) -> range:
        """Write several steps at once. Each item is (arrays, keywords): what `append` takes,
        the keywords among step, epoch, batch, scalars and wall_time. The file is the same as
        with one `append` per step, but small variables cost far fewer calls into numpy and
        HDF5 per step. Returns the steps' row indices.
        """
        self._check_open()
        values = [self._checked(arrays) for arrays, _ in steps]
        first, k = self.num_steps, len(values)
        if not k:
            return range(first, first)
        self._steps.ensure(first + k)
        stored = [{n: as_stored(v[n], var.data.dtype) for n, var in self._vars.items()}
                  for v in values]
        direct = [(var.data, first + i, s[n]) for n, var in self._vars.items() if var.direct
                  for i, s in enumerate(stored)]
        pending = self._direct.submit(direct) if direct else None
        summaries = {name: self._summary_rows(name, var, first, [v[name] for v in values],
                                              [s[name] for s in stored], copy)
                     for name, var in self._vars.items()}
        if pending is not None:
            pending.result()
        entries = []
        for i, (_, info) in enumerate(steps):
            entries.append(self._timeline_entry(info))
            for name, summary in summaries.items():
                self._overflow.check(name, values[i][name], stored[i][name],
                                     summary[i] if self._version != "1.0" else None,
                                     self.last_step)
        self._write_timeline(first, entries)
        self._write_scalars(first, [info.get("scalars") or {} for _, info in steps])
        self.num_steps = first + k
        self._maybe_commit()
        return range(first, first + k)

    def _summary_rows(self, name: str, var: _Variable, first: int, values: list[np.ndarray],
                      stored: list[np.ndarray], copy: bool) -> np.ndarray:
        """Write the non-direct rows of `var` from row `first`, and its summary rows; return
        the summary rows. A 1.1 file summarizes what it holds; a 1.0 file the values."""
        shown = stored if self._version != "1.0" else values
        if len(values) > 1 and math.prod(var.spec.shape) <= EXACT_LIMIT:  # small: K at once
            block = np.stack(shown)  # stored and values are the same arrays but for float16
            if not var.direct:
                self._put(var.data, first, block if _same(shown, stored) else np.stack(stored))
            rows = summarize_rows(block, var.sample)
            if var.has_update_norm:
                rows = np.column_stack([rows, update_norms(
                    block if _same(shown, values) else np.stack(values), var.previous)])
        else:
            if not var.direct:
                for i, row in enumerate(stored):
                    self._put(var.data, first + i, row[np.newaxis])
            rows = np.array([self._summary_row(var, x, v, b) for x, v, b in zip(
                shown, values, [var.previous, *values[:-1]], strict=True)])
        if var.has_update_norm:
            var.previous = self._kept(name, values[-1]) if copy else values[-1]
        self._put(var.summary, first, rows)
        return rows

    @staticmethod
    def _summary_row(var: _Variable, shown: np.ndarray, value: np.ndarray,
                     before: np.ndarray | None) -> np.ndarray:
        """One step's summary row: of `shown` (what the file holds), and where the file has
        the column, the update norm of `value` (the step as given) since `before`."""
        if not var.has_update_norm:
            return summarize(shown, var.sample)
        if shown is value:  # one pass over memory for both
            return summarize_step(value, before, var.sample)
        return np.append(summarize(shown, var.sample), update_norm(value, before))

    def _kept(self, name: str, value: np.ndarray) -> np.ndarray:
        """A copy of `value` in a buffer reused from step to step: a fresh 200 MB array each
        step would cost page faults worth several times the copy itself."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != value.dtype or buffer.shape != value.shape:
            buffer = self._buffers[name] = np.empty_like(value)
        np.copyto(buffer, value)
        return buffer

    @property
    def io_error(self) -> OSError | None:
        """The first OS error writing the file (HDF5 passes it on as a vaguer error)."""
        return self._guard.failure

    @property
    def last_step(self) -> int:
        """The global step number of the last appended step (-1 before any)."""
        return int(self._last["step"])

    def _timeline_entry(self, info: Mapping[str, Any]) -> dict[str, Any]:
        """The next step's timeline entry, from `info` (step, epoch, batch, wall_time, each
        optional) and the step before."""
        last, epoch, batch = self._last, info.get("epoch"), info.get("batch")
        if epoch is not None and epoch != last["epoch"] and batch is None:
            batch = 0
        step, wall_time = info.get("step"), info.get("wall_time")
        self._last = {
            "step": last["step"] + 1 if step is None else int(step),
            "epoch": last["epoch"] if epoch is None else int(epoch),
            "batch": last["batch"] + 1 if batch is None else int(batch),
            "wall_time": time.time() if wall_time is None else float(wall_time),
        }
        return self._last

    def _write_timeline(self, row: int, entries: list[dict[str, Any]]) -> None:
        """The timeline rows of steps `row`, `row` + 1, ...: one put per column for a block."""
        for ds, key in zip(self._steps.datasets[:4], ("step", "epoch", "batch", "wall_time"),
                           strict=True):
            self._put(ds, row, [entry[key] for entry in entries])

    def _write_scalars(self, row: int, scalars: list[Mapping[str, float]]) -> None:
        """The scalars of steps `row`, `row` + 1, ...; a scalar missing from a step is NaN
        there, and a new one NaN in every row before."""
        for name in dict.fromkeys(name for step in scalars for name in step):
            if name not in self._scalars:
                self._scalars[name] = self._new_column(self._steps, L.STEP_SCALARS, name, row)
        for name, ds in self._scalars.items():
            self._put(ds, row, [_as_float(step.get(name)) for step in scalars])

    def _put(self, ds: h5py.Dataset, first: int, block: np.ndarray) -> None:
        """ds[first:first + len(block)] = block: small rows wait in memory for the next commit
        (see _stage.py)."""
        if self._stage.holds(ds):
            self._stage.put(ds, first, block)
        else:
            write_rows(ds, first, block)

    def _new_column(self, tables: RowTables, root: str, name: str, rows: int) -> h5py.Dataset:
        try:
            group = self._group_for(root, name)
            ds = create_rows(group, name.split("/")[-1], (), np.dtype("<f8"), tables.capacity)
        except ValueError as exc:
            raise RecordingError(self.path, f"cannot store scalar {name!r}: {exc}") from None
        if rows:
            ds[:rows] = np.nan
        tables.add(ds)
        return ds

    def append_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Write one epoch's logs (for example val_loss) as a row of the epoch scalars."""
        self._check_open()
        row = self.num_epochs
        self._epochs.ensure(row + 1)
        for name in logs:
            if name not in self._epoch_scalars and name != L.EPOCH_COLUMN:
                self._epoch_scalars[name] = self._new_column(
                    self._epochs, L.EPOCH_SCALARS, name, row)
        self._put(self._epochs.datasets[0], row, int(epoch))
        for name, ds in self._epoch_scalars.items():
            self._put(ds, row, _as_float(logs.get(name)))
        self.num_epochs = row + 1
        self._maybe_commit()

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Add or replace metadata documents (model_config, notes, ...)."""
        self._check_open()
        write_documents(self._file[L.META], dict(metadata))
        self._file.flush()

    # ----------------------------------------------------------------- committing
    def _maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= self.commit_interval:
            self.commit()

    def commit(self) -> None:
        """Make every appended step durable and visible to readers."""
        self._check_open()
        done = [int(x) for x in self._committed[:2]]
        if done != [self.num_steps, self.num_epochs]:
            self._stage.flush()
            if self.compression:  # compressed chunks are allocated as they are flushed
                self._steps.reserve((self.num_steps - done[0]) * self._steps._total_row_bytes())
            self._start_resumed()
            self._overflow.note(self._file)
            self._file.flush()
            self._committed[:2] = [self.num_steps, self.num_epochs]
            self._file.flush()
        self._publish()
        self._last_commit = time.monotonic()

    def close(self, finished: bool = True) -> None:
        """Commit, note the end time and whether the run finished, trim spare rows, close."""
        if self.closed:
            return
        try:
            self._finish(finished)
        except BaseException:
            self.abandon()
            raise
        self.closed = True
        self._release()

    def _finish(self, finished: bool) -> None:
        self.commit()
        if self._resuming:  # opened to append, appended nothing: leave the file as it was
            forget_rows(self._steps.datasets + self._epochs.datasets)
            self._direct.close()
            self._file.close()
            return
        update_run_attrs(self._file[L.META], ended=now_iso(), finished=finished)
        self._file.flush()
        self._steps.trim(self.num_steps)
        self._epochs.trim(self.num_epochs)
        used = data_bytes(self._steps.datasets + self._epochs.datasets)
        forget_rows(self._steps.datasets + self._epochs.datasets)
        self._direct.close()
        self._file.close()
        self._guard.finish()
        fit_to_superblock(self.path)
        if worth_compacting(self.path, used):
            compact(self.path)

    def abandon(self) -> None:
        """Close without another commit, after a failure; what was committed stays readable."""
        if self.closed:
            return
        self.closed = True
        self._stage.drop()
        try:
            forget_rows(self._steps.datasets + self._epochs.datasets)
            self._direct.close()
            self._file.close()
        except Exception:  # noqa: BLE001 - the file may be on a full disk; nothing more to save
            pass
        self._release()  # after HDF5 let go of the descriptor; an unnamed file goes with it

    def _check_open(self) -> None:
        if self.closed:
            raise RecordingError(self.path, "writer is closed")

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.close(finished=False)


def _as_float(value: Any) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return math.nan


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(x is y for x, y in zip(a, b, strict=True))
