"""A real diverging Keras run, recorded by WeightRecorder: the learning rate grows until NaN.

Small and fast (a few seconds): an MLP on 512 of the 8x8 digits, SGD whose learning rate
grows 15 % per batch from 0.05, three epochs of 16 batches. It learns for about a dozen
steps, then its weights explode and turn NaN within the second epoch.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def record_diverging_run(out: str, epochs: int = 3) -> str:
    import keras
    from sklearn.datasets import load_digits

    from weightreel.recorder import WeightRecorder

    keras.utils.set_random_seed(0)
    digits = load_digits()
    x = digits.data[:640].astype("float32") / 16.0
    y = keras.utils.to_categorical(digits.target[:640], 10)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(16, activation="tanh", name="hidden"),
        keras.layers.Dense(10, name="output"),
    ], name="diverging")
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=1.15)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "mse", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0,
              callbacks=[WeightRecorder(out, notes="diverging test run")])
    return out
