"""ModelRecorder: record a Keras model's variables from any training loop."""

from __future__ import annotations

import logging
import math
import numbers
import os
import re
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from weightreel.formats import RecordingError, RecordingWriter, open_recording
from weightreel.formats.summaries import NUM_COLUMNS

from ._budget import chunk_slack
from ._metadata import json_safe, model_metadata
from ._snapshot import make_reader, make_snapshot
from ._variables import Patterns, match_recorded, select_variables, unmatched_patterns
from ._warn import warn
from ._worker import BackgroundWriter

DEFAULT_QUEUE_BYTES = 64 << 20

logger = logging.getLogger("weightreel.recorder")


class RecordingWarning(UserWarning):
    """The recording stopped (or never started), or an option selects nothing; training was
    not interrupted."""


class ModelRecorder:
    """Record the variables of a Keras model, step after step, from any training loop.

    `record()` reads every selected variable (a fast copy on the calling thread) and queues the
    values; a background thread writes them and their summaries into the recording. Use it in
    a `tf.GradientTape` loop, or wherever `model.fit` and its callbacks are not used.

    A recording problem (unwritable path, full disk, file held by another writer) never stops
    training: the recorder warns once with a `RecordingWarning` naming the file and the problem,
    stops recording, and leaves the file readable up to its last commit. With `strict=True` it
    raises `weightreel.formats.RecordingError` instead.

    Args:
        filepath: the recording file (HDF5) to write.
        model: a built Keras model (or layer).
        optimizer: where to read the learning rate from; default `model.optimizer` if any.
        include: shell-style patterns; record only variables whose path (like "dense/kernel";
            a leading model name, as in Sequential models' "model/dense/kernel", may be left
            out) or layer name matches one of them. A pattern that matches no variable of the
            model gives a `RecordingWarning` naming it.
        exclude: shell-style patterns of variables (path or layer name) not to record.
        layers: record only the variables of these layers (Layer objects or names).
        trainable_only: record trainable variables only; by default every variable in
            `model.weights` is recorded (BatchNormalization moving statistics included).
        float16: store floating-point values as float16, halving the file.
        compression: None (fastest, default), "lzf" or "gzip".
        commit_interval: seconds between commits; a crash loses at most this much.
        metadata: extra run metadata (see weightreel.formats.RecordingWriter).
        notes: free text stored with the recording.
        hyperparameters: a dict of hyperparameters stored with the recording.
        append: add to an existing recording and continue its step numbers, instead of
            overwriting it. Without it an existing recording is replaced, with one WARNING
            on the "weightreel.recorder" logger.
        strict: raise instead of warning when recording fails.
        max_queue_bytes: how much memory the queue of unwritten steps may use.

    Example:
        >>> import keras, numpy as np
        >>> from weightreel.recorder import ModelRecorder
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> with ModelRecorder("/tmp/model_recorder_example.h5", model) as recorder:
        ...     recorder.record(scalars={"loss": 1.0})  # step 0: the initial weights
        ...     _ = model.layers[0].bias.assign([0.5])
        ...     recorder.record(scalars={"loss": 0.5})  # step 1
        True
        True
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        model: Any,
        *,
        optimizer: Any = None,
        include: Patterns = None,
        exclude: Patterns = None,
        layers: Sequence[Any] | None = None,
        trainable_only: bool = False,
        float16: bool = False,
        compression: str | None = None,
        commit_interval: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
        notes: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
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
        self._worker: BackgroundWriter | None = None
        self._optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        self._model_name = getattr(model, "name", None)
        self._selected = select_variables(model, include=include, exclude=exclude, layers=layers,
                                          trainable_only=trainable_only)
        self.variable_names = [s.name for s in self._selected]
        unmatched = unmatched_patterns(model, include, exclude)
        if unmatched:
            warn(f"weightreel: {self.filepath}: include/exclude pattern(s) "
                 f"{', '.join(map(repr, unmatched))} match no variable of the model",
                 RecordingWarning)
        self.bytes_per_step = _bytes_per_step(self._selected, float16)
        self.chunk_slack_bytes = chunk_slack(
            [(tuple(s.spec.shape), _itemsize(s.spec.dtype, float16)) for s in self._selected],
            compression is not None)
        meta = model_metadata(model, self._optimizer)
        meta.update(metadata or {})
        if notes is not None:
            meta["notes"] = notes
        if hyperparameters is not None:
            meta["hyperparameters"] = json_safe(dict(hyperparameters))
        options = {"float16": float16, "compression": compression,
                   "commit_interval": commit_interval}
        try:
            self._open(meta, options, append, max_queue_bytes)
        except RecordingError as exc:
            self._fail(exc)

    # ----------------------------------------------------------------- opening
    def _open(self, meta: dict, options: dict, append: bool, max_queue_bytes: int) -> None:
        if not self._selected:
            raise RecordingError(self.filepath, "no variables to record (check include/exclude)")
        exists = os.path.isfile(self.filepath) and os.path.getsize(self.filepath) > 0
        if append and exists:
            with open_recording(self.filepath) as rec:
                self.last_step = int(rec.steps[-1]) if rec.num_steps else -1
                self.last_epoch = _last_epoch(rec)
        replaced = _existing_steps(self.filepath) if exists and not append else None
        writer = RecordingWriter(self.filepath, "a" if append else "w", metadata=meta, **options)
        try:
            self._declare(writer)
        except BaseException:
            writer.abandon()
            raise
        if replaced is not None:
            logger.warning("weightreel: replacing the existing recording %s (%d steps); pass "
                           "append=True to continue it", self.filepath, replaced)
        self.resumed_steps = writer.num_steps
        self._snapshot = make_snapshot([s.variable for s in self._selected])
        self._learning_rate = _lr_reader(self._optimizer)
        items = max(1, min(16, max_queue_bytes // max(1, self.bytes_per_step)))
        self._worker = BackgroundWriter(writer, items)
        self._finalizer = weakref.finalize(self, self._worker.close, False, 30.0)

    def _declare(self, writer: RecordingWriter) -> None:
        existing = writer.variable_names
        if existing:
            names = match_recorded(existing, self.variable_names, self._model_name)
            if names is None:
                raise RecordingError(self.filepath, "cannot append: the recording holds other "
                                     "variables than the model (different model or selection)")
            for s in self._selected:  # continue the recorded names
                s.name = names[s.name]
            self.variable_names = [s.name for s in self._selected]
        for s in self._selected:
            writer.declare(s.name, s.spec)

    # ----------------------------------------------------------------- recording
    @property
    def active(self) -> bool:
        """Whether steps are still being recorded."""
        return self._worker is not None and self._check()

    def record(
        self,
        step: int | None = None,
        epoch: int | None = None,
        batch: int | None = None,
        scalars: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record the model's variables now. Returns False if recording has stopped.

        `step` defaults to the last recorded step + 1 (0 for the first record of a new file).
        `scalars` (loss, metrics) are stored with the step; the learning rate is added.
        """
        if self._worker is None or not self._check():
            return False
        try:
            arrays = self._snapshot()
        except Exception as exc:  # noqa: BLE001 - a variable that cannot be read stops recording
            self._stop_reading(exc)
            return False
        values = _numbers(scalars)
        if "learning_rate" not in values and self._learning_rate is not None:
            values["learning_rate"] = self._read_learning_rate()
        step = self.last_step + 1 if step is None else int(step)
        self.last_step = step
        named = dict(zip(self.variable_names, arrays, strict=True))
        # copy=False: the snapshot's arrays are fresh copies that nothing changes afterwards.
        self._worker.append(named, step=step, epoch=epoch, batch=batch, scalars=values,
                            wall_time=time.time(), copy=False)
        return True

    def record_epoch(self, epoch: int, logs: Mapping[str, Any] | None = None) -> bool:
        """Record one epoch's logs (for example val_loss) as epoch scalars."""
        if self._worker is None or not self._check():
            return False
        self._worker.append_epoch(int(epoch), _numbers(logs))
        return True

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
            worker, self._worker = self._worker, None
            self._finalizer.detach()
            worker.close(False)
            self._fail(worker.error)
            return False
        return True

    def _stop_reading(self, exc: BaseException) -> None:
        worker, self._worker = self._worker, None
        self._finalizer.detach()
        worker.close(False)
        self._fail(RecordingError(self.filepath, "cannot read the model's variables: "
                                  f"{type(exc).__name__}: {exc}".strip()))

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        message = _one_line(self.filepath, exc)
        if self.strict:
            raise RecordingError(None, message) from exc
        warn(f"weightreel: recording stopped, training goes on: {message}", RecordingWarning)

    def _read_learning_rate(self) -> float:
        try:
            return self._learning_rate()
        except Exception:  # noqa: BLE001 - a learning rate we cannot read is left out
            self._learning_rate = None
            return math.nan

    def __enter__(self) -> ModelRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(finished=exc_type is None)


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


def _itemsize(dtype: Any, float16: bool) -> int:
    dtype = np.dtype(dtype)
    return 2 if float16 and dtype.kind == "f" else dtype.itemsize


def _bytes_per_step(selected: list, float16: bool) -> int:
    total = 32  # the timeline row
    for s in selected:
        total += math.prod(s.spec.shape) * _itemsize(s.spec.dtype, float16) + NUM_COLUMNS * 8
    return total


def _lr_reader(optimizer: Any):
    if optimizer is None:
        return None
    variable = getattr(optimizer, "_learning_rate", None)
    if variable is not None and hasattr(variable, "assign") and hasattr(variable, "shape"):
        read = make_reader(variable)
        return lambda: float(read())
    if not hasattr(optimizer, "learning_rate"):
        return None
    import keras

    return lambda: float(np.asarray(keras.ops.convert_to_numpy(optimizer.learning_rate)))


def _numbers(values: Mapping[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (values or {}).items():
        value = value.detach() if hasattr(value, "detach") else value  # a torch loss tensor
        if isinstance(value, numbers.Number) or np.ndim(value) == 0:
            try:
                out[str(key)] = float(value)
            except (TypeError, ValueError):
                continue
    return out


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
