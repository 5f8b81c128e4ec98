"""Resume through model.save and keras.models.load_model, in separate processes: appending
works with the reloaded model's names, and a refused append leaves the file byte for byte."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from weightreel.formats import open_recording

HERE = Path(__file__).resolve().parent
SCRIPT = str(HERE / "recorder_resume.py")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_a_saved_and_reloaded_model(tmp_path):
    path, model = tmp_path / "run.h5", tmp_path / "m.keras"
    first = subprocess.run([sys.executable, SCRIPT, "train", str(path), str(model)],
                           capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "resume_cnn/conv1/kernel" in json.loads(first.stdout.splitlines()[-1])["paths"]
    with open_recording(path) as rec:
        assert rec.num_steps == 5 and rec.metadata["finished"]
        names = rec.variable_names
    before = sha(path)

    second = subprocess.Popen([sys.executable, SCRIPT, "resume", str(path), str(model),
                               str(tmp_path / "w.npz")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        refused = json.loads(second.stdout.readline())["refused"]
        assert "cannot append" in refused[0] and "other variables" in refused[0]
        assert "shape" in refused[1], refused
        assert sha(path) == before  # two refused appends: not one byte changed
        out, err = second.communicate("go\n", timeout=180)
    finally:
        second.kill()
    assert second.returncode == 0, err[-3000:]
    result = json.loads(out.splitlines()[-1])
    assert "conv1/kernel" in result["paths"]  # the reloaded model's names lack the model's
    assert any("for 1 epochs (4 steps)" in line for line in result["log"]), result["log"]

    saved = np.load(tmp_path / "w.npz")
    rows = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    with open_recording(path) as rec:
        assert rec.variable_names == names  # the file keeps its names
        assert rec.num_steps == 9 and rec.steps.tolist() == list(range(9))
        assert rec.epochs.tolist() == [0] * 5 + [1] * 4 and rec.metadata["finished"]
        for i in range(4):
            for j, name in enumerate(names):
                assert rec.read(name, 5 + i).tobytes() == rows[i * len(names) + j].tobytes()
