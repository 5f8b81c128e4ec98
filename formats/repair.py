"""repair(src, dst): rescue every committed step of a damaged recording into a new file.

A recording written by weightreel survives a killed writer. Damage from outside can still
happen: a copy or download cut short, a full disk at the wrong moment, a file whose end
address in the superblock is too small (from an older weightreel). Repair never writes to
`src`. It works on a temporary copy: a version-0 superblock's end address is set to cover the
whole file (a file cut short is padded back to its end address, and rows whose storage lay
past the cut are not trusted), then every committed step that can still be read is written
into `dst` by a RecordingWriter, with its timeline, scalars, epoch rows and metadata.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from dataclasses import dataclass

import h5py
import numpy as np

from . import _layout as L
from ._guard import _is_v0
from ._h5 import check_identity, check_path, describe_os_error
from ._meta import read_metadata, update_run_attrs
from .errors import RecordingError
from .writer import RecordingWriter, VariableSpec


@dataclass
class RepairReport:
    """What repair rescued: steps and epoch rows, out of what the file had committed."""

    steps: int
    committed_steps: int
    epochs: int
    committed_epochs: int

    @property
    def complete(self) -> bool:
        return self.steps == self.committed_steps and self.epochs == self.committed_epochs


def repair(src: str | os.PathLike, dst: str | os.PathLike) -> RepairReport:
    """Write every committed, readable step of `src` into the new recording `dst`.

    Raises RecordingError when `src` cannot be read as a recording at all, or `dst` exists.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    check_path(src)
    if os.path.lexists(dst):
        raise RecordingError(dst, "already exists (repair writes a new file)")
    work = f"{dst}.{os.getpid()}.repair.tmp"
    try:
        shutil.copyfile(src, work)
        original_size = os.path.getsize(src)
        _fix_end_address(work)
        try:
            f = h5py.File(work, "r", locking=False)
        except (OSError, ValueError, RuntimeError) as exc:
            raise describe_os_error(src, exc) from None
        with f:
            check_identity(src, f)
            return _rescue(f, src, dst, original_size)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(work)


def _fix_end_address(path: str) -> None:
    """Make the superblock's end address cover the file, and the file reach its end address."""
    with open(path, "r+b") as fh:
        head = fh.read(48)
        if not _is_v0(head):
            return
        size = os.fstat(fh.fileno()).st_size
        base = int.from_bytes(head[24:32], "little")
        end = base + int.from_bytes(head[40:48], "little")
        if end < size:
            fh.seek(40)
            fh.write((size - base).to_bytes(8, "little"))
        elif end > size:
            fh.truncate(end)  # a file cut short: zeros where its tail was, never trusted


def _rescue(f: h5py.File, src: str, dst: str, limit: int) -> RepairReport:
    try:
        committed = [int(x) for x in f[L.COMMITTED][:2]]
    except (OSError, ValueError, RuntimeError, KeyError):
        raise RecordingError(src, "is damaged beyond repair: its committed count is lost") from None
    steps = _readable_rows(f, _step_datasets(f), committed[0], limit)
    epochs = _readable_rows(f, _epoch_datasets(f), committed[1], limit)
    meta = _metadata(f)
    variables = _variables(f)
    float16 = any(ds.dtype == np.float16 and spec.dtype != "float16"
                  for ds, spec in variables.values())
    compression = _compression(variables)
    writer = RecordingWriter(dst, "x", metadata=meta, float16=float16, compression=compression)
    try:
        for name, (_, spec) in variables.items():
            writer.declare(name, spec)
        steps = _copy_steps(f, writer, variables, steps)
        # Steps lost: keep no epoch row past the last rescued step's epoch.
        last_epoch = (None if steps == committed[0] else
                      int(f[L.TIMELINE]["epoch"][steps - 1]) if steps else -1)
        epochs = _copy_epochs(f, writer, epochs, last_epoch)
        writer.close(finished=bool(meta.get(L.RUN_ATTR_FINISHED)))
    except BaseException:
        writer.abandon()
        with contextlib.suppress(OSError):
            os.remove(dst)
        raise
    with h5py.File(dst, "r+", locking=False) as out:
        update_run_attrs(out[L.META], ended=str(meta.get("ended") or ""))
    return RepairReport(steps, committed[0], epochs, committed[1])


def _variables(f: h5py.File) -> dict[str, tuple[h5py.Dataset, VariableSpec]]:
    found = _group(f, L.VARIABLES)
    found.sort(key=lambda item: int(item[1].attrs.get("order", 0)))
    out = {}
    for name, ds in found:
        attrs = ds.attrs
        out[name] = (ds, VariableSpec(
            shape=tuple(ds.shape[1:]), dtype=_text(attrs.get("dtype", ds.dtype.name)),
            layer=_text(attrs.get("layer", "")), layer_class=_text(attrs.get("layer_class", "")),
            role=_text(attrs.get("role", "")), trainable=bool(attrs.get("trainable", True))))
    return out


