"""A survey of every object in a file from its headers alone: no data and no attribute is read.

Links are walked with H5Lvisit, which reports soft and external links without following them,
and every dataset's creation properties say where its bytes live and how they are filtered.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from .. import _layout as L
from ..errors import CorruptRecordingError, UnsafeRecordingError
from .limits import ALLOWED_FILTERS, COMPRESSING_FILTERS, MAX_CHUNK_BYTES, MAX_OBJECTS

NUMERIC_ROOTS = (L.TIMELINE, L.VARIABLES, L.SUMMARIES, "scalars", L.COMMITTED)


@dataclass(frozen=True)
class DatasetFacts:
    """What a dataset's header claims: its extent, element size and how it is stored."""

    name: str
    shape: tuple[int, ...]
    itemsize: int
    kind: str
    compressed: bool

    @property
    def row_bytes(self) -> int:
        """Bytes of one row along the first axis (the whole dataset when 0-d); exact ints."""
        size = self.itemsize
        for d in self.shape[1:]:
            size *= d
        return size


def survey(path: str, f: h5py.File) -> dict[str, DatasetFacts]:
    """Every dataset of `f` by name; UnsafeRecordingError at the first object that reaches
    outside the file, uses a filter the spec does not allow, or has an oversized chunk."""
    links: list[tuple[str, int]] = []

    def visit(name: bytes, info) -> bool | None:
        links.append((name.decode("utf-8", "replace"), info.type))
        return True if len(links) > MAX_OBJECTS else None

    try:
        f.id.links.visit(visit, info=True)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise CorruptRecordingError(path, f"has an unreadable group structure ({_first(exc)})") \
            from None
    if len(links) > MAX_OBJECTS:
        raise UnsafeRecordingError(path, f"has more than {MAX_OBJECTS} objects")
    facts = {}
    for name, kind in links:
        if kind == h5py.h5l.TYPE_SOFT:
            raise UnsafeRecordingError(path, f"/{name} is a soft link (a recording has none)")
        if kind != h5py.h5l.TYPE_HARD:
            raise UnsafeRecordingError(
                path, f"/{name} is an external link to another file (a recording is "
                      "self-contained)")
        dataset = _dataset(path, f, name)
        if dataset is not None:
            facts[name] = dataset
    return facts


def _dataset(path: str, f: h5py.File, name: str) -> DatasetFacts | None:
    where = f"/{name}"
    try:
        if h5py.h5o.get_info(f.id, name.encode()).type != h5py.h5o.TYPE_DATASET:
            return None
        dsid = h5py.h5d.open(f.id, name.encode())
        dcpl = dsid.get_create_plist()
        layout = dcpl.get_layout()
        if layout == h5py.h5d.VIRTUAL:
            raise UnsafeRecordingError(path, f"{where} is a virtual dataset (a recording is "
                                             "self-contained)")
        if dcpl.get_external_count():
            raise UnsafeRecordingError(path, f"{where} keeps its data in an external file (a "
                                             "recording is self-contained)")
        filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
        shape = tuple(int(d) for d in dsid.get_space().get_simple_extent_dims())
        dtype = _dtype(path, where, dsid)
        chunk = dcpl.get_chunk() if layout == h5py.h5d.CHUNKED else None
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CorruptRecordingError(path, f"{where} has an unreadable header ({_first(exc)})") \
            from None
    unknown = [code for code in filters if code not in ALLOWED_FILTERS]
    if unknown:
        raise UnsafeRecordingError(path, f"{where} uses filter {unknown[0]}, which a recording "
                                         f"may not ({', '.join(ALLOWED_FILTERS.values())} only)")
    if chunk is not None:
        chunk_bytes = dtype.itemsize
        for d in chunk:
            chunk_bytes *= int(d)
        if chunk_bytes > MAX_CHUNK_BYTES:
            raise UnsafeRecordingError(path, f"{where} has chunks of {chunk_bytes} bytes (at "
                                             f"most {MAX_CHUNK_BYTES} are read at once)")
    if name.split("/")[0] in NUMERIC_ROOTS and dtype.kind not in "fiub":
        raise UnsafeRecordingError(path, f"{where} has non-numeric type {dtype} (a recording "
                                         "stores numbers there)")
    return DatasetFacts(name, shape, dtype.itemsize, dtype.kind,
                        any(code in COMPRESSING_FILTERS for code in filters))


def _dtype(path: str, where: str, dsid) -> np.dtype:
    try:
        return dsid.get_type().dtype
    except (TypeError, ValueError) as exc:
        raise UnsafeRecordingError(path, f"{where} has an unsupported data type ({_first(exc)})") \
            from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
