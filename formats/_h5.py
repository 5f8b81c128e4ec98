"""Opening HDF5 files, with every failure turned into a one-line RecordingError."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

import h5py

from ._layout import ATTR_FORMAT, ATTR_VERSION, FORMAT_MAJOR, FORMAT_NAME
from .errors import (
    CorruptRecordingError,
    NotARecordingError,
    RecordingError,
    UnsupportedVersionError,
    WriterLockedError,
)

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_path(path: str) -> None:
    """Raise RecordingError unless `path` names an existing regular file."""
    if not os.path.exists(path):
        raise RecordingError(path, "no such file")
    if os.path.isdir(path):
        raise RecordingError(path, "is a directory, not a recording file")
    if not os.path.isfile(path):
        raise RecordingError(path, "is not a regular file")
    if not os.access(path, os.R_OK):
        raise RecordingError(path, "permission denied")


def describe_os_error(path: str, exc: BaseException) -> RecordingError:
    """Translate an h5py/HDF5 failure into the error the user should see."""
    text = str(exc)
    if "unable to lock file" in text or "already open for write" in text:
        return WriterLockedError(path, "is held by another writer (close it first)")
    if "already open for read-only" in text:
        return RecordingError(path, "is open for reading in this process (close it before writing)")
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return RecordingError(path, "permission denied")
    with contextlib.suppress(OSError):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if os.path.getsize(path) == 0:
            return NotARecordingError(path, "is empty (0 bytes), not an HDF5 recording")
        if head != HDF5_SIGNATURE:
            return NotARecordingError(path, "is not an HDF5 file (no HDF5 signature)")
    hint = "; `weightreel repair` rescues its committed steps into a new file"
    if "truncated" in text:
        return CorruptRecordingError(
            path, "is truncated (shorter than its HDF5 header says)" + hint)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return CorruptRecordingError(path, f"is corrupt or unreadable HDF5 ({first}){hint}")


def open_h5_read(path: str) -> h5py.File:
    """Open for reading without taking a lock, so that a live writer is not disturbed.

    The raw-data chunk cache is off: a file being written changes under us, and a cached
    chunk could hold rows that were written after we read it.
    """
    check_path(path)
    try:
        return h5py.File(path, "r", locking=False, rdcc_nbytes=0)
    except (OSError, ValueError, RuntimeError) as exc:
        raise describe_os_error(path, exc) from None


def check_identity(path: str, f: h5py.File) -> str:
    """Return the file's format version; raise if it is not a recording this code reads."""
    name = f.attrs.get(ATTR_FORMAT)
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    if name != FORMAT_NAME:
        if _looks_like_keras(f):
            raise NotARecordingError(path, "is a Keras model file, not a weightreel recording")
        raise NotARecordingError(path, "is an HDF5 file but not a weightreel recording")
    version = f.attrs.get(ATTR_VERSION)
    if isinstance(version, bytes):
        version = version.decode("utf-8", "replace")
    elif hasattr(version, "item"):
        version = version.item()
    try:
        major, minor = (int(p) for p in str(version).split("."))
    except ValueError:
        raise CorruptRecordingError(path, f"has an unreadable format version {version!r}") from None
    if major != FORMAT_MAJOR:
        raise UnsupportedVersionError(
            path,
            f"has format version {major}.{minor}; this weightreel reads {FORMAT_MAJOR}.x "
            "(upgrade weightreel)" if major > FORMAT_MAJOR else
            f"has format version {major}.{minor}, which this weightreel does not read",
        )
    return f"{major}.{minor}"


def _looks_like_keras(f: h5py.File) -> bool:
    return "model_config" in f.attrs or "keras_version" in f.attrs or "model_weights" in f


@contextlib.contextmanager
def exclusive_probe(path: str) -> Iterator[None]:
    """Fail with WriterLockedError if another writer holds `path`, before HDF5 touches it.

    HDF5 truncates a file opened with mode "w" before it tries to lock it, so a second
    writer would destroy the first one's recording: we test the lock ourselves first.
    """
    if not os.path.exists(path):
        yield
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise RecordingError(path, f"cannot be opened ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WriterLockedError(path, "is held by another writer (close it first)") from None
        except OSError:
            pass  # the file system has no locks: nothing to test
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    yield


def hold_lock(path: str) -> int | None:
    """Hold an exclusive flock on `path` until the returned descriptor is closed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WriterLockedError(path, "is held by another writer (close it first)") from None
    except OSError:
        pass  # no locks on this file system
    return fd


def refuse_to_replace(path: str) -> None:
    """Raise unless `path` may be replaced by a new recording: empty, or a recording already.

    Writing a recording over a text file, a Keras model or a device would destroy it.
    """
    if not os.path.isfile(path):
        raise RecordingError(path, "is not a regular file; refusing to replace it")
    if os.path.getsize(path) == 0:
        return
    with open(path, "rb") as fh:
        if fh.read(8) != HDF5_SIGNATURE:
            raise RecordingError(path, "exists and is not a weightreel recording; refusing to "
                                       "replace it (delete it first)")
    try:
        with h5py.File(path, "r", locking=False) as f:
            name = f.attrs.get(ATTR_FORMAT)
    except (OSError, ValueError):
        return  # a damaged HDF5 file, most likely a recording cut short: replace it
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    if name != FORMAT_NAME:
        raise RecordingError(path, "is an HDF5 file but not a weightreel recording; refusing to "
                                   "replace it (delete it first)")
