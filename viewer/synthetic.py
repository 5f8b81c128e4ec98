"""A synthetic recording that looks like a small training run, for tests, demos and benchmarks.

Only numpy and weightreel.formats: no TensorFlow, no Qt.
"""

from __future__ import annotations

import os

import numpy as np

from weightreel.formats import RecordingWriter, VariableSpec

SHAPES = {
    "conv2d/kernel": ((3, 3, 1, 8), "Conv2D", "kernel"),
    "conv2d/bias": ((8,), "Conv2D", "bias"),
    "dense/kernel": ((32, 16), "Dense", "kernel"),
    "dense/bias": ((16,), "Dense", "bias"),
    "dense_1/kernel": ((16, 10), "Dense", "kernel"),
    "dense_1/bias": ((10,), "Dense", "bias"),
}


def declare(writer: RecordingWriter, shapes: dict = SHAPES) -> None:
    for name, (shape, layer_class, role) in shapes.items():
        writer.declare(name, VariableSpec(  # BatchNorm statistics are not trained, as in Keras
            shape, "float32", layer=name.split("/")[-2] if "/" in name else name,
            layer_class=layer_class, role=role, trainable=not role.startswith("moving_")))


class SyntheticRun:
    """Weights that drift from a random start toward a target, with noise, and a falling loss."""

    def __init__(self, shapes: dict = SHAPES, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.shapes = {n: s for n, (s, _, _) in shapes.items()}
        self.start = {n: _init(rng, s) for n, s in self.shapes.items()}
        self.target = {n: self.start[n] + rng.normal(0, 0.35, s).astype(np.float32) * (
            1 if len(s) > 1 else 0.5) for n, s in self.shapes.items()}

    def arrays(self, t: float) -> dict[str, np.ndarray]:
        """The weights at training progress t in [0, 1]."""
        ease = 1 - np.exp(-4 * t)
        out = {}
        for name, shape in self.shapes.items():
            noise = self.rng.normal(0, 0.01, shape).astype(np.float32)
            out[name] = (self.start[name] * (1 - ease) + self.target[name] * ease + noise
                         ).astype(np.float32)
        return out

    def loss(self, t: float) -> float:
        return float(2.3 * np.exp(-3 * t) + 0.1 + abs(self.rng.normal(0, 0.05)))


def _init(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if len(shape) == 1:
        return np.zeros(shape, np.float32)
    fan = int(np.prod(shape[:-1])) + shape[-1]
    limit = np.sqrt(6 / fan)
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def write_synthetic(path: str | os.PathLike, steps: int = 120, batches_per_epoch: int = 20,
                    shapes: dict = SHAPES, seed: int = 0, finish: bool = True,
                    metadata: dict | None = None) -> str:
    """Write a finished synthetic recording of `steps` steps (plus the initial state), with
    `metadata` added to the run's (e.g. a model_config)."""
    run = SyntheticRun(shapes, seed)
    writer = RecordingWriter(path, metadata={"framework": "synthetic",
                                             "notes": "synthetic run for tests and demos",
                                             **(metadata or {})})
    declare(writer, shapes)
    writer.append(run.arrays(0.0), step=0, epoch=0, batch=0, scalars={"loss": run.loss(0.0)})
    for k in range(1, steps + 1):
        epoch, batch = divmod(k - 1, batches_per_epoch)
        t = k / steps
        writer.append(run.arrays(t), step=k, epoch=epoch, batch=batch,
                      scalars={"loss": run.loss(t)})
        if batch == batches_per_epoch - 1:
            writer.append_epoch(epoch, {"val_loss": run.loss(t) + 0.05})
    if finish:
        writer.close()
    else:
        writer.commit()
        writer.abandon()
    return os.fspath(path)
