"""Small rows held in memory until the next commit, then written one block per dataset.

A step writes a dozen or more tiny rows: its timeline entry, its scalars, each variable's
summary row and the rows of small variables (biases). Through HDF5 each costs about as much
as the whole bias it stores, and holds the GIL while training runs beside the writer. Rows
are only visible to readers after a commit (rule 3 in _tables.py), so holding them until the
commit changes nothing a reader or a crash can see: the commit writes them before it flushes.
"""

from __future__ import annotations

import math

import h5py
import numpy as np

from ._tables import write_rows

STAGE_MAX_ROW_BYTES = 64 << 10  # larger rows are written at once: staging them saves little
STAGE_LIMIT_BYTES = 8 << 20  # written early past this much, so memory stays bounded


class RowStage:
    """Rows waiting for the next commit, per dataset, as runs of consecutive rows."""

    def __init__(self, limit_bytes: int = STAGE_LIMIT_BYTES) -> None:
        self._limit = limit_bytes
        # per dataset: (dataset, first row, blocks of consecutive rows, the row after them)
        self._runs: dict[h5py.h5d.DatasetID, tuple[h5py.Dataset, int, list, int]] = {}
        self._rows: dict[h5py.h5d.DatasetID, tuple[tuple[int, ...], np.dtype, bool]] = {}
        self._bytes = 0

    def holds(self, ds: h5py.Dataset) -> bool:
        """Whether rows of `ds` are small enough to stage (h5py's ds.shape costs a call into
        HDF5, so each dataset's row layout is looked up once)."""
        return self._row(ds)[2]

    def _row(self, ds: h5py.Dataset) -> tuple[tuple[int, ...], np.dtype, bool]:
        row = self._rows.get(ds.id)
        if row is None:
            shape = tuple(ds.shape[1:])
            small = math.prod(shape) * ds.dtype.itemsize <= STAGE_MAX_ROW_BYTES
            row = self._rows[ds.id] = (shape, ds.dtype, small)
        return row

    def put(self, ds: h5py.Dataset, first: int, block: object) -> None:
        """Hold ds[first:first + len(block)] = block (a copy) until `flush`."""
        shape, dtype, _ = self._row(ds)
        data = np.array(block, dtype=dtype).reshape((-1, *shape))
        run = self._runs.get(ds.id)
        if run is not None and run[3] != first:  # not the next rows: write the run first
            self._write(*self._runs.pop(ds.id)[:3])
            run = None
        if run is None:
            run = (ds, first, [])
        self._runs[ds.id] = (*run[:3], first + len(data))  # the row that continues the run
        run[2].append(data)
        self._bytes += data.nbytes
        if self._bytes > self._limit:
            self.flush()

    def flush(self) -> None:
        """Write every held row to its dataset (one HDF5 write per dataset)."""
        runs, self._runs, self._bytes = self._runs, {}, 0
        for run in runs.values():
            self._write(*run[:3])

    def drop(self) -> None:
        """Forget held rows (the writer is abandoned: they were never committed) and the
        datasets' layouts (their ids may be reused once the file is closed)."""
        self._runs, self._rows, self._bytes = {}, {}, 0

    @staticmethod
    def _write(ds: h5py.Dataset, first: int, blocks: list[np.ndarray]) -> None:
        write_rows(ds, first, np.concatenate(blocks) if len(blocks) > 1 else blocks[0])
