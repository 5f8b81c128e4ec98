"""The callbacks record_overhead.py compares: the rivals, WeightRecorder, and the diagnostics
that take WeightRecorder apart (see record_overhead.py's docstring)."""

from __future__ import annotations

import hashlib
import os
import time

import keras
import numpy as np

from weightreel.recorder import WeightRecorder
from weightreel.recorder._snapshot import Snapshot


class GetWeightsList(keras.callbacks.Callback):
    """The origin post's recorder: the whole model appended to a Python list every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[list[np.ndarray]] = []

    def on_batch_end(self, batch, logs=None):
        self.history.append(self.model.get_weights())


class SyncNoop(keras.callbacks.Callback):
    """Diagnostic: a callback that does nothing per batch (Keras then calls it synchronously)."""

    def on_train_batch_end(self, batch, logs=None):
        pass


class SnapshotOnly(keras.callbacks.Callback):
    """Diagnostic: WeightRecorder's per-batch read of every variable, without writing."""

    def on_train_begin(self, logs=None):
        self.snapshot = Snapshot(self.model.weights)  # fresh copies, no step buffers

    def on_train_batch_end(self, batch, logs=None):
        self.snapshot()


class TrainingSideOnly(WeightRecorder):
    """Diagnostic: WeightRecorder whose writer thread drops the steps instead of writing them:
    what recording costs the training thread alone (the snapshot, the queue)."""

    def _open(self) -> None:
        super()._open()
        if self.recorder is not None:
            self.recorder._worker._append_many = self._write

    def _write(self, block: list) -> None:
        pass


BURN_SECONDS = 0.7e-3  # the writer's CPU per MLP step on the project's machine (writer_cpu.py)
_BURN_BYTES = bytes(1 << 16)


class BurnWithoutLock(TrainingSideOnly):
    """Diagnostic: the training side, and a writer thread that spends BURN_SECONDS of CPU per
    step without holding the interpreter lock (hashing, which releases it): whether the
    writer's CPU or its hold on the lock is what slows training."""

    def _write(self, block: list) -> None:
        end = time.thread_time() + len(block) * BURN_SECONDS
        while time.thread_time() < end:
            hashlib.sha256(_BURN_BYTES).digest()


class BurnWithLock(TrainingSideOnly):
    """Diagnostic: the same CPU per step, spent in Python, holding the interpreter lock."""

    def _write(self, block: list) -> None:
        end = time.thread_time() + len(block) * BURN_SECONDS
        while time.thread_time() < end:
            sum(range(300))


DIAGNOSTICS = ["diag_snapshot_only", "diag_training_side_only", "diag_burn_without_lock",
               "diag_burn_with_lock"]


def variants(tmp: str) -> dict:
    return {
        "plain": lambda: [],
        "get_weights_list": lambda: [GetWeightsList()],
        "tensorboard_histograms": lambda: [keras.callbacks.TensorBoard(
            os.path.join(tmp, "tb"), histogram_freq=1)],
        "weightreel": lambda: [WeightRecorder(os.path.join(tmp, "run.h5"))],
        "diag_sync_noop_callback": lambda: [SyncNoop()],
        "diag_snapshot_only": lambda: [SnapshotOnly()],
        "diag_training_side_only": lambda: [TrainingSideOnly(os.path.join(tmp, "side.h5"))],
        "diag_burn_without_lock": lambda: [BurnWithoutLock(os.path.join(tmp, "free.h5"))],
        "diag_burn_with_lock": lambda: [BurnWithLock(os.path.join(tmp, "held.h5"))],
    }
