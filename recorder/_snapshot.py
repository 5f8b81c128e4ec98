"""Reading every recorded variable out of the model, with as little work per step as possible.

With the TensorFlow backend each variable is read with one raw `ReadVariableOp` and turned
into numpy directly: about ten microseconds a variable, several times faster than
`variable.numpy()` or `model.get_weights()` (which go through Keras and TensorFlow Python
wrappers). The array is a copy: TensorFlow copies a variable's buffer before it updates it in
place while a read of it is still alive, so later training steps never change what was read.
Distributed variables and other backends fall back to `keras.ops.convert_to_numpy`, copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Reader = Callable[[], np.ndarray]


def make_reader(variable: Any) -> Reader:
    """A function that returns a fresh numpy copy of `variable`'s current value."""
    fast = _tf_fast_reader(variable)
    if fast is not None:
        return fast
    import keras

    return lambda: np.array(keras.ops.convert_to_numpy(variable), copy=True)


def make_snapshot(variables: Sequence[Any]) -> Callable[[], list[np.ndarray]]:
    """A function that reads all `variables` at once and returns their values as numpy copies."""
    readers = [make_reader(v) for v in variables]
    return lambda: [read() for read in readers]


def _tf_fast_reader(variable: Any) -> Reader | None:
    try:
        import keras

        if keras.backend.backend() != "tensorflow":
            return None
        import tensorflow as tf
    except ImportError:
        return None
    value = getattr(variable, "value", variable)
    if not isinstance(value, tf.Variable) or isinstance(value, tf.distribute.DistributedValues):
        return None
    handle = getattr(value, "handle", None)
    if handle is None or not hasattr(handle, "_numpy"):
        return None
    read_op, dtype = tf.raw_ops.ReadVariableOp, value.dtype

    def read() -> np.ndarray:
        return read_op(resource=handle, dtype=dtype)._numpy()

    try:
        if not np.array_equal(read(), np.asarray(value.numpy()), equal_nan=_is_float(value)):
            return None
    except Exception:  # noqa: BLE001 - any trouble with the fast path: use the slow one
        return None
    return read


def _is_float(value: Any) -> bool:
    return bool(getattr(value.dtype, "is_floating", False))
