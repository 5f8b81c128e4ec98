"""The part every framework's recorder shares: named numpy arrays, step after step, written by
the background thread, with the rule that recording never breaks training."""

from __future__ import annotations

import math
import numbers
import os
import time
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from weightreel.formats import RecordingError, RecordingWriter, VariableSpec
from weightreel.formats.summaries import NUM_COLUMNS

from ._warn import warn
from ._worker import BackgroundWriter
from .model_recorder import DEFAULT_QUEUE_BYTES, RecordingWarning, _one_line


class ArrayRecorder:
    """Writes named arrays (declared up front by `specs`) on a background thread.

    A process that does not write (`writes=False`: not rank 0) gets an inactive recorder whose
    methods do nothing, so that no rank ever fails because of the recorder.
    """

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
        strict: bool = False,
        max_queue_bytes: int = DEFAULT_QUEUE_BYTES,
    ) -> None:
        self.filepath = os.fspath(filepath)
        self.strict = strict
        self.error: BaseException | None = None
        self.last_step = -1
        self.variable_names = list(specs)
        self._worker: BackgroundWriter | None = None
        if not writes:
            return
        try:
            self._open(dict(specs), dict(metadata), float16, compression, commit_interval,
                       max_queue_bytes)
        except RecordingError as exc:
            self._fail(exc)

    def _open(self, specs, metadata, float16, compression, commit_interval, max_queue_bytes):
        if not specs:
            raise RecordingError(self.filepath, "no variables to record")
        writer = RecordingWriter(self.filepath, "w", metadata=metadata, float16=float16,
                                 compression=compression, commit_interval=commit_interval)
        try:
            for name, spec in specs.items():
                writer.declare(name, spec)
        except BaseException:
            writer.abandon()
            raise
        per_step = _bytes_per_step(specs.values(), float16)
        self._worker = BackgroundWriter(writer, max(1, min(16, max_queue_bytes // per_step)))
        self._finalizer = weakref.finalize(self, self._worker.close, False, 30.0)

    @property
    def active(self) -> bool:
        """Whether this process records (rank 0) and recording has not stopped."""
        return self._worker is not None and self._check()

    def write(self, arrays: Mapping[str, np.ndarray], step: int, epoch: int | None,
              batch: int | None, scalars: Mapping[str, Any] | None) -> bool:
        """Queue one step of arrays already copied off the model. False if recording stopped."""
        if self._worker is None or not self._check():
            return False
        self.last_step = int(step)
        try:
            self._worker.append(dict(arrays), step=int(step), epoch=epoch, batch=batch,
                                scalars=numbers_of(scalars), wall_time=time.time())
        except RuntimeError as exc:  # the writer closed under us
            self._stop(exc)
            return False
        return True

    def snapshot_failed(self, exc: BaseException) -> bool:
        """Stop recording because the model's values could not be read; always False."""
        if self._worker is not None:
            self._stop(RecordingError(self.filepath, "cannot read the model's variables: "
                                      f"{type(exc).__name__}: {exc}".strip()))
        return False

    def close(self, finished: bool = True) -> None:
        """Write every queued step and close the file. Safe to call more than once."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        self._finalizer.detach()
        worker.close(finished)
        if worker.error is not None and self.error is None:
            self._fail(worker.error)

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


def _bytes_per_step(specs, float16: bool) -> int:
    total = 32
    for spec in specs:
        itemsize = 4 if str(spec.dtype) == "bfloat16" else np.dtype(spec.dtype).itemsize
        if float16 and (str(spec.dtype) == "bfloat16" or np.dtype(spec.dtype).kind == "f"):
            itemsize = 2
        total += math.prod(spec.shape) * itemsize + NUM_COLUMNS * 8
    return total
