"""WeightRecorder options as a new user meets them: patterns, overwriting, appending, the loss."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from recorder_helpers import classification_data

from weightreel.formats import open_recording
from weightreel.recorder import RecordingWarning, WeightRecorder


def two_dense(kind: str) -> keras.Model:
    """dense_a -> dense_b, as a Sequential model (paths "mymodel/dense_a/kernel") or as a
    functional one (paths "dense_a/kernel")."""
    layers = [keras.layers.Dense(4, name="dense_a"), keras.layers.Dense(3, name="dense_b")]
    if kind == "sequential":
        model = keras.Sequential([keras.Input((6,)), *layers], name="mymodel")
    else:
        inputs = keras.Input((6,))
        model = keras.Model(inputs, layers[1](layers[0](inputs)), name="mymodel")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def fit(model, callbacks, epochs=1, n=64, batch_size=32, **kwargs):
    x, y = classification_data(n)
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=False,
                     callbacks=callbacks, **kwargs)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_path_patterns_match_sequential_and_functional_models(tmp_path, kind):
    keras.utils.set_random_seed(0)
    model = two_dense(kind)
    prefix = "mymodel/" if kind == "sequential" else ""
    options = {
        "inc": {"include": "dense_a/kernel"},
        "exc": {"exclude": "dense_a/kernel"},
        "bias": {"exclude": "*/bias"},
        "layer": {"include": "dense_b"},
        "full": {"include": [f"{prefix}dense_b/bias"]},
        "typo": {"include": ["dense_a/kernel", "dense_z*"], "exclude": "*/bias"},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, [WeightRecorder(tmp_path / f"{k}.h5", **o) for k, o in options.items()])
    names = {k: open_recording(tmp_path / f"{k}.h5").variable_names for k in options}
    full = [f"{prefix}{n}" for n in ("dense_a/kernel", "dense_a/bias", "dense_b/kernel",
                                     "dense_b/bias")]
    assert names["inc"] == [full[0]]
    assert names["exc"] == full[1:]
    assert names["bias"] == [full[0], full[2]]
    assert names["layer"] == full[2:]
    assert names["full"] == [full[3]]
    assert names["typo"] == [full[0]]
    recording = [w for w in caught if issubclass(w.category, RecordingWarning)]
    assert len(recording) == 1, [str(w.message) for w in recording]  # the typo, once
    message = str(recording[0].message)
    assert "'dense_z*'" in message and "typo.h5" in message and "dense_a/kernel" not in message
    assert recording[0].filename == __file__  # attributed to the user's fit call


def test_replacing_a_recording_logs_one_warning(tmp_path, caplog):
    model, path = two_dense("sequential"), tmp_path / "app.h5"
    not_a_recording = tmp_path / "notes.h5"
    not_a_recording.write_text("not a recording")
    with caplog.at_level("INFO", logger="weightreel.recorder"):
        fit(model, [WeightRecorder(path)])  # a new file: nothing to replace
        fit(model, [WeightRecorder(path, append=True)])  # continued: nothing replaced
        assert not [r for r in caplog.records if "replacing the existing" in r.getMessage()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RecordingWarning)  # the format may refuse it
            fit(model, [WeightRecorder(not_a_recording)])
        assert not [r for r in caplog.records if "replacing the existing" in r.getMessage()]
        fit(model, [WeightRecorder(path)], epochs=3)
    replacing = [r for r in caplog.records if "replacing the existing" in r.getMessage()]
    assert len(replacing) == 1 and replacing[0].levelname == "WARNING"
    assert replacing[0].getMessage() == (
        f"weightreel: replacing the existing recording {path} (5 steps); pass append=True "
        "to continue it")
    assert open_recording(path).num_steps == 7  # replaced, Keras-style: 1 + 3 x 2 steps


def test_append_continues_epoch_numbers(tmp_path):
    keras.utils.set_random_seed(1)
    model, path = two_dense("functional"), tmp_path / "resume.h5"
    for _ in range(2):
        fit(model, [WeightRecorder(path, append=True)], epochs=2)  # 2 batches an epoch
    with open_recording(path) as rec:
        assert rec.steps.tolist() == list(range(9))
        assert rec.epochs.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
        assert rec.epoch_numbers.tolist() == [0, 1, 2, 3]
    fit(model, [WeightRecorder(path, append=True)], epochs=7, initial_epoch=6)  # past E = 3
    fit(model, [WeightRecorder(path, append=True)], epochs=2, initial_epoch=1)  # 1..E: shifted
    rec = open_recording(path)
    assert rec.epochs.tolist()[9:] == [6, 6, 7, 7]
    assert rec.epoch_numbers.tolist() == [0, 1, 2, 3, 6, 7]
    assert rec.steps.tolist() == list(range(13))


def test_per_step_loss_is_keras_running_mean(tmp_path):
    """Keras 3 batch logs hold the mean over the epoch so far: at an epoch's last batch the
    recorded loss is the epoch's loss, and it is documented as a running mean."""
    keras.utils.set_random_seed(2)
    model, path = two_dense("sequential"), tmp_path / "loss.h5"
    history = fit(model, [WeightRecorder(path)], epochs=2, n=96)  # 3 batches an epoch
    loss = open_recording(path).scalar("loss")
    assert np.allclose(loss[[3, 6]], history.history["loss"], rtol=1e-5)
    assert "running mean" in " ".join(WeightRecorder.__doc__.split())
