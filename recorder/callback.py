"""WeightRecorder: the Keras callback that records every weight at every batch."""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from weightreel.formats import RecordingError

from ._budget import parse_bytes, plan_budget
from ._warn import warn
from .model_recorder import DEFAULT_QUEUE_BYTES, ModelRecorder, RecordingWarning

logger = logging.getLogger("weightreel.recorder")
SPEED_HINT_BYTES = 16 << 20  # a step this large, every batch, costs training visibly


def _show_info_lines() -> None:
    """Make the recorder's one-line INFO messages visible when the program set up no logging.

    Python shows only warnings by default; the size line at training start is meant to be
    read. A program that configures logging itself keeps full control.
    """
    if logger.handlers or logging.getLogger().handlers or logger.level != logging.NOTSET:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class WeightRecorder(keras.callbacks.Callback):
    """Record every weight and bias of the model during `fit`, into one recording file.

    Row 0 of the recording is the model before its first update; then one row is recorded
    every `save_freq` batches (or at the end of each epoch), and with an integer `save_freq`
    the final state too when training ends between two of those rows. Each row carries the
    batch logs and the learning rate; the epoch logs (validation) are recorded as epoch
    scalars. Open the file with `weightreel.formats.open_recording` or the weightreel viewer.

    The per-step loss and metrics are what Keras passes to `on_train_batch_end`: in Keras 3
    these are running means over the epoch so far (the mean loss of batches 0..b of the
    epoch), not the loss of batch b alone. They are recorded as Keras gives them.

    The variables are read on the training thread (one fast copy per variable) and written by
    a background thread, behind a bounded queue: when the disk is slower than training,
    training waits instead of memory growing. A commit at least every `commit_interval`
    seconds keeps the file readable, even while training runs or after it crashes.

    Recording never breaks training: an invalid path or a file held by another writer is
    reported when training begins, a full disk when it happens, each as one `RecordingWarning`
    naming the file; the recording stops and training goes on. `strict=True` raises
    `weightreel.formats.RecordingError` instead. Under `tf.distribute` only the chief writes.

    When training begins, one INFO line on the "weightreel.recorder" logger gives the file, the
    bytes per step and the projected size; a WARNING when that passes `size_warning_bytes`,
    and one when every batch of a large model (16 MB a step or more) is recorded, which slows
    training: save_freq=N, float16=True or max_bytes keep it fast.

    Args:
        filepath: the recording file to write (HDF5, conventionally `.h5`).
        save_freq: "batch" (default, every batch), "epoch" (at the end of each epoch), or an
            integer N: every N batches.
        max_bytes: a disk budget instead of `save_freq`, like "5GB", "500MB" or a number of
            bytes. When training begins, the recorder picks the smallest interval of batches
            whose file fits (from the bytes per step, the planned batches and the chunk space
            HDF5 allocates whole, so small budgets are conservative; the initial and final
            states are always kept) and logs what it chose. Passing it together with
            `save_freq` is refused.
        include: shell-style patterns; record only variables whose path (like "dense/kernel")
            or layer name (like "conv*") matches one of them. The model name Keras puts in
            front of a Sequential model's paths ("mymodel/dense/kernel") may be left out. A
            pattern that matches no variable gives a `RecordingWarning` naming it.
        exclude: shell-style patterns of variables (path or layer name) to leave out.
        layers: record only the variables of these layers (Layer objects or names).
        trainable_only: record trainable variables only. By default every variable of
            `model.weights` is recorded, BatchNormalization moving statistics included.
        float16: store floating-point values as float16, halving the file. Values beyond
            ±65504 are stored as inf: the summaries count them, and a
            `weightreel.formats.Float16OverflowWarning` is given once.
        compression: None (default, fastest), "lzf" or "gzip".
        commit_interval: seconds between commits; a crash loses at most this much. The initial
            state is committed before the first batch, so the file exists from then on.
        metadata: extra run metadata, stored with the model and optimizer configuration.
        notes: free text stored with the recording.
        hyperparameters: a dict of hyperparameters; epochs, steps and batch size are added.
        append: add to an existing recording, continuing its step and epoch numbers, instead
            of overwriting it (which logs one WARNING when the file holds a recording). When
            the recording's last epoch is E, Keras epoch e is recorded as E + 1 + e; a fit
            with `initial_epoch` past E keeps Keras' epoch numbers. A model saved and reloaded
            with `keras.models.load_model` continues the recording: variable names match with
            or without the model's name in front. A refused append (other variables or
            shapes) leaves the file byte for byte as it was.
        size_warning_bytes: warn when the projected file size passes this (None: never).
        strict: raise instead of warning when recording fails.
        max_queue_bytes: memory for steps waiting to be written.

    Example:
        >>> import keras, numpy as np
        >>> from weightreel.recorder import WeightRecorder
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, "tanh")])
        >>> model.compile(keras.optimizers.SGD(0.5), "mse")
        >>> x = np.random.rand(100, 2)
        >>> history = model.fit(x, np.tanh(x.sum(1)), epochs=2, verbose=0,
        ...                     callbacks=[WeightRecorder("/tmp/weightrecorder_example.h5")])
        >>> from weightreel.formats import open_recording
        >>> open_recording("/tmp/weightrecorder_example.h5").num_steps  # initial + 2 x 4 batches
        9
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        save_freq: str | int | None = None,
        *,
        max_bytes: int | str | None = None,
        include: str | Sequence[str] | None = None,
        exclude: str | Sequence[str] | None = None,
        layers: Sequence[Any] | None = None,
        trainable_only: bool = False,
        float16: bool = False,
        compression: str | None = None,
        commit_interval: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
        notes: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        append: bool = False,
        size_warning_bytes: int | None = 10 << 30,
        strict: bool = False,
        max_queue_bytes: int = DEFAULT_QUEUE_BYTES,
    ) -> None:
        super().__init__()
        _show_info_lines()
        self.filepath = os.fspath(filepath)
        if max_bytes is not None and save_freq is not None:
            raise ValueError("pass save_freq or max_bytes, not both: max_bytes picks the "
                             "recording frequency that fits the budget")
        self.save_freq = _check_save_freq("batch" if save_freq is None else save_freq)
        self.max_bytes = None if max_bytes is None else parse_bytes(max_bytes)
        self.size_warning_bytes = size_warning_bytes
        self.strict = strict
        self.recorder: ModelRecorder | None = None
        self._options = {
            "include": include, "exclude": exclude, "layers": layers,
            "trainable_only": trainable_only, "float16": float16, "compression": compression,
            "commit_interval": commit_interval, "metadata": metadata, "notes": notes,
            "append": append, "strict": strict, "max_queue_bytes": max_queue_bytes,
        }
        self._hyperparameters = dict(hyperparameters or {})
        self._epoch = 0  # Keras' epoch number
        self._epoch_offset = 0  # added to Keras' epoch numbers when appending
        self._resumed_epoch = -1  # the last epoch of the recording appended to (-1: none)
        self._offset_pending = False  # set at the first epoch: Keras 3 has no initial_epoch
        self._last_batch: tuple[int, dict[str, Any]] | None = None  # batch index and logs
        self._deferred = False
        self._size_pending = False  # the size line waits for the first epoch's number
        self._step = 0  # batches done since training began (+ the resumed step)
        self._epoch_first_step = 0

    # ----------------------------------------------------------------- training begins
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._close(finished=False)  # a previous fit that raised never reached on_train_end
        self._deferred = False
        if not _is_chief():
            return
        if not self.model.weights:  # a subclassed model that fit builds in its first step
            logger.info("weightreel: %s starts after the first batch: the model has no weights "
                        "before fit builds it (build the model first to record its initial "
                        "state)", self.filepath)
            self._deferred = True
            return
        self._open()
        if self.recorder is not None and self.recorder.resumed_steps == 0:
            self.recorder.record(step=self._step, epoch=self._epoch_at_start() +
                                 self._epoch_offset, batch=-1)
            # Committed before the first batch: from now on the recording exists under its
            # own name and a kill at any moment leaves it readable.
            self.recorder.commit()
            self._drop_if_stopped()

    def _open(self) -> None:
        hyper = {**_fit_hyperparameters(self.params), **self._hyperparameters}
        self.recorder = ModelRecorder(self.filepath, self.model, hyperparameters=hyper,
                                      **self._options)
        if not self.recorder.active:
            self.recorder = None
            return
        self._step = self._epoch_first_step = max(self.recorder.last_step, 0)
        self._resumed_epoch, self._epoch_offset = self.recorder.last_epoch, 0
        self._offset_pending = True
        self._size_pending = True  # at the first epoch: Keras 3 does not say initial_epoch
        if self.max_bytes is not None:
            self._fit_budget()

    def _fit_budget(self) -> None:
        """Choose save_freq so that the finished file fits in max_bytes (see the Args)."""
        params = self.params or {}
        epochs = (params.get("epochs") or 0) - self._epoch_at_start()
        steps = params.get("steps")
        already = os.path.getsize(self.filepath) if self.recorder.resumed_steps else 0
        per_step = self.recorder.bytes_per_step
        if not steps:  # a generator of unknown length: the epoch ends are what can be planned
            self.save_freq = "epoch"
            logger.info("weightreel: max_bytes %s: steps per epoch unknown, recording at each "
                        "epoch's end", _size(self.max_bytes))
            return
        plan = plan_budget(self.max_bytes, per_step, max(0, epochs) * steps, already,
                           self.recorder.chunk_slack_bytes)
        if plan is None:
            message = (f"weightreel: {self.filepath}: max_bytes {_size(self.max_bytes)} cannot "
                       f"hold the initial and final states ({_size(per_step)} per step); "
                       f"not recording")
            recorder, self.recorder = self.recorder, None
            recorder.discard()
            if self.strict:
                raise RecordingError(None, message)
            warn(message, RecordingWarning)
            return
        self.save_freq = "batch" if plan.every == 1 else plan.every
        every = "every batch" if plan.every == 1 else f"every {plan.every} batches"
        logger.info("weightreel: max_bytes %s: recording %s (%d steps, about %s)",
                    _size(self.max_bytes), every, plan.rows, _size(plan.bytes + already))

    def _decide_epoch_offset(self, first_epoch: int) -> None:
        """Continue a resumed recording's epoch numbers: Keras' first epoch of this fit
        (its initial_epoch) becomes the recording's last epoch + 1, unless it is past it."""
        last = self._resumed_epoch
        self._epoch_offset = last + 1 - first_epoch if 0 <= first_epoch <= last else 0
        self._offset_pending = False

    def _epoch_at_start(self) -> int:
        return int(self.params.get("initial_epoch", 0) or 0) if self.params else 0

    def _report_size(self, first_epoch: int) -> None:
        self._size_pending = False
        params = {**(self.params or {}), "initial_epoch": first_epoch}
        per_step = self.recorder.bytes_per_step
        rows = _planned_rows(params, self.save_freq, self.recorder.resumed_steps > 0)
        where = f"weightreel: recording {len(self.recorder.variable_names)} variables to " \
                f"{self.filepath}: {_size(per_step)} per step"
        self._hint_speed(per_step)
        if rows is None:
            logger.info("%s (steps per epoch unknown: no size projection)", where)
            return
        total = rows * per_step
        epochs = _remaining_epochs(params)
        logger.info("%s, about %s for %s epochs (%d steps)", where, _size(total), epochs, rows)
        if self.size_warning_bytes is not None and total > self.size_warning_bytes:
            logger.warning("weightreel: %s will grow to about %s (over %s); consider save_freq, "
                           "include/exclude or float16", self.filepath, _size(total),
                           _size(self.size_warning_bytes))

    def _hint_speed(self, per_step: int) -> None:
        """Every batch of a large model is a memory copy and a disk write of that size per
        step: suggest what keeps training fast (benchmarks/record_overhead.py, 10M model)."""
        if self.save_freq == "batch" and per_step >= SPEED_HINT_BYTES:
            logger.warning("weightreel: %s: recording every batch writes %s per step, which "
                           "slows training; consider save_freq=N, float16=True or max_bytes",
                           self.filepath, _size(per_step))

    # ----------------------------------------------------------------- during training
    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_first_step = self._step
        self._last_batch = None
        if self._offset_pending:
            self._decide_epoch_offset(epoch)
        if self._size_pending and self.recorder is not None:
            self._report_size(epoch)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._deferred:
            self._deferred = False
            self._open()
            if self.recorder is not None:
                self._decide_epoch_offset(self._epoch)
                self._report_size(self._epoch)
        if self.recorder is None:
            return
        steps = (self.params or {}).get("steps")
        batch = min(batch, steps - 1) if steps else batch  # steps_per_execution may overshoot
        before, self._step = self._step, self._epoch_first_step + batch + 1
        self._last_batch = (batch, dict(logs or {}))
        freq = self.save_freq
        if freq == "batch" or (freq != "epoch" and self._step // freq > before // freq):
            self._record(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.recorder is None:
            return
        if self.save_freq == "epoch":
            self._record(self._step - self._epoch_first_step - 1, logs)
        if self.recorder is not None:
            self.recorder.record_epoch(epoch + self._epoch_offset, logs)
            self._drop_if_stopped()

    def _record(self, batch: int, logs: Mapping[str, Any] | None) -> None:
        _sync_live_state(self)
        self.recorder.record(step=self._step, epoch=self._epoch + self._epoch_offset,
                             batch=batch, scalars=logs)
        self._drop_if_stopped()

    def _drop_if_stopped(self) -> None:
        if self.recorder is not None and self.recorder.error is not None:
            self.recorder = None

    # ----------------------------------------------------------------- training ends
    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        recorder = self.recorder
        if (recorder is not None and isinstance(self.save_freq, int)
                and self._last_batch is not None and self._step > recorder.last_step):
            self._record(*self._last_batch)  # the final state, between two save_freq rows
        self._close(finished=True)

    def _close(self, finished: bool) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close(finished)


def _sync_live_state(callback: keras.callbacks.Callback) -> None:
    """Put the model's live values back into its variables before they are read.

    During an epoch, Keras' JAX trainer keeps the live values in its own state and empties the
    variables; reading `Callback.model` (the public route) makes it put them back. On the other
    backends the variables are always live. tests/test_recorder_backends.py fails if a Keras
    release changes this.
    """
    _ = callback.model


def _check_save_freq(save_freq: str | int) -> str | int:
    if save_freq in ("batch", "epoch"):
        return save_freq
    if isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0:
        return save_freq
    raise ValueError(f'save_freq must be "batch", "epoch" or a positive integer, not {save_freq!r}')


def _remaining_epochs(params: Mapping[str, Any]) -> int | None:
    """The epochs this fit will run: `epochs` less `initial_epoch` (a resumed fit)."""
    epochs = params.get("epochs")
    if not epochs:
        return None
    return max(0, int(epochs) - int(params.get("initial_epoch", 0) or 0))


def _planned_rows(params: Mapping[str, Any], save_freq: str | int,
                  resumed: bool = False) -> int | None:
    """Rows this fit will add: the initial state (not when resuming), then one per step."""
    epochs, steps = _remaining_epochs(params), params.get("steps")
    if epochs is None:
        return None
    first = 0 if resumed else 1
    if save_freq == "epoch":
        return first + epochs
    if not steps:
        return None
    per_epoch = steps if save_freq == "batch" else steps / save_freq
    return first + math.ceil(epochs * per_epoch)


def _fit_hyperparameters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    keep = ("epochs", "steps", "batch_size", "initial_epoch")
    return {k: params[k] for k in keep if params and params.get(k) is not None}


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _is_chief() -> bool:
    """Whether this process writes: the chief of a TF_CONFIG cluster, or a lone process."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except ValueError:
        warn("weightreel: TF_CONFIG is not valid JSON; recording as the chief", RecordingWarning)
        return True
    cluster, task = config.get("cluster") or {}, config.get("task") or {}
    if not cluster or not task:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    if "chief" in cluster:
        return kind == "chief"
    return kind == "worker" and index == 0
