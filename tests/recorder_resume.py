"""Resume a recording the way users do (tests/test_recorder_resume.py), in separate processes.

`python recorder_resume.py train PATH MODEL`: fit one epoch with WeightRecorder, then
`model.save(MODEL)`.
`python recorder_resume.py resume PATH MODEL NPZ`: try two appends that must be refused (a
different model; the same names with other shapes), print one JSON line, wait for a line on
stdin (the parent hashes the file meanwhile), then `keras.models.load_model(MODEL)` and fit on
with `append=True`, saving the model's weights after every batch to NPZ. Prints JSON last.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402


def data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(64, 8, 8, 1)).astype("float32"), np.arange(64) % 3


def cnn(filters: int = 4, conv: str = "conv1") -> keras.Model:
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(filters, 3, name=conv),
                              keras.layers.Flatten(), keras.layers.Dense(3, name="out")],
                             name="resume_cnn")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def train(path: str, model_path: str) -> None:
    keras.utils.set_random_seed(4)
    model = cnn()
    model.fit(*data(), epochs=1, batch_size=16, verbose=0, shuffle=False,
              callbacks=[WeightRecorder(path)])
    model.save(model_path)
    print(json.dumps({"paths": [v.path for v in model.weights]}), flush=True)


def refused(path: str, model: keras.Model) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*data(), epochs=1, batch_size=16, verbose=0,
                  callbacks=[WeightRecorder(path, append=True)])
    return "; ".join(str(w.message) for w in caught if "weightreel" in str(w.message))


class Weights(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[np.ndarray]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append([np.array(w) for w in self.model.get_weights()])


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def resume(path: str, model_path: str, npz: str) -> None:
    messages = [refused(path, cnn(conv="conv_a")),  # other variables
                refused(path, cnn(filters=6))]  # the same names, other shapes
    print(json.dumps({"refused": messages}), flush=True)
    sys.stdin.readline()
    model = keras.models.load_model(model_path)
    lines = Lines()
    logging.getLogger("weightreel.recorder").addHandler(lines)
    weights = Weights()
    model.fit(*data(), epochs=2, initial_epoch=1, batch_size=16, verbose=0, shuffle=False,
              callbacks=[WeightRecorder(path, append=True), weights])
    np.savez(npz, *[w for row in weights.rows for w in row])
    print(json.dumps({"paths": [v.path for v in model.weights], "log": lines.lines}),
          flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3])
    else:
        resume(sys.argv[2], sys.argv[3], sys.argv[4])
