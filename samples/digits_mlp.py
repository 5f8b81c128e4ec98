"""An MLP on scikit-learn's 8x8 digits, recorded at every batch.

Each of the 32 first-layer units has 64 weights: shown as 8x8 images in the viewer, they become
the unit's receptive field, taking shape as training goes on.

    python samples/digits_mlp.py [OUT]           # default: samples/digits_mlp.h5
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "digits_mlp.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 12

keras.utils.set_random_seed(0)
digits = load_digits()  # 1797 images of 8x8 pixels, values 0..16; ships with scikit-learn
x, y = digits.data.astype("float32") / 16.0, digits.target

model = keras.Sequential([
    keras.Input((64,)),
    keras.layers.Dense(32, activation="relu", name="hidden"),
    keras.layers.Dense(10, activation="softmax", name="output"),
], name="digits_mlp")
model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
              metrics=["accuracy"])

recorder = WeightRecorder(out, float16=True, notes="MLP 64-32-10 on sklearn's 8x8 digits; "
                          "hidden/kernel columns are 8x8 receptive fields",
                          hyperparameters={"learning_rate": 0.01, "hidden_units": 32})
model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0,
          callbacks=[recorder])
print("recorded", out)
