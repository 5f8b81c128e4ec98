"""The golden sample files, one per format version, and the values they must hold.

`python tests/golden.py` writes samples/golden-v1.0.h5. Golden files are checked in and never
rewritten: a later weightreel must still read them (tests/test_format_golden.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GOLDEN_V1_0 = Path(__file__).resolve().parent.parent / "samples" / "golden-v1.0.h5"
STEPS = 12
EPOCH_STEPS = 4
VARIABLES = {
    "dense/kernel": ((3, 2), "float32", "Dense", "kernel"),
    "dense/bias": ((2,), "float32", "Dense", "bias"),
    "conv/kernel": ((3, 3, 1, 4), "float32", "Conv2D", "kernel"),
    "norm/moving_mean": ((4,), "float32", "BatchNormalization", "moving_mean"),
}
METADATA = {
    "framework": "keras",
    "framework_version": "3.0.0",
    "model_name": "golden",
    "model_config": {"class_name": "Sequential", "config": {"name": "golden"}},
    "optimizer_config": {"name": "SGD", "learning_rate": 0.5},
    "hyperparameters": {"batch_size": 32, "epochs": 3},
    "notes": "golden sample for format 1.0",
}


def value(name: str, step: int) -> np.ndarray:
    shape = VARIABLES[name][0]
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return (base - base.mean()) * np.float32(0.25) + np.float32(step) * np.float32(0.5)


def loss(step: int) -> float:
    return 1.0 / (step + 1)


def write_golden(path: Path = GOLDEN_V1_0) -> None:
    from weightreel.formats import RecordingWriter, VariableSpec

    with RecordingWriter(path, mode="x", metadata=METADATA) as w:
        for name, (shape, dtype, layer_class, role) in VARIABLES.items():
            trainable = role != "moving_mean"
            w.declare(name, VariableSpec(shape, dtype, name.split("/")[0], layer_class, role,
                                         trainable))
        for step in range(STEPS):
            epoch, batch = divmod(max(step - 1, 0), EPOCH_STEPS)
            w.append({n: value(n, step) for n in VARIABLES}, step=step, epoch=epoch,
                     batch=batch if step else -1, wall_time=1.0e9 + step,
                     scalars={"loss": loss(step), "learning_rate": 0.5})
            if step and batch == EPOCH_STEPS - 1:
                w.append_epoch(epoch, {"val_loss": loss(step) * 2})


if __name__ == "__main__":
    write_golden(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN_V1_0)
