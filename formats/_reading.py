"""Pieces of the reader: VariableInfo, and helpers that read attributes a file may garble."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from . import _layout as L
from ._h5 import describe_os_error
from .errors import CorruptRecordingError, RecordingError

# What h5py and numpy raise on a damaged file: every public method turns it into a
# RecordingError that names the file.
READ_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError,
               AttributeError, OverflowError, UnicodeDecodeError, MemoryError)


@dataclass(frozen=True)
class VariableInfo:
    """One recorded variable: its name (path), shape per step, and what it is in the model."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # the dtype in the model
    stored_dtype: str  # the dtype in the file
    layer: str
    layer_class: str
    role: str
    trainable: bool
    layout: str = ""  # one letter per axis, e.g. "oihw" (format 1.1); "" = Keras layout
    source_dtype: str = ""  # the model's dtype when it has no numpy equivalent (bfloat16)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _collect(group: h5py.Group) -> dict[str, h5py.Dataset]:
    found: list[tuple[int, str, h5py.Dataset]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            found.append((_order(obj.attrs.get("order"), len(found)), name, obj))

    group.visititems(visit)
    return {name: ds for _, name, ds in sorted(found, key=lambda t: t[0])}


def _identity(path: str) -> tuple[int, int, int, int]:
    """Which file `path` is (device, inode), and its size and modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1, -1, -1)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _order(value: Any, default: int) -> int:
    """A dataset's `order` attribute; an unusable one (NaN, inf, text, array) sorts last."""
    try:
        number = float(np.asarray(value).reshape(-1)[0]) if value is not None else default
    except (TypeError, ValueError, IndexError):
        return 1 << 62
    return int(number) if np.isfinite(number) and abs(number) < 1 << 62 else 1 << 62


def _flag(value: Any) -> bool:
    try:
        return bool(np.asarray(value).reshape(-1)[0]) if np.size(value) else True
    except (TypeError, ValueError):
        return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@contextlib.contextmanager
def file_errors(path: str) -> Iterator[None]:
    """Whatever h5py or numpy raise on a damaged file becomes a RecordingError naming it."""
    try:
        yield
    except RecordingError:
        raise
    except MemoryError:
        raise CorruptRecordingError(path, "needs more memory to read than is free") from None
    except (*READ_ERRORS, RecursionError) as exc:
        raise describe_os_error(path, exc) from None


def variable_info(name: str, ds: h5py.Dataset) -> VariableInfo:
    """A variable's description, from its dataset's shape and attributes."""
    a = ds.attrs
    return VariableInfo(
        name=name, shape=tuple(ds.shape[1:]), dtype=_text(a.get("dtype", ds.dtype)),
        stored_dtype=str(ds.dtype), layer=_text(a.get("layer", "")),
        layer_class=_text(a.get("layer_class", "")), role=_text(a.get("role", "")),
        trainable=_flag(a.get("trainable", True)), layout=_text(a.get("layout", "")),
        source_dtype=_text(a.get("source_dtype", "")))


def check_lengths(path: str, steps: int, roots: dict[str, dict[str, h5py.Dataset]]) -> None:
    """Every timeline, variable and summary dataset holds the committed steps, and every
    variable has its summaries; else CorruptRecordingError."""
    short = [f"/{root}/{name}" for root, sets in roots.items()
             for name, ds in sets.items() if (ds.shape or (0,))[0] < steps]
    if short:
        raise CorruptRecordingError(
            path, f"has {steps} committed steps but shorter datasets: "
            + ", ".join(short[:3]) + (" ..." if len(short) > 3 else ""))
    unpaired = sorted(set(roots[L.VARIABLES]) - set(roots[L.SUMMARIES]))
    if unpaired:
        raise CorruptRecordingError(path, f"has no summaries for variable {unpaired[0]!r}")
