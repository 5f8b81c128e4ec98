"""The origin post's demo in today's Keras: watch one tanh neuron's weights approach [1, 1].

One neuron with two inputs, `Dense(1, activation="tanh")`, learns labels tanh(x1 + x2) from 500
random points with SGD (learning rate 0.5) and mean squared error, over 10 epochs; its two
weights approach 1. WeightRecorder records every batch.

    python -m weightreel.recorder.demo [OUT]    # writes OUT (default demo.h5 here)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def origin_data(samples: int = 500, seed: int = 0):
    """Random points in the unit square and their labels tanh(x1 + x2)."""
    import numpy as np

    x = np.random.default_rng(seed).random((samples, 2), dtype=np.float32)
    return x, np.tanh(x.sum(axis=1, keepdims=True))


def origin_model(seed: int = 0):
    """One tanh neuron on two inputs, compiled with SGD(0.5) and mean squared error."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="tanh")],
                             name="origin_neuron")
    model.compile(keras.optimizers.SGD(learning_rate=0.5), loss="mean_squared_error",
                  metrics=["mae"])
    return model


def record_origin_demo(path: str | os.PathLike = "demo.h5", epochs: int = 10, seed: int = 0):
    """Train the origin demo while recording it into `path`; returns the trained model."""
    from weightreel.recorder import WeightRecorder

    model = origin_model(seed)
    x, y = origin_data(seed=seed)
    recorder = WeightRecorder(path, notes="The origin post's demo: one tanh neuron learns "
                              "tanh(x1 + x2); its weights approach [1, 1].", strict=True)
    model.fit(x, y, epochs=epochs, verbose=0,
              callbacks=[recorder])
    return model


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__.strip().splitlines()[-1].strip())
        return 0 if args and args[0] in ("-h", "--help") else 2
    path = os.path.abspath(args[0] if args else "demo.h5")
    model = record_origin_demo(path)
    weights = model.layers[0].get_weights()[0].ravel()
    print(f"Recorded the origin demo to {path} (final weights {weights[0]:.3f}, "
          f"{weights[1]:.3f}); open it with: weightreel view {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
