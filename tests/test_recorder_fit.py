"""WeightRecorder in model.fit: exact weights, bookkeeping, options, metadata."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from recorder_helpers import Reference, assert_bitwise, classification_data, mlp

from weightreel.formats import open_recording
from weightreel.recorder import WeightRecorder


def fit(model, callbacks, epochs=3, n=96, batch_size=32, **kwargs):
    x, y = classification_data(n, model.inputs[0].shape[-1] if model.inputs else 6)
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=False,
                     callbacks=callbacks, **kwargs)


def test_sequential_every_batch_is_bit_exact_with_bookkeeping(tmp_path):
    keras.utils.set_random_seed(1)
    model, ref, path = mlp(), Reference(), tmp_path / "run.h5"
    fit(model, [WeightRecorder(path), ref], epochs=3, validation_split=0.25)  # 72 -> 3 batches
    assert_bitwise(path, ref)
    rec = open_recording(path)
    assert rec.num_steps == 1 + 3 * 3
    assert rec.steps.tolist() == list(range(10))
    assert rec.epochs.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert rec.batches.tolist() == [-1, 0, 1, 2, 0, 1, 2, 0, 1, 2]
    assert {"loss", "accuracy", "learning_rate"} <= set(rec.scalar_names)
    assert math.isnan(rec.scalar("loss")[0]) and np.all(np.isfinite(rec.scalar("loss")[1:]))
    assert np.allclose(rec.scalar("learning_rate")[1:], 0.001)
    val = rec.epoch_scalar("val_loss")
    assert len(val) == 3 and np.all(np.isfinite(val))
    assert rec.metadata["finished"] is True


def test_functional_with_batchnorm_records_moving_statistics(tmp_path):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((6,))
    h = keras.layers.Dense(8, name="d1")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    outputs = keras.layers.Dense(3, name="out")(keras.layers.Dropout(0.2)(h))
    model = keras.Model(inputs, outputs, name="func")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ref, path = Reference(), tmp_path / "func.h5"
    fit(model, [WeightRecorder(path, notes="bn run", hyperparameters={"units": 8}), ref],
        epochs=2)
    assert_bitwise(path, ref)
    rec = open_recording(path)
    assert rec.variable_names == [v.path for v in model.weights]
    mean = rec.variables["bn/moving_mean"]
    assert (mean.layer, mean.layer_class, mean.role, mean.trainable, mean.dtype) == (
        "bn", "BatchNormalization", "moving_mean", False, "float32")
    kernel = rec.variables["d1/kernel"]
    assert (kernel.layer_class, kernel.role, kernel.trainable) == ("Dense", "kernel", True)
    meta = rec.metadata
    assert meta["framework"] == "keras" and meta["framework_version"] == keras.__version__
    assert meta["versions"]["tensorflow"] and meta["model_name"] == "func"
    assert meta["model_config"]["class_name"] == "Functional"
    assert meta["optimizer_config"]["class_name"] == "SGD"
    assert meta["notes"] == "bn run"
    assert meta["hyperparameters"]["units"] == 8 and meta["hyperparameters"]["epochs"] == 2


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.hidden = keras.layers.Dense(5, activation="tanh", name="hidden")
        self.out = keras.layers.Dense(3, name="head")

    def call(self, x):
        return self.out(self.hidden(x))


@pytest.mark.parametrize("built", [True, False])
def test_subclassed_model(tmp_path, built):
    keras.utils.set_random_seed(3)
    model = Subclassed()
    x, y = classification_data(64)
    if built:
        model(x[:1])  # Keras 3 builds a subclassed model by calling it
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ref, path = Reference(), tmp_path / "sub.h5"
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[WeightRecorder(path), ref])
    rec = open_recording(path)
    # An unbuilt model gets its weights in the first step: the recording starts after it.
    assert rec.steps.tolist() == list(range(0 if built else 1, 9))
    assert_bitwise(path, ref, rows=rec.steps.tolist())
    assert rec.variable_names == ["sub/hidden/kernel", "sub/hidden/bias", "sub/head/kernel",
                                  "sub/head/bias"]
    assert rec.variables["sub/hidden/kernel"].layer == "hidden"
    assert rec.variables["sub/head/bias"].layer_class == "Dense"


def test_every_n_batches_and_the_final_state(tmp_path):
    keras.utils.set_random_seed(4)
    model, ref, path = mlp(), Reference(), tmp_path / "n.h5"
    even = tmp_path / "even.h5"
    fit(model, [WeightRecorder(path, save_freq=2), WeightRecorder(even, save_freq=5), ref],
        epochs=3, n=80, batch_size=16)
    rec = open_recording(path)  # 5 batches an epoch, 15 steps: rows at 0, 2, 4, ..., 14
    assert rec.steps.tolist() == [*range(0, 15, 2), 15]  # and the trained model, step 15
    assert rec.epochs.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert rec.batches.tolist() == [-1, 1, 3, 0, 2, 4, 1, 3, 4]
    assert_bitwise(path, ref, rows=rec.steps.tolist())
    loss = rec.scalar("loss")
    assert np.all(np.isfinite(loss[1:])) and loss[-1] != loss[-2]  # the last batch's logs
    assert open_recording(even).steps.tolist() == [0, 5, 10, 15]  # no duplicate final row


def test_steps_per_execution(tmp_path):
    keras.utils.set_random_seed(4)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=2)
    ref, path = Reference(), tmp_path / "spe.h5"
    fit(model, [WeightRecorder(path), ref], epochs=2, n=80, batch_size=16)
    assert_bitwise(path, ref)
    rec = open_recording(path)  # batches 0-1, 2-3, 4 run together: callbacks after 1, 3, 4
    assert rec.steps.tolist() == [0, 2, 4, 5, 7, 9, 10]
    assert rec.batches.tolist() == [-1, 1, 3, 4, 1, 3, 4]


def test_once_per_epoch(tmp_path):
    keras.utils.set_random_seed(5)
    model, ref, path = mlp(), Reference(), tmp_path / "epoch.h5"
    fit(model, [WeightRecorder(path, save_freq="epoch"), ref], epochs=3)
    rec = open_recording(path)
    assert rec.steps.tolist() == [0, 3, 6, 9]
    assert rec.epochs.tolist() == [0, 0, 1, 2] and rec.batches.tolist() == [-1, 2, 2, 2]
    assert_bitwise(path, ref, rows=[0, 3, 6, 9])
    assert len(rec.epoch_scalar("loss")) == 3


def test_selection_trainable_only_and_float16(tmp_path):
    keras.utils.set_random_seed(6)
    inputs = keras.Input((6,))
    h = keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(4, name="a")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, name="b")(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    paths = {k: tmp_path / f"{k}.h5" for k in ("inc", "exc", "layers", "trainable", "f16")}
    ref = Reference()
    fit(model, [
        WeightRecorder(paths["inc"], include=["*/kernel"]),
        WeightRecorder(paths["exc"], exclude=["bn", "*/bias"]),
        WeightRecorder(paths["layers"], layers=["b"]),
        WeightRecorder(paths["trainable"], trainable_only=True),
        WeightRecorder(paths["f16"], float16=True, compression="gzip"), ref], epochs=1)
    names = {k: open_recording(p).variable_names for k, p in paths.items()}
    assert names["inc"] == ["a/kernel", "b/kernel"]
    assert names["exc"] == ["a/kernel", "b/kernel"]
    assert names["layers"] == ["b/kernel", "b/bias"]
    assert "bn/moving_mean" not in names["trainable"] and "bn/gamma" in names["trainable"]
    f16 = open_recording(paths["f16"])
    assert f16.variables["a/kernel"].stored_dtype == "float16"
    for i in range(f16.num_steps):
        got = f16.read("a/kernel", i)
        assert np.array_equal(np.asarray(got, np.float16), ref.weights[i][0].astype(np.float16))


def test_append_resumes_step_numbers(tmp_path):
    keras.utils.set_random_seed(7)
    model, path = mlp(), tmp_path / "resume.h5"
    fit(model, [WeightRecorder(path)], epochs=1)
    ref = Reference()
    fit(model, [WeightRecorder(path, append=True), ref], epochs=3, initial_epoch=1)
    rec = open_recording(path)
    assert rec.steps.tolist() == list(range(10))  # 1 + 3 from the first fit, then 6 more
    assert rec.epochs.tolist()[4:] == [1, 1, 1, 2, 2, 2]
    for i in range(1, 7):
        assert rec.read(rec.variable_names[0], 3 + i).tobytes() == ref.weights[i][0].tobytes()
    fit(model, [WeightRecorder(path)], epochs=1)  # no append: overwritten
    assert open_recording(path).num_steps == 4


def test_nan_and_inf_recorded_exactly(tmp_path):
    model, path = mlp(optimizer="sgd"), tmp_path / "nan.h5"
    kernel = model.layers[0].kernel
    values = np.array(kernel.numpy(), copy=True)
    values[0, :3] = [np.nan, np.inf, -np.inf]
    kernel.assign(values)
    ref = Reference()
    fit(model, [WeightRecorder(path), ref], epochs=1)
    rec = open_recording(path)
    first = rec.read(rec.variable_names[0], 0)
    assert first.tobytes() == values.tobytes()
    assert np.isnan(first[0, 0]) and first[0, 1] == np.inf and first[0, 2] == -np.inf
    assert_bitwise(path, ref)  # NaN spreads through training; recorded as it is
    assert np.isnan(rec.read(rec.variable_names[0], rec.num_steps - 1)).any()


def test_size_is_reported_and_large_projection_warns(tmp_path, caplog):
    model = mlp()
    with caplog.at_level("INFO", logger="weightreel.recorder"):
        fit(model, [WeightRecorder(tmp_path / "s.h5", size_warning_bytes=1000)], epochs=2)
    info = [r for r in caplog.records if r.levelname == "INFO"]
    warn = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(info) == 1 and str(tmp_path / "s.h5") in info[0].getMessage()
    assert "per step" in info[0].getMessage() and "2 epochs (7 steps)" in info[0].getMessage()
    assert len(warn) == 1 and "s.h5" in warn[0].getMessage()


def test_a_large_model_every_batch_gets_a_hint_that_keeps_training_fast(tmp_path, caplog):
    big = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2048),
                            keras.layers.Dense(2048), keras.layers.Dense(2)])  # 17 MB a step
    big.compile("sgd", "mse")
    x, y = np.zeros((8, 4), np.float32), np.zeros((8, 2), np.float32)
    hints = {}
    for save_freq in ("batch", 4):
        caplog.clear()
        with caplog.at_level("INFO", logger="weightreel.recorder"):
            big.fit(x, y, epochs=1, batch_size=8, verbose=0,
                    callbacks=[WeightRecorder(tmp_path / f"{save_freq}.h5", save_freq=save_freq)])
        hints[save_freq] = [r.getMessage() for r in caplog.records if "slows training" in
                            r.getMessage()]
    assert len(hints["batch"]) == 1 and "save_freq=N, float16=True or max_bytes" in \
        hints["batch"][0] and "batch.h5" in hints["batch"][0]
    assert hints[4] == []  # already every N batches: nothing to suggest


def test_step_buffers_reused_under_back_pressure_keep_every_row_bit_exact(tmp_path):
    # A 128 KB kernel (written with O_DIRECT from the step buffers) and a queue of one step:
    # 2 buffers serve 120 steps, each reused as soon as the writer lets go of it (fresh
    # copies when both are in use).
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    recorder, ref, path = WeightRecorder(tmp_path / "run.h5", max_queue_bytes=1), \
        Reference(), tmp_path / "run.h5"
    in_use = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshot = recorder.recorder._snapshot
            in_use.append((len(snapshot._copies._buffers._buffers), recorder.recorder.buffer_steps))

    fit(model, [recorder, ref, Probe()], epochs=2, n=32 * 60)
    assert_bitwise(path, ref)
    assert open_recording(path).num_steps == 121
    assert all(1 <= used <= limit == 2 for used, limit in in_use), in_use


def test_save_freq_is_checked():
    for bad in (0, -1, "step", 1.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            WeightRecorder("x.h5", save_freq=bad)