def _copy_steps(f, writer, variables, rows: int) -> int:
    timeline = [f[L.TIMELINE][k] for k in L.TIMELINE_COLUMNS]
    scalars = _group(f, L.STEP_SCALARS)
    for row in range(rows):
        try:
            arrays = {name: ds[row] for name, (ds, _) in variables.items()}
            step, epoch, batch, wall = (c[row] for c in timeline)
            values = {name: float(ds[row]) for name, ds in scalars}
        except (OSError, ValueError, RuntimeError):
            return row  # the rest is unreadable
        writer.append(arrays, step=int(step), epoch=int(epoch), batch=int(batch),
                      wall_time=float(wall), scalars=values)
    return rows


def _copy_epochs(f, writer, rows: int, last_epoch: int | None) -> int:
    """Copy epoch rows, up to the last epoch the rescued steps reach."""
    if not rows:
        return 0
    numbers = f[L.EPOCH_SCALARS][L.EPOCH_COLUMN]
    columns = [(n, ds) for n, ds in _group(f, L.EPOCH_SCALARS) if n != L.EPOCH_COLUMN]
    for row in range(rows):
        try:
            logs = {name: float(ds[row]) for name, ds in columns}
            epoch = int(numbers[row])
        except (OSError, ValueError, RuntimeError):
            return row
        if last_epoch is not None and epoch > last_epoch:
            return row
        writer.append_epoch(epoch, logs)
    return rows


def _readable_rows(f: h5py.File, datasets: list[h5py.Dataset], rows: int, limit: int) -> int:
    """How many of the first `rows` rows exist in every dataset, stored before `limit`."""
    for ds in datasets:
        rows = min(rows, ds.shape[0])
        if ds.chunks is not None:
            rows = _rows_before(ds, rows, limit)
    return max(rows, 0)


def _rows_before(ds: h5py.Dataset, rows: int, limit: int) -> int:
    """Rows whose chunks can be found and lie wholly before byte `limit` (a cut file)."""
    grid = [range(0, n, c) for n, c in zip(ds.shape[1:], ds.chunks[1:], strict=True)]
    for start in range(0, rows, ds.chunks[0]):
        for corner in itertools.product(*grid):
            try:
                info = ds.id.get_chunk_info_by_coord((start, *corner))
            except (OSError, ValueError, RuntimeError):
                return start
            if info.byte_offset is None or info.byte_offset + info.size > limit:
                return start
    return rows


def _step_datasets(f: h5py.File) -> list[h5py.Dataset]:
    """What a rescued step needs: its timeline row, variables and scalars (summaries are
    computed again)."""
    out = [f[L.TIMELINE][k] for k in L.TIMELINE_COLUMNS]
    return out + [ds for root in (L.VARIABLES, L.STEP_SCALARS) for _, ds in _group(f, root)]


def _epoch_datasets(f: h5py.File) -> list[h5py.Dataset]:
    return [ds for _, ds in _group(f, L.EPOCH_SCALARS)]


def _group(f: h5py.File, root: str) -> list[tuple[str, h5py.Dataset]]:
    try:
        return _datasets(f[root])
    except (OSError, ValueError, RuntimeError, KeyError):
        return []


def _metadata(f: h5py.File) -> dict:
    try:
        meta = read_metadata(f[L.META])
    except (OSError, ValueError, RuntimeError, KeyError):
        return {}
    return {k: v for k, v in meta.items() if v not in (None, "")}


def _compression(variables: dict) -> str | None:
    for ds, _ in variables.values():
        if ds.compression in ("gzip", "lzf"):
            return ds.compression
    return None


def _datasets(group: h5py.Group, prefix: str = "") -> list[tuple[str, h5py.Dataset]]:
    """The datasets under `group` that can still be reached, walked link by link (HDF5's
    visit stops at the first damaged object; this skips it)."""
    found: list[tuple[str, h5py.Dataset]] = []
    try:
        keys = list(group.keys())
    except (OSError, ValueError, RuntimeError, KeyError):
        return found
    for key in keys:
        try:
            obj = group[key]
        except (OSError, ValueError, RuntimeError, KeyError):
            continue
        if isinstance(obj, h5py.Group):
            found += _datasets(obj, f"{prefix}{key}/")
        elif isinstance(obj, h5py.Dataset):
            found.append((prefix + key, obj))
    return found


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
