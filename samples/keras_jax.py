"""Keras 3 on the JAX backend, recorded with WeightRecorder during `fit`.

    python samples/keras_jax.py [OUT] [EPOCHS]    # default: samples/keras_jax.h5, 6 epochs

KERAS_BACKEND must be set before Keras is first imported; run this in its own process.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "keras_jax.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6
if keras.backend.backend() != "jax":
    sys.exit(f"Keras was imported with the {keras.backend.backend()} backend; run in a fresh "
             "process")
keras.utils.set_random_seed(0)
x, y = make_moons(400, noise=0.1, random_state=0)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16),
                          keras.layers.BatchNormalization(), keras.layers.Activation("tanh"),
                          keras.layers.Dense(2)], name="moons")
model.compile(keras.optimizers.Adam(0.02),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(x, y, batch_size=32, epochs=epochs, verbose=0,
          callbacks=[WeightRecorder(out, notes="Keras on JAX, MLP on two moons")])
print(f"recorded {out}")
