"""ModelRecorder: record a Keras model's variables from any training loop."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from weightreel.formats import RecordingError, RecordingWriter

from ._array_recorder import DEFAULT_QUEUE_BYTES, ArrayRecorder, RecordingWarning, numbers_of
from ._metadata import json_safe, model_metadata
from ._snapshot import Snapshot, make_reader
from ._variables import Patterns, match_recorded, select_variables, unmatched_patterns
from ._warn import warn

__all__ = ["DEFAULT_QUEUE_BYTES", "ModelRecorder", "RecordingWarning"]


class ModelRecorder(ArrayRecorder):
    """Record the variables of a Keras model, step after step, from any training loop.

    `record()` reads every selected variable (a fast copy on the calling thread) and queues the
    values; a background thread writes them and their summaries into the recording. Use it in
    a `tf.GradientTape` loop, or wherever `model.fit` and its callbacks are not used. It is the
    Keras adapter (variable selection, snapshot and learning-rate readers, Keras metadata,
    resume matching) over `ArrayRecorder`, which does all the writing.

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

    no_variables_message = "no variables to record (check include/exclude)"

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
        self._optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        self._model_name = getattr(model, "name", None)
        self._selected = select_variables(model, include=include, exclude=exclude, layers=layers,
                                          trainable_only=trainable_only)
        unmatched = unmatched_patterns(model, include, exclude)
        if unmatched:
            warn(f"weightreel: {os.fspath(filepath)}: include/exclude pattern(s) "
                 f"{', '.join(map(repr, unmatched))} match no variable of the model",
                 RecordingWarning)
        meta = model_metadata(model, self._optimizer)
        meta.update(metadata or {})
        if notes is not None:
            meta["notes"] = notes
        if hyperparameters is not None:
            meta["hyperparameters"] = json_safe(dict(hyperparameters))
        super().__init__(filepath, {s.name: s.spec for s in self._selected}, meta,
                         float16=float16, compression=compression,
                         commit_interval=commit_interval, append=append, strict=strict,
                         max_queue_bytes=max_queue_bytes)
        if self._worker is not None:
            self._snapshot = Snapshot([s.variable for s in self._selected],
                                      buffers=self.buffer_steps)
            self._learning_rate = _lr_reader(self._optimizer)

    def _declare(self, writer: RecordingWriter, specs: dict) -> None:
        existing = writer.variable_names
        if existing:  # appending: continue the recorded names (with or without the model's)
            names = match_recorded(existing, list(specs), self._model_name)
            if names is None:
                raise RecordingError(self.filepath, "cannot append: the recording holds other "
                                     "variables than the model (different model or selection)")
            for s in self._selected:
                s.name = names[s.name]
            specs = {s.name: s.spec for s in self._selected}
        super()._declare(writer, specs)

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
            return self.snapshot_failed(exc)
        values = numbers_of(scalars)
        if "learning_rate" not in values and self._learning_rate is not None:
            values["learning_rate"] = self._read_learning_rate()
        step = self.last_step + 1 if step is None else int(step)
        named = dict(zip(self.variable_names, arrays, strict=True))
        # copy=False: nothing changes the snapshot's arrays afterwards (fresh copies, or a
        # step buffer that is not reused while the writer holds any of its arrays).
        return self.write(named, step, epoch, batch, values, copy=False)

    def _read_learning_rate(self) -> float:
        try:
            return self._learning_rate()
        except Exception:  # noqa: BLE001 - a learning rate we cannot read is left out
            self._learning_rate = None
            return math.nan

    def __enter__(self) -> ModelRecorder:
        return self


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
