"""The reads that meet a damaged file first, made where a hang or a crash costs nothing.

`first_reads` is what the child process of `check_untrusted` runs: the header survey, the
claims, then every attribute of every object, the counts, the timeline, the metadata documents
and the first and last committed row of every variable and scalar.
"""

from __future__ import annotations

import os

import h5py

from .. import _layout as L
from .._h5 import check_identity, open_h5_read
from ..errors import CorruptRecordingError, RecordingError
from .claims import EPOCH_ROOT, STEP_ROOTS, check_claims
from .survey import DatasetFacts, survey

READ_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError,
               AttributeError, UnicodeDecodeError, OverflowError)


def checked_counts(path: str, f: h5py.File, facts: dict[str, DatasetFacts]) -> tuple[int, int]:
    """The committed (steps, epochs), after the survey found /committed a plain int64[2]."""
    ds = facts.get(L.COMMITTED)
    if ds is None or ds.shape != (2,) or ds.kind != "i":
        raise CorruptRecordingError(path, "has a missing or malformed /committed dataset")
    steps, epochs = (int(x) for x in f[L.COMMITTED][:2])
    if steps < 0 or epochs < 0:
        raise CorruptRecordingError(path, f"has negative committed counts ({steps}, {epochs})")
    return steps, epochs


def first_reads(path: str) -> None:
    """Raise RecordingError naming the object where `path` fails; return if it reads cleanly."""
    f = open_h5_read(path)
    try:
        facts = survey(path, f)
        check_identity(path, f)
        steps, epochs = checked_counts(path, f, facts)
        check_claims(path, facts, steps, epochs, os.path.getsize(path))
        _read_attributes(path, f)
        for name, ds in facts.items():
            _read_rows(path, f, name, ds, steps, epochs)
        _check_steps(path, f, facts, steps)
    finally:
        f.close()


def _check_steps(path: str, f: h5py.File, facts: dict[str, DatasetFacts], steps: int) -> None:
    """Global steps must be exact in a float64, where the viewer's axes put them."""
    ds = facts.get(f"{L.TIMELINE}/step")
    if ds is None or len(ds.shape) != 1 or ds.kind != "i":
        raise CorruptRecordingError(path, "/timeline/step is missing or not a 1-D integer "
                                          "dataset")
    if not steps:
        return
    values = f[f"{L.TIMELINE}/step"][:steps]
    low, high = int(values.min()), int(values.max())
    if low < 0 or high >= 1 << 53:
        raise CorruptRecordingError(path, f"/timeline/step has values outside 0..2**53-1 "
                                          f"({low}..{high})")


def _read_attributes(path: str, f: h5py.File) -> None:
    names = [""]
    f.id.links.visit(lambda name: names.append(name.decode("utf-8", "replace")))
    for name in names:
        where = "/" + name
        try:
            for key in f[where].attrs:
                f[where].attrs[key]
        except READ_ERRORS as exc:
            raise CorruptRecordingError(path, f"{where} has unreadable attributes "
                                              f"({_first(exc)})") from None


def _read_rows(path: str, f: h5py.File, name: str, ds: DatasetFacts, steps: int,
               epochs: int) -> None:
    rows = steps if name.startswith(STEP_ROOTS) else epochs if name.startswith(EPOCH_ROOT) \
        else None
    if rows is None and not name.startswith(f"{L.META}/"):
        return
    try:
        data = f[name]
        if not ds.shape:
            data[()]
        elif rows is None:
            data[:]
        elif rows:
            data[0]
            data[min(rows, ds.shape[0]) - 1]
    except READ_ERRORS as exc:
        raise CorruptRecordingError(path, f"/{name} cannot be read ({_first(exc)})") from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: list[str]) -> int:
    """Child entry point: print one line (OK, or the error) on stdout; exit 0, 3 or 4."""
    path = argv[0]
    try:
        first_reads(path)
    except RecordingError as exc:
        print(str(exc), flush=True)
        return 3
    except MemoryError:
        print(f"{CorruptRecordingError(path, 'needs more memory to read than it may use')}",
              flush=True)
        return 4
    except READ_ERRORS + (RecursionError,) as exc:
        print(CorruptRecordingError(path, f"cannot be read ({_first(exc)})"), flush=True)
        return 3
    print("OK", flush=True)
    return 0
