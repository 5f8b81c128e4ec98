"""Shared helpers for the CLI and slice tests: a small synthetic recording, and running the CLI.

The recording has a 2-D dense kernel, a 1-D bias, a 4-D conv kernel, per-step scalars loss and
accuracy, and two epochs with epoch logs. Values are a known function of the row, so tests can
check exact contents.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from weightreel.formats import RecordingWriter, VariableSpec

SHAPES = {"dense/kernel": (4, 3), "dense/bias": (3,), "conv/kernel": (3, 3, 2, 4)}
STEPS_PER_EPOCH = 6
EPOCHS = 2
NUM_ROWS = 1 + STEPS_PER_EPOCH * EPOCHS  # the initial state, then every batch
FIRST_STEP = 10  # global steps are FIRST_STEP, FIRST_STEP + 1, ...
METADATA = {
    "framework": "tensorflow", "framework_version": "2.16.1", "host": "testhost",
    "model_name": "tiny_convnet", "notes": "synthetic recording for CLI tests\nsecond line",
    "model_config": {"class_name": "Sequential", "config": {"name": "tiny_convnet", "layers": [
        {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3],
                                            "activation": "relu"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax"}},
    ]}},
    "optimizer_config": {"class_name": "SGD", "learning_rate": 0.01},
    "hyperparameters": {"batch_size": 8, "epochs": EPOCHS},
    "versions": {"python": "3.11", "numpy": np.__version__},
}


def value(name: str, row: int) -> np.ndarray:
    """The recorded value of variable `name` at row `row`."""
    shape = SHAPES[name]
    base = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    return ((base - base.size / 2) * 0.1 + row * 0.01 * (1 + len(name))).astype(np.float32)


def timeline(row: int) -> tuple[int, int, int]:
    """(step, epoch, batch) of row `row`."""
    if row == 0:
        return FIRST_STEP, 0, 0
    return FIRST_STEP + row, (row - 1) // STEPS_PER_EPOCH, (row - 1) % STEPS_PER_EPOCH + 1


def loss(row: int) -> float:
    return 2.0 / (1 + row)


def make_recording(path: Path, rows: int = NUM_ROWS, **writer_args) -> Path:
    with RecordingWriter(path, metadata=METADATA, **writer_args) as w:
        roles = {"dense/kernel": "kernel", "dense/bias": "bias", "conv/kernel": "kernel"}
        for name, shape in SHAPES.items():
            layer = name.split("/")[0]
            w.declare(name, VariableSpec(shape, "float32", layer, layer.title(), roles[name]))
        epoch = 0
        for row in range(rows):
            step, e, batch = timeline(row)
            if e != epoch:
                w.append_epoch(epoch, {"val_loss": 1.0 + epoch, "val_accuracy": 0.5})
                epoch = e
            w.append({n: value(n, row) for n in SHAPES}, step=step, epoch=e, batch=batch,
                     wall_time=1_700_000_000.0 + row,
                     scalars={"loss": loss(row), "accuracy": row / rows})
        w.append_epoch(epoch, {"val_loss": 1.0 + epoch, "val_accuracy": 0.5})
    return path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m weightreel.viewer.cli ARGS` in a real subprocess."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "weightreel.viewer.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int = 2, *parts: str) -> None:
    """The command failed with `code`, one stderr line starting 'weightreel: ', no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("weightreel: "), result.stderr
    assert "Traceback" not in result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])


def test_make_recording_writes_what_the_helpers_say(tmp_path: Path) -> None:
    from weightreel.formats import open_recording

    path = make_recording(tmp_path / "r.h5")
    with open_recording(path) as rec:
        assert rec.num_steps == NUM_ROWS and rec.num_epochs == EPOCHS
        assert [int(s) for s in rec.steps] == [timeline(r)[0] for r in range(NUM_ROWS)]
        np.testing.assert_array_equal(rec.read("conv/kernel", 5), value("conv/kernel", 5))
        assert sorted(rec.epoch_scalar_names) == ["val_accuracy", "val_loss"]
