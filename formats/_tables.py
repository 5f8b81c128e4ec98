"""Datasets that grow along their first axis, written so that a killed writer leaves a good file.

Crash safety rests on three rules (SPEC.md, "Crash safety"):
1. Storage for rows is allocated ahead of use, in growth events, so that writing a row changes
   only raw data and no HDF5 metadata.
2. Every HDF5 write goes through the guard (_guard.py), which keeps the end address in the
   superblock on disk ahead of every byte written and the file at least that long, so a kill
   mid-flush can leave neither metadata past the end address nor a "truncated" file.
3. The committed row count is written after the rows it counts have been flushed.
"""

from __future__ import annotations

import math
import os

import h5py
import numpy as np

CHUNK_TARGET = 1 << 20  # bytes: small variables batch several steps into one chunk
CHUNK_MAX = 4 << 20  # bytes: a larger step is split along its first axis
MAX_CHUNK_ROWS = 128
GROWTH_BYTES = 32 << 20  # one growth event allocates at most about this much
INITIAL_ROWS = 64


def chunk_plan(shape: tuple[int, ...], itemsize: int, compressed: bool) -> tuple[int, ...]:
    """The chunk shape for rows of `shape`: one step is one cheap read, small steps batched."""
    row_bytes = max(1, math.prod(shape) * itemsize)
    if compressed:
        rows = 1 if row_bytes >= CHUNK_TARGET // 16 else max(1, (CHUNK_TARGET // 16) // row_bytes)
        return (rows, *shape) if shape else (rows,)
    if row_bytes <= CHUNK_TARGET:
        rows = max(1, min(MAX_CHUNK_ROWS, CHUNK_TARGET // row_bytes))
        return (rows, *shape)
    if not shape or row_bytes <= CHUNK_MAX:
        return (1, *shape)
    pieces = math.ceil(row_bytes / CHUNK_MAX)
    lead = max(1, math.ceil(shape[0] / pieces))
    return (1, lead, *shape[1:])


def create_rows(
    group: h5py.Group,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    capacity: int,
    compression: str | None = None,
) -> h5py.Dataset:
    """Create a dataset of `capacity` rows of `shape`, growable along axis 0."""
    dtype = np.dtype(dtype)
    compressed = compression is not None
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(chunk_plan(shape, dtype.itemsize, compressed))
    if compressed:
        dcpl.set_shuffle()
        if compression == "gzip":
            dcpl.set_deflate(4)
        else:
            dcpl.set_filter(h5py.h5z.FILTER_LZF, h5py.h5z.FLAG_OPTIONAL)
    else:
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple((capacity, *shape), (h5py.h5s.UNLIMITED, *shape))
    tid = h5py.h5t.py_create(dtype, logical=True)
    dsid = h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=dcpl)
    return h5py.Dataset(dsid)


def fit_to_superblock(path: str) -> None:
    """Cut bytes past the end address in a closed file's version-0 superblock.

    Growth events extend the file on disk ahead of HDF5 (rule 2); HDF5 does not always cut the
    spare bytes off again, and they would only waste space.
    """
    with open(path, "r+b") as fh:
        head = fh.read(48)
        if len(head) < 48 or head[8] != 0 or head[13] != 8:
            return
        base, end = int.from_bytes(head[24:32], "little"), int.from_bytes(head[40:48], "little")
        if 0 < base + end < os.fstat(fh.fileno()).st_size:
            fh.truncate(base + end)


_ROW_LAYOUTS: dict[h5py.h5d.DatasetID, tuple] = {}


def write_rows(ds: h5py.Dataset, first: int, block: object) -> None:
    """ds[first:first + len(block)] = block, through h5py's low-level API: about 5x less
    overhead per call, which matters on the recorder's per-step path."""
    layout = _ROW_LAYOUTS.get(ds.id)
    if layout is None:
        layout = _ROW_LAYOUTS[ds.id] = (tuple(ds.shape[1:]), ds.dtype, {})
    shape, dtype, memories = layout
    data = np.ascontiguousarray(block, dtype=dtype).reshape((-1, *shape))
    memory = memories.get(len(data))
    if memory is None:
        memory = h5py.h5s.create_simple(data.shape)
        if len(data) <= 64:  # the usual block sizes; a commit's odd lengths are not kept
            memories[len(data)] = memory
    space = ds.id.get_space()
    space.select_hyperslab((first,) + (0,) * len(shape), data.shape)
    ds.id.write(memory, space, data)


def forget_rows(datasets: list[h5py.Dataset]) -> None:
    for ds in datasets:
        _ROW_LAYOUTS.pop(ds.id, None)


def row_bytes(ds: h5py.Dataset) -> int:
    return max(1, math.prod(ds.shape[1:]) * ds.dtype.itemsize)


class RowTables:
    """A set of datasets that share one row capacity and grow together."""

    def __init__(self, file: h5py.File, datasets: list[h5py.Dataset]) -> None:
        self._file = file
        self.datasets = list(datasets)
        self.capacity = min((ds.shape[0] for ds in datasets), default=0)

    def add(self, ds: h5py.Dataset) -> None:
        if ds.shape[0] < self.capacity:
            ds.resize(self.capacity, axis=0)
        self.datasets.append(ds)

    def ensure(self, rows: int) -> None:
        """Make room for `rows` rows, in one growth event if needed."""
        if rows <= self.capacity:
            return
        total = self._total_row_bytes()
        step = min(max(self.capacity, INITIAL_ROWS), max(1, GROWTH_BYTES // total))
        new_capacity = max(rows, self.capacity + step)
        self.reserve((new_capacity - self.capacity) * total)
        for ds in self.datasets:
            if ds.shape[0] < new_capacity:
                ds.resize(new_capacity, axis=0)
        self.capacity = new_capacity
        self._file.flush()

    def trim(self, rows: int) -> None:
        for ds in self.datasets:
            if ds.shape[0] != rows:
                ds.resize(rows, axis=0)
        self.capacity = rows

    def reserve(self, new_bytes: int) -> None:
        """Let the guard (_guard.py) put the end address past what `new_bytes` of rows and
        their chunk index may take, before HDF5 allocates them."""
        reserve = getattr(self._file, "reserve", None)
        if reserve is not None:
            reserve(new_bytes + (1 << 20) + new_bytes // 64 + 4096 * len(self.datasets))

    def _total_row_bytes(self) -> int:
        return sum(row_bytes(ds) for ds in self.datasets) or 1
