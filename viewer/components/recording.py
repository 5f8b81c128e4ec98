"""RecordingModel: the open recording, its live growth, and the over-time data the views plot."""

from __future__ import annotations

import os
import threading

import numpy as np

from weightreel.formats import SUMMARY_COLUMNS, Recording, RecordingError, open_recording

from .events import Event


class StaleReadError(RecordingError):
    """The file was cut shorter or swapped while a read ran: what was read may be zeros (HDF5
    reads past the end of a file as zeros), so it is thrown away; the next `refresh` reopens the
    file or reports it broken."""


class RecordingModel:
    """Holds the open Recording (or none) and announces opening, growth and failure.

    Every access to the h5py file goes through `lock`, so that a reader thread and `refresh`
    (which may reopen the file) never overlap. After a failure the last good state stays:
    `error` holds the one-line message, and nothing already read is dropped.
    """

    def __init__(self) -> None:
        self.rec: Recording | None = None
        self.path: str | None = None
        self.error: str | None = None
        self.num_steps = 0
        self.generation = 0  # increases whenever a file is (re)opened: cached reads are stale
        self.lock = threading.RLock()
        self._identity: tuple[int, int, int] | None = None
        self._broken = False  # the file changed under us and could not be read again
        self._summaries: dict[str, np.ndarray] = {}
        self._scalars: dict[str, np.ndarray] = {}
        self.summary_columns: tuple[str, ...] = SUMMARY_COLUMNS  # the open file's (1.0: 18)
        self.opened = Event()  # (path)
        self.grown = Event()  # (num_steps)
        self.reopened = Event()  # (path): the file changed under us and was read afresh
        self.failed = Event()  # (message)
        self.closed = Event()  # ()

    # ------------------------------------------------------------ open / close
    def open(self, path: str | os.PathLike) -> None:
        """Open `path`, replacing any open recording. Raises RecordingError on a bad file."""
        rec = open_recording(path)
        self.close()
        self._bind(rec, os.fspath(path))
        self.opened.emit(self.path)

    def _bind(self, rec: Recording, path: str) -> None:
        with self.lock:
            self.rec, self.path = rec, path
            self.num_steps = rec.num_steps
            self.error = None
            self.generation += 1
            self._broken = False
            self._summaries.clear()
            self._scalars.clear()
            self._identity = _identity(path)
            # Kept: read with the cached summaries even once the file is broken.
            self.summary_columns = tuple(rec.summary_columns)

    def close(self) -> None:
        if self.rec is None:
            return
        with self.lock:
            self.rec.close()
            self.rec, self.path, self.num_steps = None, None, 0
            self._summaries.clear()
            self._scalars.clear()
        self.closed.emit()

    @property
    def is_open(self) -> bool:
        return self.rec is not None

    # ------------------------------------------------------------ live growth
    def refresh(self) -> bool:
        """Pick up newly committed steps. True if the recording grew; failures are announced."""
        if self.rec is None:
            return False
        try:
            with self.lock:  # at once: no read may pass its check between the stat and the close
                if self._broken or self._replaced():
                    self.rec.close()  # HDF5 would hand back the stale open file: close it first
                    self._broken = True
                else:
                    n = self.rec.refresh()
            if self._broken:
                return self._reopen()
        except RecordingError as exc:
            return self._fail(str(exc))
        except OSError as exc:
            return self._fail(f"{self.path}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a broken file must never crash the viewer
            return self._fail(f"{self.path}: cannot be read any more ({exc})")
        if self.error is not None:
            self.error = None
        if n == self.num_steps:
            return False
        if n < self.num_steps:
            self._summaries.clear()
            self._scalars.clear()
        self.num_steps = n
        self.grown.emit(n)
        return True

    def _replaced(self) -> bool:
        """True if the file was swapped for another or cut shorter since we last looked."""
        changed = self._changed()
        self._identity = _identity(self.path)
        return changed

    def _reopen(self) -> bool:
        """The file changed under us (and is closed): read it afresh, or fail keeping the last
        good state."""
        rec = open_recording(self.path)  # on failure the cached summaries stay on screen
        self._bind(rec, self.path)
        self.reopened.emit(self.path)
        self.grown.emit(self.num_steps)
        return True

    def _fail(self, message: str) -> bool:
        if message != self.error:
            self.error = message
            self.failed.emit(message)
        return False

    # ------------------------------------------------------------ description
    def timeline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self.lock:
            rec = self._require()
            return np.array(rec.steps), np.array(rec.epochs), np.array(rec.batches)

    def _require(self) -> Recording:
        if self.rec is None or self._broken:
            raise RecordingError(self.path or "", self.error or "no recording is open")
        return self.rec

    # ------------------------------------------------------------ reads (any thread)
    def read(self, name: str, index: int) -> np.ndarray:
        return self._checked(lambda rec: rec.read(name, index))

    def read_range(self, name: str, start: int, stop: int, stride: int = 1) -> np.ndarray:
        return self._checked(lambda rec: rec.read_range(name, start, stop, stride))

    def read_element(self, name: str, element: tuple[int, ...]) -> np.ndarray:
        return self._checked(lambda rec: rec.read_element(name, element, 0, self.num_steps))

    def _checked(self, read):
        """Run `read` under the lock, then make sure the file was not cut or swapped meanwhile
        (a stat after the read: anything cut later cannot have touched what was read)."""
        with self.lock:
            data = read(self._require())
            if self._changed():
                raise StaleReadError(self.path, "changed while being read")
            return data

    def _changed(self) -> bool:
        try:
            now = _identity(self.path)
        except OSError:
            return True
        before = self._identity
        return before is not None and (now[:2] != before[:2] or now[2] < before[2])

    # ------------------------------------------------------------ over-time data (cached)
    def summary(self, name: str) -> np.ndarray:
        """All summary rows of `name` so far, read incrementally as the file grows."""
        have = self._summaries.get(name)
        start = 0 if have is None else len(have)
        if have is not None and start >= self.num_steps:
            return have[: self.num_steps]
        with self.lock:
            new = np.asarray(self._require().summary(name, start, self.num_steps), np.float64)
        rows = new if have is None else np.concatenate([have, new])
        self._summaries[name] = rows
        return rows

    def summary_column(self, name: str, column: str) -> np.ndarray:
        return self.summary(name)[:, self.summary_columns.index(column)]


    def summary_row(self, name: str, index: int) -> dict[str, float]:
        row = self.summary(name)[index]
        # a file may hold more columns (a later minor version) or fewer: name the known ones
        return dict(zip(self.summary_columns, (float(v) for v in row), strict=False))

    def loss_name(self) -> str | None:
        """The per-step scalar to draw on the timeline: 'loss' if recorded, else the first."""
        names = self._require().scalar_names
        if "loss" in names:
            return "loss"
        return names[0] if names else None

    def scalar(self, name: str) -> np.ndarray:
        have = self._scalars.get(name)
        if have is not None and len(have) == self.num_steps:
            return have
        with self.lock:
            values = np.asarray(self._require().scalar(name), np.float64)
        self._scalars[name] = values
        return values

    def value_range(self, name: str, robust: bool = True) -> tuple[float, float]:
        """Lowest and highest value over the whole run so far (robust: 0.1% / 99.9% quantiles)."""
        lo_col, hi_col = ("q0.001", "q0.999") if robust else ("min", "max")
        rows = self.summary(name)
        lo = _finite_extreme(rows[:, SUMMARY_COLUMNS.index(lo_col)], np.nanmin)
        hi = _finite_extreme(rows[:, SUMMARY_COLUMNS.index(hi_col)], np.nanmax)
        if robust and lo == hi:
            return self.value_range(name, robust=False)
        return lo, hi


def _identity(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size


def _finite_extreme(values: np.ndarray, reduce) -> float:
    finite = values[np.isfinite(values)]
    return float(reduce(finite)) if len(finite) else 0.0
