"""Run by test_recorder_failures.py in a subprocess: a full disk, and a fit that crashes.

    python recorder_failures.py OUTDIR LIMIT_BYTES

The file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with EFBIG) is the
whole process's, like a full disk. Prints one JSON line; the parent checks the files.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import warnings

import keras
from recorder_helpers import Reference, classification_data

from weightreel.formats import RecordingError, open_recording
from weightreel.recorder import RecordingWarning, WeightRecorder


def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256), keras.layers.Dense(10)])
    m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m  # about 70 KB a step


def full_disk(out: str, strict: bool) -> dict:
    x, y = classification_data(640, 64, 10)
    ref = Reference()
    rec = WeightRecorder(os.path.join(out, f"full_{strict}.h5"), commit_interval=0.02,
                         strict=strict)
    result: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            history = model().fit(x, y, epochs=6, batch_size=16, verbose=0, shuffle=False,
                                  callbacks=[rec, ref])
            result["epochs_run"] = len(history.history["loss"])
        except RecordingError as exc:
            result["raised"] = str(exc)
    result["warnings"] = [str(w.message) for w in caught if w.category is RecordingWarning]
    result["warned_at"] = [w.filename for w in caught if w.category is RecordingWarning]
    result["reference"] = len(ref.weights)
    with open_recording(rec.filepath) as done:  # what was committed equals the model's weights
        result["recorded"] = done.num_steps
        result["bit_exact"] = all(
            done.read(name, i).tobytes() == ref.weights[i][j].tobytes()
            for i in range(done.num_steps) for j, name in enumerate(done.variable_names))
    return result


class Crash(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.params and batch == 4 and getattr(self, "_epoch", 0) == 1:
            raise RuntimeError("user code failed")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def crash(out: str) -> dict:
    path = os.path.join(out, "crash.h5")
    x, y = classification_data(96, 6, 3)
    m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    recorder = WeightRecorder(path, commit_interval=0.05)
    try:
        m.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[recorder, Crash()])
    except RuntimeError:
        pass
    time.sleep(0.3)  # the background thread commits within commit_interval
    with open_recording(path) as rec:  # readable while this process still holds it
        live = rec.num_steps
    return {"live_steps": live}  # the finalizer writes the rest when the process exits


def main() -> None:
    out, limit = sys.argv[1], int(sys.argv[2])
    result = {"crash": crash(out)}
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(
        resource.RLIMIT_FSIZE)[1]))
    result["full"] = full_disk(out, strict=False)
    result["strict"] = full_disk(out, strict=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
