"""The golden sample files, one per format version, and the values they must hold.

`python tests/golden.py 1.0` wrote samples/golden-v1.0.h5 (with weightreel 0.1) and
`python tests/golden.py 1.1` writes samples/golden-v1.1.h5 and samples/golden-v1.1-float16.h5.
Golden files are checked in and never rewritten: a later weightreel must still read them
(tests/test_format_golden.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
GOLDEN_V1_0 = SAMPLES / "golden-v1.0.h5"
GOLDEN_V1_1 = SAMPLES / "golden-v1.1.h5"
GOLDEN_V1_1_FLOAT16 = SAMPLES / "golden-v1.1-float16.h5"
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


# 1.1 adds the axis layout of each variable (and a PyTorch-shaped one), and update_norm.
LAYOUTS = {"dense/kernel": "io", "dense/bias": "o", "conv/kernel": "hwio",
           "norm/moving_mean": "o", "linear/weight": "oi"}
VARIABLES_V1_1 = {**VARIABLES, "linear/weight": ((2, 3), "float32", "Linear", "weight")}
OVERFLOW_STEP = 7  # in the float16 file, conv/kernel passes float16's largest value here


def value(name: str, step: int) -> np.ndarray:
    shape = VARIABLES_V1_1[name][0]
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


def value_float16(name: str, step: int) -> np.ndarray:
    """The float16 file's values: conv/kernel overflows float16 from OVERFLOW_STEP on."""
    scale = np.float32(1e4) if name == "conv/kernel" and step >= OVERFLOW_STEP else 1
    return value(name, step) * np.float32(scale)


def write_golden_v1_1(path: Path = GOLDEN_V1_1, float16: bool = False) -> None:
    import warnings

    from weightreel.formats import RecordingWriter, VariableSpec

    read = value_float16 if float16 else value
    meta = {**METADATA, "notes": "golden sample for format 1.1"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the float16 file's overflow warning is the point
        with RecordingWriter(path, mode="x", metadata=meta, float16=float16) as w:
            for name, (shape, dtype, layer_class, role) in VARIABLES_V1_1.items():
                w.declare(name, VariableSpec(shape, dtype, name.split("/")[0], layer_class,
                                             role, role != "moving_mean", LAYOUTS[name]))
            for step in range(STEPS):
                epoch, batch = divmod(max(step - 1, 0), EPOCH_STEPS)
                w.append({n: read(n, step) for n in VARIABLES_V1_1}, step=step, epoch=epoch,
                         batch=batch if step else -1, wall_time=1.0e9 + step,
                         scalars={"loss": loss(step), "learning_rate": 0.5})
                if step and batch == EPOCH_STEPS - 1:
                    w.append_epoch(epoch, {"val_loss": loss(step) * 2})


if __name__ == "__main__":
    version = sys.argv[1] if len(sys.argv) > 1 else "1.1"
    if version == "1.0":
        write_golden(GOLDEN_V1_0)
    else:
        write_golden_v1_1(GOLDEN_V1_1)
        write_golden_v1_1(GOLDEN_V1_1_FLOAT16, float16=True)
