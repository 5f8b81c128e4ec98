"""Recording problems never break training: bad paths, a held file, a full disk, a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from recorder_helpers import classification_data, mlp

from weightreel.formats import RecordingError, RecordingWriter, open_recording
from weightreel.recorder import ModelRecorder, RecordingWarning, WeightRecorder

HERE = Path(__file__).resolve().parent


class Probe(keras.callbacks.Callback):
    """Notes how many warnings had been caught when training began, and counts batches."""

    def __init__(self, caught: list) -> None:
        super().__init__()
        self.caught, self.at_begin, self.batches = caught, None, 0

    def on_train_begin(self, logs=None):
        self.at_begin = len(self.caught)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def fit_with(recorder) -> tuple[list, Probe, keras.callbacks.History]:
    x, y = classification_data(64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        probe = Probe(caught)
        history = mlp().fit(x, y, epochs=2, batch_size=16, verbose=0,
                            callbacks=[recorder, probe])
    return [w for w in caught if w.category is RecordingWarning], probe, history


@pytest.mark.parametrize("where", ["missing_folder", "under_a_file", "a_directory"])
def test_invalid_path_warns_when_training_begins_and_training_goes_on(tmp_path, where):
    (tmp_path / "file.txt").write_text("x")
    path = {"missing_folder": tmp_path / "no" / "run.h5", "under_a_file":
            tmp_path / "file.txt" / "run.h5", "a_directory": tmp_path}[where]
    caught, probe, history = fit_with(WeightRecorder(path))
    assert probe.at_begin == 1 and len(caught) == 1  # reported before the first batch
    message = str(caught[0].message)
    assert str(path) in message and "\n" not in message
    assert caught[0].filename == __file__  # points at the user's fit, not into weightreel
    assert len(history.history["loss"]) == 2 and probe.batches == 8


def test_strict_raises_before_training(tmp_path):
    probe = Probe([])
    with pytest.raises(RecordingError, match="does not exist"):
        mlp().fit(*classification_data(64), epochs=1, verbose=0,
                  callbacks=[WeightRecorder(tmp_path / "no" / "run.h5", strict=True), probe])
    assert probe.batches == 0


def test_file_held_by_a_writer_in_this_process(tmp_path):
    path = tmp_path / "held.h5"
    with RecordingWriter(path) as holder:
        holder.append({"w": np.zeros(2, np.float32)})
        caught, probe, history = fit_with(WeightRecorder(path))
    assert probe.at_begin == 1 and "held by another writer" in str(caught[0].message)
    assert len(history.history["loss"]) == 2
    assert open_recording(path).variable_names == ["w"]  # the holder's recording is intact


def test_file_held_by_another_process(tmp_path):
    path = tmp_path / "held.h5"
    holder = subprocess.Popen([sys.executable, str(HERE / "recorder_holder.py"), str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        caught, probe, history = fit_with(WeightRecorder(path))
        assert len(caught) == 1 and "held by another writer" in str(caught[0].message)
        assert len(history.history["loss"]) == 2
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    assert open_recording(path).num_steps == 1  # not truncated by the failed second writer


def test_full_disk_and_crash_in_a_subprocess(tmp_path):
    limit = 8 << 20
    proc = subprocess.run([sys.executable, str(HERE / "recorder_failures.py"), str(tmp_path),
                           str(limit)], capture_output=True, text=True, timeout=180, cwd=HERE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    full = result["full"]  # 6 epochs x 40 batches: the file would pass 16 MB
    assert full["epochs_run"] == 6 and full["reference"] == 241
    assert len(full["warnings"]) == 1, full["warnings"]
    assert "full_False.h5" in full["warnings"][0] and "File too large" in full["warnings"][0]
    assert full["warned_at"] == [str(HERE / "recorder_failures.py")]  # the user's fit call
    assert 1 <= full["recorded"] < 241 and full["bit_exact"]
    with open_recording(tmp_path / "full_False.h5") as rec:
        assert rec.num_steps == full["recorded"]
        assert os.path.getsize(tmp_path / "full_False.h5") <= limit

    strict = result["strict"]
    assert "File too large" in strict["raised"] and "epochs_run" not in strict
    assert strict["recorded"] >= 1 and strict["bit_exact"]

    assert result["crash"]["live_steps"] >= 1  # readable while the crashed run still held it
    with open_recording(tmp_path / "crash.h5") as rec:  # closed at exit: every step is there
        assert rec.num_steps == 1 + 6 + 5
        assert rec.metadata["finished"] is False


def test_commits_even_when_steps_are_slow(tmp_path):
    model = mlp()
    path = tmp_path / "slow.h5"
    recorder = ModelRecorder(path, model, commit_interval=0.1)
    for step in range(3):
        recorder.record(step=step, scalars={"loss": 1.0})
    time.sleep(0.6)
    with open_recording(path) as rec:
        assert rec.num_steps == 3  # committed by the background thread, not by close()
        assert rec.metadata["finished"] is False
    recorder.close()
    assert open_recording(path).metadata["finished"] is True
