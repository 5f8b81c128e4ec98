"""The demo module, the sample scripts, their checked-in recordings, and ModelRecorder."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from recorder_helpers import classification_data

from weightreel.formats import open_recording
from weightreel.recorder import ModelRecorder

CHECKED_IN = ["origin_demo.h5", "digits_mlp.h5", "digits_cnn.h5", "custom_loop_tf.h5",
              "custom_loop_numpy.h5", "diverging_mlp.h5", "torch_cnn.h5", "lightning_mlp.h5",
              "flax_mlp.h5", "keras_jax.h5"]
SCRIPTS = ["origin_demo.py", "digits_mlp.py", "digits_cnn.py", "custom_loop_tf.py",
           "custom_loop_numpy.py", "diverging_mlp.py", "torch_cnn.py", "lightning_mlp.py",
           "flax_mlp.py", "keras_jax.py"]


def test_demo_module_records_the_origin_demo(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "weightreel.recorder.demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    path = tmp_path / "demo.h5"
    assert len(lines) == 1 and str(path) in lines[0]
    rec = open_recording(path)
    assert rec.num_steps == 1 + 10 * 16  # 500 samples, Keras' default batch of 32: 16 batches
    first = rec.read("origin_neuron/dense/kernel", 0).ravel()
    last = rec.read("origin_neuron/dense/kernel", rec.num_steps - 1).ravel()
    assert np.all(np.abs(last - 1) < np.abs(first - 1)) and np.all(last > 0.8)
    assert len(rec.epoch_scalar("loss")) == 10
    assert "val_loss" not in rec.epoch_scalar_names  # like the post: no validation split


@pytest.mark.parametrize("script, args", [
    ("digits_mlp.py", ["1"]), ("digits_cnn.py", ["1"]), ("custom_loop_tf.py", ["1"]),
    ("custom_loop_numpy.py", []), ("origin_demo.py", []), ("diverging_mlp.py", ["1"])])
def test_sample_scripts_write_recordings(tmp_path, samples_dir, monkeypatch, script, args):
    out = tmp_path / "out.h5"
    monkeypatch.setattr(sys, "argv", [script, str(out), *args])
    runpy.run_path(str(samples_dir / script), run_name="__main__")
    rec = open_recording(out)
    assert rec.num_steps > 10 and rec.variable_names
    assert rec.metadata["finished"] is True and "loss" in rec.scalar_names + ["loss"]


@pytest.mark.parametrize("script, framework", [
    ("torch_cnn.py", "torch"), ("lightning_mlp.py", "torch"), ("flax_mlp.py", "jax"),
    ("keras_jax.py", "keras")])
def test_other_framework_samples_write_recordings(tmp_path, samples_dir, script, framework):
    # Each in its own process: keras_jax.py needs a fresh Keras, the others their framework.
    out = tmp_path / "out.h5"
    proc = subprocess.run([sys.executable, str(samples_dir / script), str(out), "1"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rec = open_recording(out)
    assert rec.num_steps > 10 and rec.metadata["finished"] is True
    assert rec.metadata["framework"] == framework and "loss" in rec.scalar_names
    loss = rec.scalar("loss")
    assert loss[-3:].mean() < loss[1:4].mean()  # it learns


def test_diverging_sample_learns_then_blows_up(samples_dir):
    with open_recording(samples_dir / "diverging_mlp.h5") as rec:
        loss = rec.scalar("loss")
        assert loss[50] < loss[1]  # it learns first
        nan_rows = np.flatnonzero(rec.summary_column("diverging_mlp/output/kernel", "nan_count"))
        assert 100 < nan_rows[0] < rec.num_steps - 20  # then blows up, well before the end
        assert not np.isfinite(loss[-1])


def test_each_sample_script_writes_the_recording_named_after_it(samples_dir):
    assert sorted(p.name for p in samples_dir.glob("*.py")) == sorted(SCRIPTS)
    for script in SCRIPTS:
        name = script.replace(".py", ".h5")
        assert name in CHECKED_IN and (samples_dir / name).is_file()
        assert f'"{name}")' in (samples_dir / script).read_text(), script  # its default OUT


@pytest.mark.parametrize("name", CHECKED_IN)
def test_checked_in_recordings(samples_dir, name):
    path = samples_dir / name
    assert os.path.getsize(path) < 5 * 2**20
    rec = open_recording(path)
    assert rec.num_steps > 50 and rec.metadata["finished"] is True
    assert rec.steps[0] == 0 and np.all(np.diff(rec.steps) > 0)


def test_model_recorder_in_a_gradient_tape_loop(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(3)])
    optimizer = keras.optimizers.Adam(0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x, y = classification_data(64)
    path, reference = tmp_path / "loop.h5", []
    with ModelRecorder(path, model, optimizer=optimizer, commit_interval=0.1) as recorder:
        reference.append([np.array(w, copy=True) for w in model.get_weights()])
        recorder.record(epoch=0, batch=-1)
        for batch in range(8):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[batch * 8:(batch + 1) * 8], model(x[batch * 8:(batch + 1) * 8]))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            recorder.record(epoch=0, batch=batch, scalars={"loss": loss})
            reference.append([np.array(w, copy=True) for w in model.get_weights()])
        recorder.record_epoch(0, {"loss": float(loss)})
    rec = open_recording(path)
    assert rec.steps.tolist() == list(range(9)) and rec.batches.tolist() == [-1, *range(8)]
    for i, row in enumerate(reference):
        for name, want in zip(rec.variable_names, row, strict=True):
            assert rec.read(name, i).tobytes() == want.tobytes()
    assert np.allclose(rec.scalar("learning_rate")[1:], 0.01)
    assert np.isfinite(rec.scalar("loss")[1:]).all() and len(rec.epoch_scalar("loss")) == 1
