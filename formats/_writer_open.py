"""Opening a recording for writing: create it whole, or load it to append, and lock it."""

from __future__ import annotations

import fcntl
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from . import _layout as L
from ._direct import can_write_direct
from ._guard import GuardedFile, GuardedH5File
from ._h5 import check_identity, describe_os_error, exclusive_probe, refuse_to_replace
from ._meta import now_iso, update_run_attrs, write_documents, write_run_attrs
from ._newfile import discard, give_name, open_new
from ._tables import RowTables, create_rows
from .errors import RecordingError, WriterLockedError
from .summaries import sample_indices

_HELD: set[tuple[int, int]] = set()  # files this process writes, by (device, inode)
_HELD_TARGETS: set[str] = set()  # and by real path, also before a new file has its name
_HELD_LOCK = threading.Lock()

@dataclass
class VariableSpec:
    """What the writer knows of one variable. Everything but the shape is descriptive."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    layer: str = ""
    layer_class: str = ""
    role: str = ""
    trainable: bool = True
    layout: str = ""  # one letter per axis (o, i, h, w, d, x), e.g. "oihw"; "" = Keras, guessed


@dataclass
class _Variable:
    spec: VariableSpec
    data: h5py.Dataset
    summary: h5py.Dataset
    sample: np.ndarray | None
    direct: bool = False
    previous: np.ndarray | None = None  # the last row's values, for the update norm (1.1)
    # Whether the file has the 1.1 update_norm column (a 1.0 file stays without it); looked
    # up once, as h5py's shape is a call into HDF5.
    has_update_norm: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.direct = can_write_direct(self.data)
        self.has_update_norm = self.summary.shape[1] > len(L.BASE_SUMMARY_COLUMNS)


class WriterFile:
    """The file side of RecordingWriter: opening, creating, loading, holding the lock, and
    declaring the variables and checking each step against them."""

    path: str
    _vars: dict[str, _Variable]
    _scalars: dict[str, h5py.Dataset]
    _epoch_scalars: dict[str, h5py.Dataset]
    _key: tuple[int, int] | None

    # ----------------------------------------------------------------- opening
    def _open(self, mode: str, metadata: dict[str, Any]) -> h5py.File:
        exists = os.path.exists(self.path)
        if os.path.isdir(self.path):
            raise RecordingError(self.path, "is a directory, not a recording file")
        if mode == "x" and exists:
            raise RecordingError(self.path, "already exists (use mode 'w' to overwrite or 'a')")
        appending = mode == "a" and exists and os.path.getsize(self.path) > 0
        if exists and not appending:
            refuse_to_replace(self.path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise RecordingError(self.path, f"cannot be created: folder {parent} does not exist")
        with exclusive_probe(self.path):
            if appending:
                return self._open_existing(metadata)
            return self._create_new(metadata)

    def _open_existing(self, metadata: dict[str, Any]) -> h5py.File:
        """Open to append. Nothing is written to the file before the first new step is
        committed, so an append refused by any check leaves it byte for byte as it was."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise describe_os_error(self.path, exc) from None
        self._fd, self._tmp, self._unpublished = fd, None, None
        try:
            self._guard = GuardedFile(fd)
            f = GuardedH5File(self._guard, "r+")
        except (OSError, ValueError) as exc:
            os.close(fd)
            raise describe_os_error(self.path, exc) from None
        try:
            self._hold(f)
            self._load(f, metadata)
        except BaseException:
            f.close()
            self._release()
            raise
        return f

    def _create_new(self, metadata: dict[str, Any]) -> h5py.File:
        """Build the recording in an unnamed file (_newfile.py); the first commit names it.

        Until then the variables and scalars are created, which changes HDF5 metadata: a
        writer killed meanwhile leaves no half-made file under the recording's name, and an
        old recording is replaced only by one that holds committed steps.
        """
        target = os.path.realpath(self.path)  # through a symlink, not over it
        if target in _HELD_TARGETS:
            raise WriterLockedError(self.path, "is held by another writer in this process")
        try:
            fd, tmp = open_new(target)
        except OSError as exc:
            raise RecordingError(self.path, f"cannot be created ({_strerror(exc)})") from None
        self._fd, self._tmp, self._unpublished = fd, tmp, target
        try:
            self._guard = GuardedFile(fd)
            f = GuardedH5File(self._guard, "w")
        except (OSError, ValueError) as exc:
            self._release()
            raise RecordingError(self.path, f"cannot be created ({_strerror(exc)})") from None
        try:
            self._hold(f)
            self._create(f, metadata)
        except BaseException as exc:
            f.close()
            self._release()
            if isinstance(exc, OSError):
                raise RecordingError(self.path, f"cannot be created ({_strerror(exc)})") from None
            raise
        return f

    def _hold(self, f: h5py.File) -> None:
        """Take this file for writing: a lock other processes see, and a mark for this one.

        HDF5 does not lock a file it reaches through a file object, so the exclusive lock is
        an flock of our own on the descriptor the guard writes through.
        """
        st = os.fstat(self._fd)
        key = (st.st_dev, st.st_ino)
        target = os.path.realpath(self.path)
        with _HELD_LOCK:
            if key in _HELD or target in _HELD_TARGETS:
                raise WriterLockedError(self.path, "is held by another writer in this process")
            _HELD.add(key)
            _HELD_TARGETS.add(target)
        self._key, self._target = key, target
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WriterLockedError(
                self.path, "is held by another writer (close it first)") from None
        except OSError:
            pass  # no locks on this file system

    def _publish(self) -> None:
        """Give a new recording its name (at its first commit)."""
        if self._unpublished is None:
            return
        self._file.flush()
        give_name(self._fd, self._tmp, self._unpublished)
        self._unpublished = self._tmp = None

    def _release(self) -> None:
        with _HELD_LOCK:
            _HELD.discard(self._key)
            _HELD_TARGETS.discard(getattr(self, "_target", None))
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None
        if self._unpublished is not None:
            discard(self._tmp)

    def _create(self, f: h5py.File, metadata: dict[str, Any]) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            creator = f"weightreel {version('weightreel')}"
        except PackageNotFoundError:
            creator = "weightreel"
        f.attrs[L.ATTR_FORMAT] = L.FORMAT_NAME
        f.attrs[L.ATTR_VERSION] = self._version = L.FORMAT_VERSION
        f.attrs[L.ATTR_CREATOR] = creator
        f.attrs[L.ATTR_CREATED] = now_iso()
        meta = f.create_group(L.META)
        write_run_attrs(meta, metadata)
        write_documents(meta, metadata)
        self._committed = f.create_dataset(L.COMMITTED, data=np.zeros(2, "<i8"))
        for group in (L.TIMELINE, L.VARIABLES, L.SUMMARIES, L.STEP_SCALARS, L.EPOCH_SCALARS):
            f.require_group(group)
        timeline = [create_rows(f[L.TIMELINE], k, (), np.dtype(v), 0)
                    for k, v in L.TIMELINE_COLUMNS.items()]
        self._steps = RowTables(f, timeline)
        self._epochs = RowTables(
            f, [create_rows(f[L.EPOCH_SCALARS], L.EPOCH_COLUMN, (), np.int64, 0)])
        self.num_steps = self.num_epochs = 0
        self._resuming = False
        self._last = {"step": -1, "epoch": 0, "batch": -1}
        self.format_version = L.FORMAT_VERSION
        f.flush()

    def _load(self, f: h5py.File, metadata: dict[str, Any]) -> None:
        self.format_version = check_identity(self.path, f)  # appending keeps the file's version
        self._version = self.format_version
        try:
            self._committed = f[L.COMMITTED]
            self.num_steps, self.num_epochs = (int(x) for x in self._committed[:2])
            timeline = [f[L.TIMELINE][k] for k in L.TIMELINE_COLUMNS]
            self._steps = RowTables(f, timeline)
            self._epochs = RowTables(f, [f[L.EPOCH_SCALARS][L.EPOCH_COLUMN]])
            self._load_variables(f)
            for name, ds in _datasets(f[L.STEP_SCALARS]):
                self._scalars[name] = ds
                self._steps.add(ds)
            for name, ds in _datasets(f[L.EPOCH_SCALARS]):
                if name != L.EPOCH_COLUMN:
                    self._epoch_scalars[name] = ds
                    self._epochs.add(ds)
        except KeyError as exc:
            raise RecordingError(self.path, f"cannot be appended to: missing {exc}") from None
        n = self.num_steps
        self._last = {
            "step": int(timeline[0][n - 1]) if n else -1,
            "epoch": int(timeline[1][n - 1]) if n else 0,
            "batch": int(timeline[2][n - 1]) if n else -1,
        }
        self._resuming, self._resume_metadata = True, metadata  # see _start_resumed

    def _start_resumed(self) -> None:
        """Mark a resumed recording as being written, just before its first new commit."""
        if not self._resuming:
            return
        metadata, self._resuming = self._resume_metadata, False
        if metadata:
            write_documents(self._file[L.META], metadata)
        update_run_attrs(self._file[L.META], ended="", finished=False)

    def _load_variables(self, f: h5py.File) -> None:
        found = sorted(_datasets(f[L.VARIABLES]), key=lambda item: int(item[1].attrs["order"]))
        for name, ds in found:
            spec = VariableSpec(
                shape=tuple(ds.shape[1:]),
                dtype=str(ds.attrs.get("dtype", ds.dtype)),
                layer=str(ds.attrs.get("layer", "")),
                layer_class=str(ds.attrs.get("layer_class", "")),
                role=str(ds.attrs.get("role", "")),
                trainable=bool(ds.attrs.get("trainable", True)),
                layout=_text(ds.attrs.get("layout", "")),
            )
            summary = f[L.SUMMARIES][name]
            var = _Variable(spec, ds, summary, sample_indices(math.prod(spec.shape)))
            # The resumed run's first update_norm compares with the file's last row, unless
            # that row was rounded to float16: rounding would swamp the update (NaN instead).
            rounded = ds.dtype == np.float16 and spec.dtype != "float16"
            if var.has_update_norm and self.num_steps and not rounded:
                var.previous = ds[self.num_steps - 1]
            self._vars[name] = var
            self._steps.add(ds)
            self._steps.add(summary)

    # ----------------------------------------------------------------- declaring
    @property
    def variable_names(self) -> list[str]:
        return list(self._vars)

    def declare(self, name: str, spec: VariableSpec) -> None:
        """Add a variable before the first step. Appending later requires the same shape."""
        if name in self._vars:
            if tuple(self._vars[name].spec.shape) != tuple(spec.shape):
                raise RecordingError(
                    self.path, f"variable {name!r} has shape {tuple(self._vars[name].spec.shape)} "
                    f"in the file but {tuple(spec.shape)} now")
            return
        if self.num_steps:
            raise RecordingError(self.path, f"cannot add variable {name!r} after steps exist")
        source = "bfloat16" if str(spec.dtype) == "bfloat16" else ""  # numpy has no bfloat16
        dtype = np.dtype("float32") if source else np.dtype(spec.dtype)
        try:
            L.split_name(name)
            L.check_layout(spec.layout, spec.shape)
            store = self._storage_dtype(dtype)
            capacity = self._steps.capacity
            data = create_rows(self._group_for(L.VARIABLES, name), name.split("/")[-1],
                               tuple(spec.shape), store, capacity, self.compression)
            columns = self._summary_columns()
            summary = create_rows(self._group_for(L.SUMMARIES, name), name.split("/")[-1],
                                  (len(columns),), np.dtype("<f8"), capacity)
        except (ValueError, TypeError) as exc:
            raise RecordingError(self.path, f"cannot store variable {name!r}: {exc}") from None
        attrs = {"layer": spec.layer, "layer_class": spec.layer_class, "role": spec.role,
                 "trainable": bool(spec.trainable), "dtype": str(dtype),
                 "order": len(self._vars)}
        if self.format_version != "1.0":  # a 1.0 file appended to stays 1.0
            attrs.update({k: v for k, v in (("layout", spec.layout), ("source_dtype", source))
                          if v})
        for key, value in attrs.items():
            data.attrs[key] = value
        summary.attrs["columns"] = list(columns)
        self._vars[name] = _Variable(spec, data, summary, sample_indices(math.prod(spec.shape)))
        self._steps.add(data)
        self._steps.add(summary)

    def _summary_columns(self) -> tuple[str, ...]:
        """This file's summary columns: a 1.0 file being appended to stays 1.0."""
        version = self._file.attrs.get(L.ATTR_VERSION, L.FORMAT_VERSION)
        if isinstance(version, bytes):
            version = version.decode("utf-8", "replace")
        if str(version) == "1.0":
            return L.BASE_SUMMARY_COLUMNS
        return L.SUMMARY_COLUMNS

    def _storage_dtype(self, dtype: np.dtype) -> np.dtype:
        if self.float16 and dtype.kind == "f":
            return np.dtype("<f2")
        if dtype.kind not in "fiub":
            raise TypeError(f"dtype {dtype} is not numeric")
        return dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype

    def _group_for(self, root: str, name: str) -> h5py.Group:
        group = self._file[root]
        for part in L.split_name(name)[:-1]:
            if isinstance(group.get(part), h5py.Dataset):
                raise ValueError(f"{part!r} is already a variable, not a layer")
            group = group.require_group(part)
        return group

    def _checked(self, arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """One step's arrays as numpy, checked against the variables (declared by the first)."""
        values = {name: np.asarray(a) for name, a in arrays.items()}
        if not self._vars:
            for name, a in values.items():
                self.declare(name, VariableSpec(tuple(a.shape), str(a.dtype)))
        self._check_arrays(values)
        return {n: a.astype(np.float32) if a.dtype.name == "bfloat16" else a
                for n, a in values.items()}

    def _check_arrays(self, values: dict[str, np.ndarray]) -> None:
        missing = set(self._vars) - set(values)
        extra = set(values) - set(self._vars)
        if missing or extra:
            raise RecordingError(self.path, "step does not match the recorded variables: "
                                 + _diff_text(missing, extra))
        for name, a in values.items():
            shape = tuple(self._vars[name].spec.shape)
            if tuple(a.shape) != shape:
                raise RecordingError(
                    self.path, f"variable {name!r} has shape {tuple(a.shape)}, recorded {shape}")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _datasets(group: h5py.Group) -> list[tuple[str, h5py.Dataset]]:
    found: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, obj: found.append((name, obj))
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def _strerror(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _diff_text(missing: set[str], extra: set[str]) -> str:
    parts = []
    if missing:
        parts.append("missing " + ", ".join(sorted(missing)))
    if extra:
        parts.append("unknown " + ", ".join(sorted(extra)))
    return "; ".join(parts)
