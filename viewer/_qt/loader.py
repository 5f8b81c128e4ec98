"""FrameLoader: reads frames and trajectories off the GUI thread, drops stale requests, caches.

Per variable at most one read runs at a time. A request made while one runs replaces any
request still waiting (stale ones are dropped, never read); a finished read that is no longer
wanted goes to the cache only. While idle, the loader prefetches the next frames in the
direction of play.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from ..components import FrameCache, ImageLayout, RecordingModel

HIST_BINS = 64
HIST_SAMPLE = 1 << 18  # bigger variables are histogrammed from an evenly strided sample


@dataclass
class Frame:
    """One variable at one position, ready to draw."""

    name: str
    index: int
    image: np.ndarray  # float32, laid out by ImageLayout
    counts: np.ndarray | None  # histogram counts over `hist_range`
    hist_range: tuple[float, float] | None

    @property
    def nbytes(self) -> int:
        return self.image.nbytes + (0 if self.counts is None else self.counts.nbytes)


def histogram(image: np.ndarray, hist_range: tuple[float, float]) -> np.ndarray:
    """Counts of finite values in HIST_BINS equal bins over `hist_range` (outliers clipped in).

    Above HIST_SAMPLE values, an evenly strided sample is counted and scaled to the full size.
    """
    flat = image.ravel()
    stride = max(1, -(-flat.size // HIST_SAMPLE))
    values = flat[::stride]
    values = values[np.isfinite(values)]
    lo, hi = hist_range
    counts, _ = np.histogram(np.clip(values, lo, hi), bins=HIST_BINS, range=(lo, hi))
    return counts * stride if stride > 1 else counts


class _Relay(QObject):
    done = pyqtSignal(object, object, object)  # key, result, error


class _Job(QRunnable):
    def __init__(self, key: Any, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.key, self.fn, self.relay = key, fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except Exception as exc:  # noqa: BLE001 - reported on the GUI thread
            result, error = None, exc
        try:
            self.relay.done.emit(self.key, result, error)
        except RuntimeError:  # the loader went away while we were reading
            pass


class FrameLoader(QObject):
    """Asynchronous, cached access to the frames of a RecordingModel."""

    frame_ready = pyqtSignal(object)  # Frame
    counts_ready = pyqtSignal(object)  # Frame, once its histogram counts are computed
    task_done = pyqtSignal(object, object)  # key, result
    failed = pyqtSignal(str)

    def __init__(self, recording: RecordingModel, cache_bytes: int = 96 << 20,
                 prefetch: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recording = recording
        self.cache = FrameCache(cache_bytes)
        self.prefetch_depth = prefetch
        self.direction = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)
        self._busy: set[str] = set()  # variables with a read running
        self._wanted: dict[str, int] = {}  # the latest requested position per variable
        self._ranges: dict[str, tuple[float, float]] = {}
        self._tasks: dict[Any, Callable[[], Any]] = {}  # waiting one-off tasks by key
        self._task_running: set[Any] = set()
        self._counting: set[str] = set()  # variables with a histogram being counted
        self._count_waiting: dict[str, Frame] = {}

    # ------------------------------------------------------------ configuration
    @property
    def generation(self) -> int:
        return self.recording.generation

    def reset(self) -> None:
        """Forget everything cached and wanted (reads of older files are already ignored)."""
        self.cache.clear()
        self._wanted.clear()
        self._ranges.clear()
        self._tasks.clear()
        self._count_waiting.clear()

    def set_hist_range(self, name: str, hist_range: tuple[float, float]) -> None:
        self._ranges[name] = hist_range

    @property
    def idle(self) -> bool:
        return not (self._busy or self._task_running or self._tasks or self._counting)

    # ------------------------------------------------------------ frames
    def request(self, name: str, index: int) -> Frame | None:
        """Ask for a frame; returns it at once when cached, else frame_ready emits it later."""
        self._wanted[name] = int(index)
        frame = self.cache.get((self.generation, name, int(index)))
        if frame is not None:
            self._schedule(name)
            self._count(frame)
            return frame
        self._schedule(name)
        return None

    def forget(self, name: str) -> None:
        self._wanted.pop(name, None)

    def _schedule(self, name: str) -> None:
        if name in self._busy or not self.recording.is_open:
            return
        index = self._next_index(name)
        if index is None:
            return
        self._busy.add(name)
        key = ("frame", self.generation, name, index)
        self.pool.start(_Job(key, lambda: self._read_frame(name, index), self._relay))

    def _next_index(self, name: str) -> int | None:
        wanted = self._wanted.get(name)
        if wanted is None:
            return None
        if (self.generation, name, wanted) not in self.cache:
            return wanted
        if not self.direction:
            return None
        for k in range(1, self.prefetch_depth + 1):
            i = wanted + k * self.direction
            if not 0 <= i < self.recording.num_steps:
                return None
            if (self.generation, name, i) not in self.cache:
                return i
        return None

    def _read_frame(self, name: str, index: int) -> Frame:
        """(worker thread) Read one step and lay it out as an image."""
        data = self.recording.read(name, index)
        image = ImageLayout(tuple(data.shape)).to_image(data)
        return Frame(name, index, image, None, None)

    def _on_done(self, key: Any, result: Any, error: BaseException | None) -> None:
        if key[0] == "counts":
            self._counted(key, result, error)
            return
        if key[0] != "frame":
            self._finish_task(key, result, error)
            return
        _, generation, name, index = key
        self._busy.discard(name)
        if generation != self.generation:
            pass  # a read of a file since replaced: dropped
        elif error is not None:
            self.failed.emit(_message(error))
            if self._wanted.get(name) == index:
                self._wanted.pop(name)
        else:
            self.cache.put((generation, name, index), result)
            if self._wanted.get(name) == index:
                self.frame_ready.emit(result)
                self._count(result)
        self._schedule(name)

    # ------------------------------------------------------------ histograms
    def _count(self, frame: Frame) -> None:
        """Count the histogram of a shown frame in the pool, apart from the reads: for big
        variables it takes longer than the read, and must not delay the next frame."""
        hist_range = self._ranges.get(frame.name)
        if hist_range is None or (frame.counts is not None and frame.hist_range == hist_range):
            return
        self._count_waiting[frame.name] = frame
        self._start_count(frame.name)

    def _start_count(self, name: str) -> None:
        if name in self._counting or name not in self._count_waiting:
            return
        frame = self._count_waiting.pop(name)
        if self._wanted.get(name) != frame.index:
            return  # scrubbed past it already
        hist_range = self._ranges[name]
        self._counting.add(name)
        key = ("counts", self.generation, name, frame)
        self.pool.start(_Job(key, lambda: histogram(frame.image, hist_range), self._relay))
        frame.hist_range = hist_range

    def _counted(self, key: Any, counts: Any, error: BaseException | None) -> None:
        _, generation, name, frame = key
        self._counting.discard(name)
        if error is None and generation == self.generation:
            frame.counts = counts
            self.counts_ready.emit(frame)
        self._start_count(name)

    # ------------------------------------------------------------ one-off tasks
    def submit(self, key: Any, fn: Callable[[], Any]) -> None:
        """Run `fn` off the GUI thread; task_done(key, result) follows. Replaces a waiting task
        with the same key; a key already running is run again once it finishes."""
        key = ("task", self.generation, key)
        self._tasks[key] = fn
        self._start_tasks()

    def _start_tasks(self) -> None:
        for key in list(self._tasks):
            if key not in self._task_running:
                fn = self._tasks.pop(key)
                self._task_running.add(key)
                self.pool.start(_Job(key, fn, self._relay))

    def _finish_task(self, key: Any, result: Any, error: BaseException | None) -> None:
        self._task_running.discard(key)
        if key[1] == self.generation:
            if error is not None:
                self.failed.emit(_message(error))
            elif key not in self._tasks:  # a newer request for the same key is not waiting
                self.task_done.emit(key[2], result)
        self._start_tasks()

    def shutdown(self) -> None:
        self.reset()
        self.pool.waitForDone(3000)


def _message(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
