"""Warnings that point at the user's code, not at weightreel's (or Keras') internals.

A `RecordingWarning` raised while `model.fit` runs comes from deep inside Keras' callback
machinery. Python's `stacklevel` cannot skip a variable number of frames, so the warning is
attributed to the first frame on the stack that is neither weightreel's nor Keras' or
TensorFlow's: usually the user's `model.fit(...)` or `ModelRecorder(...)` line.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

import weightreel.formats


def _package_dir(module_file: str | None) -> str | None:
    return os.path.dirname(os.path.abspath(module_file)) + os.sep if module_file else None


def _internal_prefixes() -> tuple[str, ...]:
    prefixes = [_package_dir(__file__), _package_dir(weightreel.formats.__file__)]
    for name in ("keras", "tensorflow", "tf_keras"):
        module = sys.modules.get(name)
        prefixes.append(_package_dir(getattr(module, "__file__", None)))
    return tuple(p for p in prefixes if p)


def user_frame() -> FrameType | None:
    """The innermost frame outside weightreel, Keras and TensorFlow, or None if none is."""
    prefixes = _internal_prefixes()
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.abspath(filename).startswith(prefixes):
            return frame
        frame = frame.f_back
    return None


def warn(message: str, category: type[Warning]) -> None:
    """`warnings.warn(message, category)`, attributed to the user's code where there is some.

    On a thread with no user code on its stack (the background writer, interpreter exit),
    the warning is attributed to weightreel's caller, like `stacklevel=2`.
    """
    frame = user_frame()
    if frame is None:
        warnings.warn(message, category, stacklevel=3)
        return
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=module_globals.get("__name__"), registry=registry,
                           module_globals=module_globals)
