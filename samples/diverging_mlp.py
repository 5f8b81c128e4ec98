"""A run that blows up: an MLP on the 8x8 digits whose learning rate grows until training diverges.

The learning rate starts sensible (0.05) and grows by 3 % every batch. The model learns for about
three epochs, then within a dozen steps the weights explode to 1e18 and the loss and weights become
NaN. Open the recording to
see when it blew up and which layer went first:

    python samples/diverging_mlp.py [OUT]        # default: samples/diverging_mlp.h5
    weightreel info samples/diverging_mlp.h5
    weightreel view samples/diverging_mlp.h5
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "diverging_mlp.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5

keras.utils.set_random_seed(0)
digits = load_digits()  # 1797 images of 8x8 pixels, values 0..16; ships with scikit-learn
x, y = digits.data.astype("float32") / 16.0, digits.target

model = keras.Sequential([
    keras.Input((64,)),
    keras.layers.Dense(32, activation="tanh", name="hidden"),
    keras.layers.Dense(10, name="output"),
], name="diverging_mlp")
# A learning rate that grows every batch: the classic way a run goes from learning to NaN.
schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=1.03)
model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "mse", metrics=["accuracy"])
y = keras.utils.to_categorical(y, 10)  # a squared error on one-hot targets

recorder = WeightRecorder(out, notes="MLP 64-32-10 on the 8x8 digits, SGD whose learning rate "
                          "grows 3 % per batch from 0.05: it learns, then diverges to NaN",
                          hyperparameters={"learning_rate": 0.05, "lr_growth_per_batch": 1.03})
model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0,
          callbacks=[recorder])
print("recorded", out)
