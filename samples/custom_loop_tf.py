"""Recording a custom tf.GradientTape training loop with weightreel's ModelRecorder.

Outside `model.fit` there are no callbacks: call `recorder.record(...)` after each update
(and once before the first, for the initial state), `record_epoch(...)` for epoch logs, and
`close()` at the end (or use `with`).

    python samples/custom_loop_tf.py [OUT]       # default: samples/custom_loop_tf.h5
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from weightreel.recorder import ModelRecorder  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "custom_loop_tf.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 8

keras.utils.set_random_seed(0)
digits = load_digits()
x, y = digits.data.astype("float32") / 16.0, digits.target.astype("int32")
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(2000, seed=0).batch(64)

model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="tanh"),
                          keras.layers.Dense(10)], name="custom_loop_mlp")
optimizer = keras.optimizers.SGD(learning_rate=0.2, momentum=0.9)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
accuracy = keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = loss_fn(labels, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    accuracy.update_state(labels, logits)
    return loss


with ModelRecorder(out, model, optimizer=optimizer, notes="custom tf.GradientTape loop",
                   hyperparameters={"epochs": epochs, "batch_size": 64}) as recorder:
    recorder.record(step=0, epoch=0, batch=-1)  # the initial state, before any update
    step = 0
    for epoch in range(epochs):
        accuracy.reset_state()
        for batch, (images, labels) in enumerate(dataset):
            loss = train_step(images, labels)
            step += 1
            recorder.record(step=step, epoch=epoch, batch=batch,
                            scalars={"loss": float(loss), "accuracy": float(accuracy.result())})
        recorder.record_epoch(epoch, {"accuracy": float(accuracy.result())})

print("final accuracy", float(np.asarray(accuracy.result())), "->", out)
