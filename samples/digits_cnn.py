"""A small CNN on scikit-learn's 8x8 digits, recorded every other batch.

The first convolution's 3x3 kernels, the BatchNormalization statistics (recorded too) and the
dense read-out all move in the viewer.

    python samples/digits_cnn.py [OUT]           # default: samples/digits_cnn.h5
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "digits_cnn.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10

keras.utils.set_random_seed(0)
digits = load_digits()
x, y = digits.images.astype("float32")[..., None] / 16.0, digits.target  # (1797, 8, 8, 1)

model = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
    keras.layers.BatchNormalization(name="bn1"),
    keras.layers.MaxPooling2D(2, name="pool1"),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
    keras.layers.MaxPooling2D(2, name="pool2"),
    keras.layers.Flatten(name="flatten"),
    keras.layers.Dense(10, activation="softmax", name="output"),
], name="digits_cnn")
model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
              metrics=["accuracy"])

recorder = WeightRecorder(out, save_freq=2, float16=True,
                          notes="small CNN on sklearn's 8x8 digits, every other batch")
model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0,
          callbacks=[recorder])
print("recorded", out)
