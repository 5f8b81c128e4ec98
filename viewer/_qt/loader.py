"""FrameLoader: reads frames and trajectories off the GUI thread, drops stale requests, caches.

Per variable at most one read runs at a time. A request made while one runs replaces any
request still waiting (stale ones are dropped, never read); a finished read that is no longer
wanted goes to the cache only. While idle, the loader prefetches the next frames in the
direction of play.

A read also maps the values to colours (colorize.py) with the colour scale the view gives for
that position and the stride its size on screen allows, so the GUI thread only draws; a cached
frame coloured or laid out otherwise (the colour mode or layout changed, the run's range grew,
the view was zoomed or resized) counts as missing. Histograms are counted in the
pool only when a view asks (it does so at most a few times a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal
from PyQt5.QtGui import QImage

from ..components import (
    ColorScale,
    FrameCache,
    FromData,
    ImageLayout,
    RecordingModel,
    StaleReadError,
    mode_values,
    resolve,
)
from ..components.laid_out import laid_out
from .colorize import colorize

HIST_BINS = 64
INLINE_READ_MS = 4.0  # reads faster than this (page cache) may be done on the GUI thread
HIST_SAMPLE = 1 << 18  # bigger variables are histogrammed from an evenly strided sample


@dataclass
class Frame:
    """One variable at one position, ready to draw."""

    name: str
    index: int
    image: np.ndarray  # float32, laid out by ImageLayout (a LaidOutImage: made if asked)
    qimage: QImage  # the colours (over `scale`) of every stride-th row and column of the image
    scale: ColorScale  # the colours used: `spec`, or fitted to the image as `spec` asked
    stride: tuple[int, int]  # (rows, columns)
    layout: ImageLayout | None = None  # as the view asked; None: the plain one of its rank
    spec: ColorScale | FromData | None = None  # the scale the view asked for
    mode: str = "value"  # what the image shows (see components/modes.py)
    counts: np.ndarray | None = None  # histogram counts over `hist_range`
    hist_range: tuple[float, float] | None = None

    @property
    def nbytes(self) -> int:  # fixed once made (the cache counts it when put)
        return self.image.nbytes + self.qimage.sizeInBytes()


def histogram(image: np.ndarray, hist_range: tuple[float, float],
              scale: ColorScale | None = None) -> np.ndarray:
    """Counts of finite values in HIST_BINS equal bins over `hist_range` (outliers clipped in);
    with a symmetric-log `scale`, the values and the range are its symmetric logs.

    Above HIST_SAMPLE values, an evenly strided sample is counted and scaled to the full size.
    """
    flat = image.ravel()
    stride = max(1, -(-flat.size // HIST_SAMPLE))
    values = flat[::stride]
    values = values[np.isfinite(values)]
    if scale is not None and scale.linthresh > 0:
        values = scale.forward(values)
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

    frame_ready = pyqtSignal(object)  # Frame: every frame read (views pick the ones they want)
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
        self._scales: dict[str, Callable[[int], ColorScale]] = {}
        self._strides: dict[str, tuple[int, int]] = {}
        self._layouts: dict[str, ImageLayout] = {}
        self._modes: dict[str, str] = {}
        self._tasks: dict[Any, Callable[[], Any]] = {}  # waiting one-off tasks by key
        self._task_running: set[Any] = set()
        self._counting: set[str] = set()  # variables with a histogram being counted
        self._count_waiting: dict[str, Frame] = {}
        self._held: set[str] = set()  # views not laid out yet: their size sets the stride
        self._read_ms: dict[str, float] = {}  # how long the latest read of a variable took
        self.inline_read_ms = INLINE_READ_MS

    # ------------------------------------------------------------ configuration
    @property
    def generation(self) -> int:
        return self.recording.generation

    def reset(self) -> None:
        """Forget everything cached and wanted (reads of older files are already ignored).
        The views' colour scales and histogram ranges stay: they go with `forget`."""
        self.cache.clear()
        self._wanted.clear()
        self._tasks.clear()
        self._count_waiting.clear()

    def set_hist_range(self, name: str, hist_range: tuple[float, float] | None) -> None:
        """The histogram bins of `name`: over `hist_range`, or (None) over each frame's own
        colour scale."""
        self._ranges[name] = hist_range

    def set_scales(self, name: str, scale_of: Callable[[int], ColorScale]) -> None:
        """How frames of `name` are coloured: over scale_of(position), asked on the GUI
        thread."""
        self._scales[name] = scale_of

    def set_stride(self, name: str, stride: tuple[int, int]) -> None:
        """Colour every stride[0]-th row and stride[1]-th column of `name` only (it is shown
        that small)."""
        self._strides[name] = (max(1, int(stride[0])), max(1, int(stride[1])))

    def stride(self, name: str) -> tuple[int, int]:
        return self._strides.get(name, (1, 1))

    def set_layout(self, name: str, layout: ImageLayout) -> None:
        """Lay frames of `name` out with `layout` (e.g. Dense kernels as receptive fields)."""
        self._layouts[name] = layout

    def set_mode(self, name: str, mode: str) -> None:
        """Read `name` as `mode` shows it: values, or their change (components/modes.py)."""
        self._modes[name] = mode

    def _colouring(self, name: str, index: int
                   ) -> tuple[ColorScale | FromData, tuple[int, int], ImageLayout | None, str]:
        scale_of = self._scales.get(name)
        scale = ColorScale.centred(1.0) if scale_of is None else scale_of(index)
        return scale, self.stride(name), self._layouts.get(name), self._modes.get(name, "value")

    def cached(self, name: str, index: int) -> Frame | None:
        """The cached frame of `name` at `index`, if coloured as the view now wants it."""
        return self._cached_as(name, index, self._colouring(name, index))

    def _cached_as(self, name: str, index: int, colouring: tuple) -> Frame | None:
        frame = self.cache.get((self.generation, name, int(index)))
        if frame is None or (frame.spec, frame.stride, frame.layout, frame.mode) != colouring:
            return None
        return frame

    @property
    def idle(self) -> bool:
        return not (self._busy or self._task_running or self._tasks or self._counting)

    # ------------------------------------------------------------ frames
    def request(self, name: str, index: int) -> Frame | None:
        """Ask for a frame; returns it at once when cached (or read at once, see
        `_read_inline`), else frame_ready emits it later."""
        self._wanted[name] = int(index)
        colouring = self._colouring(name, index)  # asked once: it costs ~50 µs
        frame = self._cached_as(name, index, colouring) or self._read_inline(name, int(index),
                                                                             colouring)
        if frame is None or self.direction:  # else nothing is left to read (no prefetch)
            self._schedule(name)
        return frame

    def _read_inline(self, name: str, index: int, colouring: tuple) -> Frame | None:
        """Scrubbing a file whose reads are fast (in the page cache): read and colour the
        step here, on the GUI thread, as a naive viewer would; two thread hand-offs cost
        more than that. Never while playing (the worker keeps the frame rate), while a read
        of `name` runs, while another thread holds the file, or when its reads are slow."""
        if (self.direction or name in self._busy or name in self._held
                or self._read_ms.get(name, float("inf")) >= self.inline_read_ms
                or not self.recording.is_open or not self.recording.lock.acquire(False)):
            return None
        try:
            frame = self._read_frame(name, index, *colouring)
        except Exception:  # noqa: BLE001 - the worker reads it again and reports
            return None
        finally:
            self.recording.lock.release()
        self.cache.put((self.generation, name, index), frame)
        return frame

    def hold(self, name: str) -> None:
        """Read no frame of `name` until `release`: its view is not laid out yet, and a frame
        read now would be coloured at full resolution, then read again at its size."""
        self._held.add(name)

    def release(self, name: str) -> None:
        if name in self._held:
            self._held.discard(name)
            self._schedule(name)

    def forget(self, name: str) -> None:
        """The view of `name` is gone: stop reading, colouring and counting for it."""
        self._held.discard(name)
        for table in (self._wanted, self._scales, self._strides, self._layouts, self._ranges,
                      self._count_waiting, self._modes):
            table.pop(name, None)

    def _schedule(self, name: str) -> None:
        if name in self._busy or name in self._held or not self.recording.is_open:
            return
        index = self._next_index(name)
        if index is None:
            return
        self._busy.add(name)
        key = ("frame", self.generation, name, index)
        colouring = self._colouring(name, index)
        self.pool.start(_Job(key, lambda: self._read_frame(name, index, *colouring), self._relay))

    def _next_index(self, name: str) -> int | None:
        wanted = self._wanted.get(name)
        if wanted is None:
            return None
        if self.cached(name, wanted) is None:
            return wanted
        if not self.direction:
            return None
        for k in range(1, self.prefetch_depth + 1):
            i = wanted + k * self.direction
            if not 0 <= i < self.recording.num_steps:
                return None
            if self.cached(name, i) is None:
                return i
        return None

    def _read_frame(self, name: str, index: int, spec: ColorScale | FromData,
                    stride: tuple[int, int], layout: ImageLayout | None, mode: str) -> Frame:
        """(any thread) Read one step (or its change), lay it out as an image, colour it."""
        start = time.perf_counter()
        data = mode_values(self.recording.read, name, index, mode)
        self._read_ms[name] = 1000 * (time.perf_counter() - start)  # the latest read's time
        shape = layout or ImageLayout(tuple(data.shape))
        shown = shape.shown(data, stride)  # only the pixels on screen, never a full copy
        scale = resolve(spec, data)
        return Frame(name, index, laid_out(data, shape), colorize(shown, scale), scale, stride,
                     layout, spec, mode)

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
        elif error is not None:  # a stale read waits for the next refresh, which re-requests
            self._report(error)
            if self._wanted.get(name) == index:
                self._wanted.pop(name)
        else:
            self.cache.put((generation, name, index), result)
            self.frame_ready.emit(result)  # late for the position wanted, it may still be shown
        self._schedule(name)

    # ------------------------------------------------------------ histograms
    def count(self, frame: Frame) -> None:
        """Count the histogram of a shown frame in the pool (counts_ready follows), apart from
        the reads: for big variables it takes longer than the read."""
        if frame.name not in self._ranges:
            return
        hist_range = self.hist_range(frame)
        if frame.counts is not None and frame.hist_range == hist_range:
            self.counts_ready.emit(frame)
            return
        self._count_waiting[frame.name] = frame
        self._start_count(frame.name)

    def _start_count(self, name: str) -> None:
        if name in self._counting or name not in self._count_waiting:
            return
        frame = self._count_waiting.pop(name)
        if self._wanted.get(name) != frame.index:
            return  # scrubbed past it already
        hist_range = self.hist_range(frame)
        self._counting.add(name)
        key = ("counts", self.generation, name, (frame, hist_range))
        self.pool.start(_Job(key, lambda: histogram(frame.image, hist_range, frame.scale),
                             self._relay))

    def hist_range(self, frame: Frame) -> tuple[float, float]:
        """The range the histogram of `frame` is counted over (symmetric log if its scale is)."""
        fixed = self._ranges.get(frame.name)
        lo, hi = fixed if fixed is not None else frame.scale.levels
        if frame.scale.linthresh > 0:
            lo, hi = (float(v) for v in frame.scale.forward(np.array([lo, hi])))
        return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)

    def _counted(self, key: Any, counts: Any, error: BaseException | None) -> None:
        _, generation, name, (frame, hist_range) = key
        self._counting.discard(name)
        if error is None and generation == self.generation:
            frame.counts, frame.hist_range = counts, hist_range
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
                self._report(error)
            elif key not in self._tasks:  # a newer request for the same key is not waiting
                self.task_done.emit(key[2], result)
        self._start_tasks()

    def _report(self, error: BaseException) -> None:
        if not isinstance(error, StaleReadError):  # the file changed: not worth a banner yet
            self.failed.emit(_message(error))

    def shutdown(self) -> None:
        self.reset()
        self.pool.waitForDone(3000)


def _message(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
