"""Kill a real Keras `fit` with WeightRecorder at random moments (tests/test_recorder_kill.py).

Run as `python recorder_kill.py OUTDIR SEED`: imports Keras once, then forks one child per run
(no TensorFlow op runs before a fork, so each child starts TensorFlow afresh). The first
child trains undisturbed into OUTDIR/reference.h5; each later child trains the same seeded
model into OUTDIR/kill<k>.h5 and gets SIGKILL at a random moment measured from the end of its
first batch. Prints one JSON line: the kill delays.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

EARLY_KILLS = 6  # in the first 2 s after the first batch ended
LATE_KILLS = 2  # between 2 and 3.5 s
EPOCHS = 4
BATCH_PAUSE_S = 0.012  # 384 batches last over 4.6 s: every kill lands inside fit


def train(path: str, notify: int | None) -> None:
    """The seeded run; writes a byte to `notify` when its first batch has ended."""
    import tensorflow as tf

    from weightreel.recorder import WeightRecorder

    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    keras.utils.set_random_seed(11)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3)], name="kill_mlp")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).normal(size=(768, 8)).astype("float32")
    y = np.arange(768) % 3

    class Notify(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if notify is not None and batch == 0 and self.model.optimizer.iterations == 1:
                os.write(notify, b"1")
            time.sleep(BATCH_PAUSE_S)

    model.fit(x, y, epochs=EPOCHS, batch_size=8, verbose=0, shuffle=False,
              callbacks=[WeightRecorder(path, commit_interval=0.25), Notify()])


def run_child(path: str, notify: int | None) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            train(path, notify)
            code = 0
        finally:
            os._exit(code)
    return pid


def main(out: str, seed: int) -> None:
    rng = random.Random(seed)
    pid = run_child(os.path.join(out, "reference.h5"), None)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the reference run failed"
    delays = [rng.uniform(0, 2) for _ in range(EARLY_KILLS)]
    delays += [rng.uniform(2, 3.5) for _ in range(LATE_KILLS)]
    for k, delay in enumerate(delays):
        read, write = os.pipe()
        pid = run_child(os.path.join(out, f"kill{k}.h5"), write)
        os.close(write)
        started = os.read(read, 1)  # the first batch ended
        os.close(read)
        if started:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print(json.dumps({"delays": delays}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
