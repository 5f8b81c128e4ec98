"""Run in a subprocess with KERAS_BACKEND set: record a fit and a custom loop, compare bit for bit.

Prints one JSON object last: rows recorded, whether every row matched, the metadata versions.
"""

from __future__ import annotations

import json
import os
import sys

import keras
import numpy as np
from recorder_helpers import Reference, classification_data

from weightreel.formats import open_recording
from weightreel.recorder import ModelRecorder, WeightRecorder


def model_with_batchnorm() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def same(path: str, reference: list[list[np.ndarray]]) -> bool:
    rec = open_recording(path)
    return rec.num_steps == len(reference) and all(
        rec.read(name, i).tobytes() == want.tobytes()
        for i, row in enumerate(reference) for name, want in zip(rec.variable_names, row,
                                                                 strict=True))


def fit(out: str) -> dict:
    model, ref = model_with_batchnorm(), Reference()
    x, y = classification_data(64)
    path = os.path.join(out, "fit.h5")
    # The recorder comes first, so no other callback has put the JAX state back before it reads.
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[WeightRecorder(path, strict=True), ref])
    meta = open_recording(path).metadata
    return {"fit_rows": open_recording(path).num_steps, "fit_exact": same(path, ref.weights),
            "versions": meta["versions"]}


def jax_step(model, state, x, y):
    import jax

    trainable, non_trainable, opt_vars = state

    def loss_fn(tv, ntv):
        logits, ntv = model.stateless_call(tv, ntv, x, training=True)
        return model.loss(y, logits), ntv

    (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        trainable, non_trainable)
    trainable, opt_vars = model.optimizer.stateless_apply(opt_vars, grads, trainable)
    for v, value in zip(model.trainable_variables, trainable, strict=True):
        v.assign(value)  # the JAX custom-loop style: put the new state back, then record
    for v, value in zip(model.non_trainable_variables, non_trainable, strict=True):
        v.assign(value)
    return loss, (trainable, non_trainable, opt_vars)


def torch_step(model, x, y):
    import torch

    loss = model.loss(torch.as_tensor(y), model(torch.as_tensor(x), training=True))
    model.zero_grad()
    loss.backward()
    grads = [v.value.grad for v in model.trainable_weights]
    with torch.no_grad():
        model.optimizer.apply(grads, model.trainable_weights)
    return loss


def custom_loop(out: str, backend: str) -> dict:
    model = model_with_batchnorm()
    model.optimizer.build(model.trainable_variables)
    x, y = classification_data(64)
    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in model.optimizer.variables])
    path, reference = os.path.join(out, "loop.h5"), []
    with ModelRecorder(path, model, strict=True) as recorder:
        for step in range(5):
            if step:
                xb, yb = x[step * 8:step * 8 + 8], y[step * 8:step * 8 + 8]
                if backend == "jax":
                    loss, state = jax_step(model, state, xb, yb)
                else:
                    loss = torch_step(model, xb, yb)
            recorder.record(scalars={"loss": loss} if step else None)
            reference.append([np.array(w, copy=True) for w in model.get_weights()])
    loss = open_recording(path).scalar("loss")
    return {"loop_rows": len(reference), "loop_exact": same(path, reference),
            "loop_loss_finite": bool(np.isfinite(loss[1:]).all())}


def unreadable_variables(out: str) -> dict:
    """A ModelRecorder driven by a callback that never reads `self.model`: on JAX the variables
    are empty mid-epoch, so the read fails. Training must go on; recording stops with a warning."""
    import warnings

    model = model_with_batchnorm()
    x, y = classification_data(64)
    recorder = ModelRecorder(os.path.join(out, "unread.h5"), model)
    recorder.record()

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            recorder.record()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Record()])
    recorder.close()
    return {"unread_fit_done": len(history.history["loss"]) == 1,
            "unread_error": type(recorder.error).__name__,
            "unread_warnings": [str(w.message) for w in caught
                                if "recording stopped" in str(w.message)],
            "unread_rows": open_recording(os.path.join(out, "unread.h5")).num_steps}


if __name__ == "__main__":
    result = {"backend": keras.backend.backend(), **fit(sys.argv[1])}
    if result["backend"] in ("jax", "torch"):
        result.update(custom_loop(sys.argv[1], result["backend"]))
    if result["backend"] == "jax":
        result.update(unreadable_variables(sys.argv[1]))
    print(json.dumps(result))
