"""What a file's datasets claim against what its size can hold, in exact integer arithmetic."""

from __future__ import annotations

from .. import _layout as L
from ..errors import UnsafeRecordingError
from .limits import byte_budget
from .survey import DatasetFacts

STEP_ROOTS = (f"{L.TIMELINE}/", f"{L.VARIABLES}/", f"{L.SUMMARIES}/", f"{L.STEP_SCALARS}/")
EPOCH_ROOT = f"{L.EPOCH_SCALARS}/"


def check_claims(path: str, facts: dict[str, DatasetFacts], steps: int, epochs: int,
                 file_size: int) -> None:
    """UnsafeRecordingError if the committed counts exceed a dataset's extent, or the rows that a
    reader may read (committed rows, a whole non-timed dataset, or one row) could not come from
    a file this size: uncompressed at most its size, compressed at most 256 times it (plus
    1 MiB either way for headers and fill values)."""
    for name, ds in facts.items():
        rows = _rows(name, ds, steps, epochs)
        if rows is None:
            continue
        budget = byte_budget(file_size, ds.compressed)
        claimed = max(rows, 1) * ds.row_bytes
        if claimed > budget:
            raise UnsafeRecordingError(
                path, f"/{name} claims {_size(claimed)} of data, more than a "
                      f"{_size(file_size)} file can hold{' compressed' if ds.compressed else ''}")


def _rows(name: str, ds: DatasetFacts, steps: int, epochs: int) -> int | None:
    """How many rows of `ds` are read; None for objects the reader never reads."""
    if not ds.shape:
        return 1
    if name.startswith(STEP_ROOTS):
        return min(steps, ds.shape[0])
    if name.startswith(EPOCH_ROOT):
        return min(epochs, ds.shape[0])
    if name.startswith(f"{L.META}/") or name == L.COMMITTED:
        return ds.shape[0]
    return None


def _size(n: int) -> str:
    for unit, size in (("EiB", 1 << 60), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20),
                       ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
