"""Record every weight of a Keras model during training (issue #3).

`WeightRecorder` is the `model.fit` callback; `ModelRecorder` records a Keras model from any
other loop (for example a `tf.GradientTape` loop). `TorchRecorder` records PyTorch models
(with `lightning_callback.WeightReelCallback` for Lightning and
`hf_callback.WeightReelTrainerCallback` for Hugging Face's Trainer), `JaxRecorder` any JAX
pytree (Flax, Optax). Any framework can also write a recording directly with
`weightreel.formats.RecordingWriter`. See recorder/README.md.

Importing this package imports no framework: Keras, torch or JAX is imported only when the
class that needs it is first used.
"""

from __future__ import annotations

from typing import Any

from weightreel.formats import Float16OverflowWarning

from .model_recorder import ModelRecorder, RecordingWarning

__all__ = ["Float16OverflowWarning", "JaxRecorder", "ModelRecorder", "RecordingWarning",
           "TorchRecorder", "WeightRecorder"]

# Each of these imports its framework (Keras, torch, JAX) when it is first used, not before.
_LAZY = {"WeightRecorder": ".callback", "TorchRecorder": ".torch_recorder",
         "JaxRecorder": ".jax_recorder"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
