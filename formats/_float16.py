"""float16 storage: what the file holds, and telling the truth when values overflow it.

float16 holds magnitudes up to 65504; larger finite values become inf when stored. The
summaries describe the stored values (so they count those infs), the writer warns once per
recording, and a 1.1 file notes the first step that overflowed in the root attribute
`float16_overflow_step`.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np

from ._layout import ATTR_FLOAT16_OVERFLOW

INF_COLUMN = 6  # inf_count in SUMMARY_COLUMNS


class Float16OverflowWarning(UserWarning):
    """A float16 recording stored a finite value as inf (its magnitude passed 65504)."""


def as_stored(value: np.ndarray, storage: np.dtype) -> np.ndarray:
    """`value` as the file stores it (float16-rounded when the storage is float16)."""
    if storage == np.float16 and value.dtype.kind == "f" and value.dtype != np.float16:
        with np.errstate(over="ignore"):  # overflow is reported once, by OverflowWatch
            return value.astype(np.float16)
    return value


class OverflowWatch:
    """Notices the first step whose stored float16 values hold infs the originals did not."""

    def __init__(self, path: str, file: h5py.File, may_note: bool) -> None:
        self.path = path
        self._may_note = may_note  # only 1.1 files get the attribute
        found = file.attrs.get(ATTR_FLOAT16_OVERFLOW)
        self.first_step: int | None = None if found is None else int(found)
        self._unwritten = False
        self._warned = False

    def check(self, name: str, original: np.ndarray, stored: np.ndarray,
              summary: np.ndarray | None, step: int) -> None:
        """`summary` is that of the stored values (None: a 1.0 file's, of the originals)."""
        if stored is original:
            return
        infs = np.count_nonzero(np.isinf(stored)) if summary is None else summary[INF_COLUMN]
        if not infs or infs <= np.count_nonzero(np.isinf(original)):
            return  # no inf, or the infs were there before rounding
        if self.first_step is None:
            self.first_step, self._unwritten = step, self._may_note
        if not self._warned:
            self._warned = True
            warnings.warn(f"{self.path}: float16 overflow at step {step} in {name}: values "
                          "beyond ±65504 are stored as inf", Float16OverflowWarning, stacklevel=4)

    def note(self, file: h5py.File) -> None:
        """Write the root attribute (before a commit's flush)."""
        if self._unwritten:
            file.attrs[ATTR_FLOAT16_OVERFLOW] = np.int64(self.first_step)
            self._unwritten = False
