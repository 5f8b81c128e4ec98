"""Rewriting a closed recording without the spare rows that growth allocated ahead."""

from __future__ import annotations

import contextlib
import os

import h5py

COMPACT_LIMIT = 256 << 20  # larger files keep their spare space: rewriting them costs too much
SPARE_TOLERANCE = 0.02


def data_bytes(datasets: list[h5py.Dataset]) -> int:
    return sum(ds.size * ds.dtype.itemsize for ds in datasets)


def worth_compacting(path: str, used_bytes: int) -> bool:
    size = os.path.getsize(path)
    return size <= COMPACT_LIMIT and size > used_bytes * (1 + SPARE_TOLERANCE) + (256 << 10)


def compact(path: str) -> None:
    """Copy every object into a new file, which allocates only the rows that exist."""
    path = os.path.realpath(path)  # replace the file a symlink points to, not the link
    tmp = f"{path}.{os.getpid()}.compact"
    try:
        with h5py.File(path, "r", locking=False) as src, \
                h5py.File(tmp, "w", libver="earliest", locking=False) as dst:
            for key, value in src.attrs.items():
                dst.attrs[key] = value
            for key in src:
                src.copy(src[key], dst, name=key)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
