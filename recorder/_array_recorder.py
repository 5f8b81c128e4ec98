"""The one recording core every framework's recorder is built on: named numpy arrays, step
after step, written by the background thread, with the rule that recording never breaks
training (it warns and stops, or raises when `strict`)."""

from __future__ import annotations

import logging
import math
import numbers
import os
import re
import time
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from weightreel.formats import RecordingError, RecordingWriter, VariableSpec, open_recording
from weightreel.formats.summaries import NUM_COLUMNS

from ._budget import chunk_slack
from ._warn import warn
from ._worker import BackgroundWriter

DEFAULT_QUEUE_BYTES = 64 << 20

logger = logging.getLogger("weightreel.recorder")


class RecordingWarning(UserWarning):
    """The recording stopped (or never started), or an option selects nothing; training was
    not interrupted."""


class ArrayRecorder:
    """Writes named arrays (declared up front by `specs`) on a background thread.

    A process that does not write (`writes=False`: not rank 0) gets an inactive recorder whose
    methods do nothing, so that no rank ever fails because of the recorder. With `append`, an
    existing recording is continued: `last_step`, `last_epoch` and `resumed_steps` then say
    where it ended. Subclasses (framework adapters) may override `_declare` to match their
    names to the recorded ones.
    """

    no_variables_message = "no variables to record"

    def __init__(
        self,
        filepath: str | os.PathLike,
        specs: Mapping[str, VariableSpec],
        metadata: Mapping[str, Any],
        *,
        writes: bool = True,
        float16: bool = False,
        compression: str | None = None,
        commit_interval: float = 1.0,
        append: bool = False,
        strict: bool = False,
        max_queue_bytes: int = DEFAULT_QUEUE_BYTES,
    ) -> None:
        self.filepath = os.fspath(filepath)
        self.strict = strict
        self.error: BaseException | None = None
        self.last_step = -1
        self.last_epoch = -1  # the last epoch of a resumed recording (-1: none)
        self.resumed_steps = 0
        self.variable_names = list(specs)
        rows = [(tuple(s.shape), _itemsize(s.dtype, float16)) for s in specs.values()]
        self.bytes_per_step = 32 + sum(math.prod(shape) * size + NUM_COLUMNS * 8
                                       for shape, size in rows)  # 32: the timeline row
        self.chunk_slack_bytes = chunk_slack(rows, compression is not None)
        self._worker: BackgroundWriter | None = None
        self.buffer_steps = 0  # step buffers a snapshot may reuse (see _snapshot.Snapshot)
        if not writes:
            return
        options = {"float16": float16, "compression": compression,
                   "commit_interval": commit_interval}
        try:
            self._open(dict(specs), dict(metadata), options, append, max_queue_bytes)
        except RecordingError as exc:
            self._fail(exc)

    # ----------------------------------------------------------------- opening
    def _open(self, specs: dict, metadata: dict, options: dict, append: bool,
              max_queue_bytes: int) -> None:
        if not specs:
            raise RecordingError(self.filepath, self.no_variables_message)
        exists = os.path.isfile(self.filepath) and os.path.getsize(self.filepath) > 0
        if append and exists:
            with open_recording(self.filepath) as rec:
                self.last_step = int(rec.steps[-1]) if rec.num_steps else -1
                self.last_epoch = _last_epoch(rec)
        replaced = _existing_steps(self.filepath) if exists and not append else None
        writer = RecordingWriter(self.filepath, "a" if append else "w", metadata=metadata,
                                 **options)
        try:
            self._declare(writer, specs)
        except BaseException:
            writer.abandon()
            raise
        if replaced is not None:
            logger.warning("weightreel: replacing the existing recording %s (%d steps); pass "
                           "append=True to continue it", self.filepath, replaced)
        self.resumed_steps = writer.num_steps
        items = max(1, min(16, max_queue_bytes // max(1, self.bytes_per_step)))
        self._worker = BackgroundWriter(writer, items)
        # Steps alive at once: the queue's, the block the thread writes, the last step it
        # keeps (the update norm) and the one being read; kept to twice the queue's memory,
        # as the buffers stay allocated (a model larger than that gets 2, and fresh copies
        # when both are in use).
        self.buffer_steps = max(2, min(2 * items + 2,
                                       2 * max_queue_bytes // max(1, self.bytes_per_step)))
        self._finalizer = weakref.finalize(self, self._worker.close, False, 30.0)

    def _declare(self, writer: RecordingWriter, specs: dict) -> None:
        """Declare the variables; an appended recording must hold exactly these names."""
        if writer.variable_names and set(writer.variable_names) != set(specs):
            raise RecordingError(self.filepath, "cannot append: the recording holds other "
                                 "variables than the model (different model or selection)")
        for name, spec in specs.items():
            writer.declare(name, spec)
        self.variable_names = list(specs)

    # ----------------------------------------------------------------- recording
    @property
    def active(self) -> bool:
        """Whether this process records (rank 0) and recording has not stopped."""
        return self._worker is not None and self._check()

    def write(self, arrays: Mapping[str, np.ndarray], step: int, epoch: int | None,
              batch: int | None, scalars: Mapping[str, Any] | None, *,
              copy: bool = True) -> bool:
        """Queue one step of arrays already read off the model (`copy=False`: fresh copies
        that nothing changes afterwards). False if recording stopped."""
        if self._worker is None or not self._check():
            return False
        self.last_step = int(step)
        try:
            self._worker.append(dict(arrays), step=int(step), epoch=epoch, batch=batch,
                                scalars=numbers_of(scalars), wall_time=time.time(), copy=copy)
        except RuntimeError as exc:  # the writer closed under us
            self._stop(exc)
            return False
        return True

    def record_epoch(self, epoch: int, logs: Mapping[str, Any] | None = None) -> bool:
        """Record one epoch's logs (for example val_loss) as epoch scalars."""
        if self._worker is None or not self._check():
            return False
        self._worker.append_epoch(int(epoch), numbers_of(logs))
        return True

    def snapshot_failed(self, exc: BaseException) -> bool:
        """Stop recording because the model's values could not be read; always False."""
        if self._worker is not None:
            self._stop(RecordingError(self.filepath, "cannot read the model's variables: "
                                      f"{type(exc).__name__}: {exc}".strip()))
        return False

    def commit(self, timeout: float | None = 30.0) -> bool:
        """Write every queued step and commit it before returning (a new recording gets its
        name at its first commit). Returns False if recording has stopped."""
        if self._worker is None or not self._check():
            return False
        self._worker.commit(timeout)
        return self._check()

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Add or replace metadata documents (hyperparameters, notes, ...)."""
        if self._worker is not None and self._check():
            self._worker.update_metadata(metadata)

    # ----------------------------------------------------------------- ending
    def close(self, finished: bool = True) -> None:
        """Write every queued step and close the file. Safe to call more than once."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        self._finalizer.detach()
        worker.close(finished)
        if worker.error is not None and self.error is None:
            self._fail(worker.error)

    def discard(self) -> None:
        """Stop before recording anything: a new file is not kept (used when a disk budget
        cannot hold the recording)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            self._finalizer.detach()
            worker.close(False, discard=True)

    def _check(self) -> bool:
        if self._worker is not None and self._worker.error is not None:
            self._stop(self._worker.error)
            return False
        return True

    def _stop(self, exc: BaseException) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            self._finalizer.detach()
            worker.close(False)
        self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        message = _one_line(self.filepath, exc)
        if self.strict:
            raise RecordingError(None, message) from exc
        warn(f"weightreel: recording stopped, training goes on: {message}", RecordingWarning)

    def __enter__(self) -> ArrayRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(finished=exc_type is None)


def check_every(every: int) -> int:
    """`every` (record each N-th step) as given, if it is a positive integer; else ValueError."""
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a positive integer, not {every!r}")
    return every


def numbers_of(values: Mapping[str, Any] | None) -> dict[str, float]:
    """Scalars as floats: numbers, numpy scalars, and one-element tensors (detached)."""
    out: dict[str, float] = {}
    for key, value in (values or {}).items():
        if hasattr(value, "detach"):  # a torch tensor, maybe one that requires grad
            value = value.detach().cpu().double().numpy()
        try:
            if isinstance(value, numbers.Number) or np.size(value) == 1:
                out[str(key)] = float(np.asarray(value, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            continue
    return out


def _itemsize(dtype: Any, float16: bool) -> int:
    """Bytes per value as stored (bfloat16 is stored as float32, or float16 if asked)."""
    if str(dtype) == "bfloat16":
        return 2 if float16 else 4
    dtype = np.dtype(dtype)
    return 2 if float16 and dtype.kind == "f" else dtype.itemsize


def _existing_steps(path: str) -> int | None:
    """The number of steps of the weightreel recording at `path`; None if it holds none."""
    try:
        with open_recording(path) as rec:
            return int(rec.num_steps)
    except Exception:  # noqa: BLE001 - not a recording (or unreadable): nothing to report
        return None


def _last_epoch(rec: Any) -> int:
    """The highest epoch number in a recording's timeline and epoch rows (-1 if none)."""
    values = np.concatenate([np.asarray(rec.epochs, float), np.asarray(rec.epoch_numbers, float)])
    values = values[np.isfinite(values)]
    return int(values.max()) if len(values) else -1


def _one_line(path: str, exc: BaseException) -> str:
    if isinstance(exc, RecordingError):
        return str(exc)
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    found = re.search(r"error message = '([^']+)'", detail)  # HDF5's write failures
    if found:
        detail = found.group(1)
    elif isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    return f"{path}: {type(exc).__name__}: {detail}" if detail else f"{path}: {type(exc).__name__}"
