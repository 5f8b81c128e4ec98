"""Record every weight of a Keras model during training (issue #3).

`WeightRecorder` is the `model.fit` callback; `ModelRecorder` records from any other loop
(for example a `tf.GradientTape` loop). Any framework can also write a recording directly with
`weightreel.formats.RecordingWriter`. See recorder/README.md.

Keras is imported only when `WeightRecorder` is first used.
"""

from __future__ import annotations

from typing import Any

from weightreel.formats import Float16OverflowWarning

from .model_recorder import ModelRecorder, RecordingWarning

__all__ = ["Float16OverflowWarning", "ModelRecorder", "RecordingWarning", "WeightRecorder"]


def __getattr__(name: str) -> Any:
    if name == "WeightRecorder":
        from .callback import WeightRecorder

        return WeightRecorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
