"""Shared pieces of the recorder tests: a reference callback, small data, comparisons."""

from __future__ import annotations

import keras
import numpy as np

from weightreel.formats import open_recording


class Reference(keras.callbacks.Callback):
    """Copies `model.get_weights()` when training begins and after every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []
        self.where: list[tuple[int, int]] = []
        self._epoch = 0

    def _take(self, batch: int) -> None:
        self.weights.append([np.array(w, copy=True) for w in self.model.get_weights()])
        self.where.append((self._epoch, batch))

    def on_train_begin(self, logs=None):
        self._take(-1)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._take(batch)


def classification_data(n: int = 96, features: int = 6, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, rng.integers(0, classes, n)


def mlp(features: int = 6, classes: int = 3, optimizer: str = "adam") -> keras.Model:
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(classes)])
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def assert_bitwise(path, reference: Reference, rows: list[int] | None = None) -> None:
    """Every recorded row equals the reference copy at the same position, bit for bit."""
    rec = open_recording(path)
    rows = list(range(rec.num_steps)) if rows is None else rows
    assert rec.num_steps == len(rows)
    names = rec.variable_names
    for i, ref_row in enumerate(rows):
        expected = reference.weights[ref_row]
        assert len(expected) == len(names)
        for name, want in zip(names, expected, strict=True):
            got = rec.read(name, i)
            assert got.dtype == want.dtype and got.shape == want.shape, name
            assert got.tobytes() == want.tobytes(), f"{name} differs at row {i}"
