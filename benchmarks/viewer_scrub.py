"""Benchmark of the desktop viewer on a large recording: first frame, scrubbing, playing,
one weight's trajectory, and peak memory. Runs offscreen; the last line printed is JSON.

    python benchmarks/viewer_scrub.py            # 1,000 steps of 1024×1024 float32 (~4 GB)
    python benchmarks/viewer_scrub.py --quick    # 40 steps of 1024×1024
    python benchmarks/viewer_scrub.py --path FILE --var NAME   # FILE made first if missing
    python benchmarks/viewer_scrub.py --quick --scale fixed   # the colour scale (default robust)

Targets: first_frame_s < 1.5, scrub_ms_median < 16, scrub_ms_p95 < 33, play_fps >= 30,
trajectory_s < 1, peak_rss_mb < 500. Scrub time runs from the slider's change to the end of
Qt's own paint pass that drew the heatmap with that step (read and coloured on the GUI thread
when reads are fast, else off it; nothing forces a paint).

Baselines from the same run are printed alongside, since the machine may be shared and noisy:
a raw read of one step through weightreel.formats, and `baseline_setimage_ms`, a bare
pyqtgraph ImageItem.setImage of one step (fixed levels, the viewer's colour map) plus a repaint
of a plot of the heatmap's size, all on the GUI thread: what a naive viewer pays per step.
`scrub_vs_baseline` = scrub_ms_median / (baseline_read_step_ms + baseline_setimage_ms).

Both layouts are scrubbed: plain 2-D (`scrub_ms_*`, `scrub_vs_baseline`) and, with View ▸ Show
Dense inputs as images on, receptive fields (1024 inputs = 32×32 images, one per unit:
`scrub_fields_ms_*`, `scrub_vs_baseline_fields`), against the same baseline.
A freshly written file is in the page cache, so reads are memory-speed; a cold disk adds its own
read time to every step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

TARGETS = {"first_frame_s": ("<", 1.5), "scrub_ms_median": ("<", 16), "scrub_ms_p95": ("<", 33),
           "play_fps": (">=", 30), "trajectory_s": ("<", 1.0), "peak_rss_mb": ("<", 500)}


def generate(path: str, steps: int, side: int) -> None:
    """Write the test recording (run in a child process, so its memory is not counted)."""
    from weightreel.formats import RecordingWriter

    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.05, (side, side)).astype(np.float32)
    with RecordingWriter(path, commit_interval=5.0) as writer:
        for k in range(steps):
            w += rng.normal(0, 0.002, (1, side)).astype(np.float32)  # cheap, changing drift
            writer.append({"big/kernel": w}, scalars={"loss": 1.0 / (k + 1)})


class PeakRSS:
    def __init__(self) -> None:
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> float:
        self._stop.set()
        self.thread.join()
        return max(self.peak, self.proc.memory_info().rss) / 2**20


def warm(path: str) -> float:
    """Read the whole file once, so that every step is in the page cache as a recently
    written or viewed file is (the scrub figures are for a warm file). Returns seconds."""
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass
    return round(time.perf_counter() - start, 2)


def baseline(path: str, name: str, picks: np.ndarray) -> dict:
    from weightreel.formats import open_recording

    with open_recording(path) as rec:
        times = []
        for i in picks[:20]:
            t = time.perf_counter()
            rec.read(name, int(i))
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        rec.read_element(name, (7, 7))
        element = time.perf_counter() - t
    return {"baseline_read_step_ms": round(1000 * float(np.median(times)), 2),
            "baseline_read_element_s": round(element, 3)}


def setimage_baseline(app, path: str, name: str, picks: np.ndarray, size) -> float:
    """Median ms of a bare ImageItem.setImage of one step plus a repaint, on the GUI thread."""
    import pyqtgraph as pg

    from weightreel.formats import open_recording
    from weightreel.viewer._qt import style

    with open_recording(path) as rec:
        images = [np.asarray(rec.read(name, int(i)), np.float32) for i in picks[:5]]
    widget = pg.PlotWidget()
    widget.resize(size)
    item = pg.ImageItem(axisOrder="row-major", lut=style.lut())
    widget.addItem(item)
    widget.show()
    limit = float(np.abs(images[0]).max()) or 1.0
    times = []
    for k in range(20):
        t = time.perf_counter()
        item.setImage(images[k % len(images)], autoLevels=False, levels=(-limit, limit))
        widget.viewport().repaint()
        times.append(1000 * (time.perf_counter() - t))
        app.processEvents()
    widget.close()
    return round(float(np.median(times)), 2)


def pump_until(app, condition, timeout: float = 30.0) -> bool:
    """Run the Qt event loop (as the app does: idle waits release the GIL for the reader
    thread) until `condition()` holds, checking every millisecond."""
    from PyQt5.QtCore import QEventLoop, QTimer

    if condition():
        return True
    loop, deadline = QEventLoop(), time.perf_counter() + timeout
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.perf_counter() > deadline
                          else None)
    timer.start()
    loop.exec_()
    timer.stop()
    return condition()


def measure(path: str, name: str, seconds: float, scale: str | None = None) -> dict:
    rss = PeakRSS()
    t0 = time.perf_counter()
    from weightreel.viewer._qt.errors import ErrorReporter
    from weightreel.viewer._qt.main_window import MainWindow
    from weightreel.viewer.app import application

    app = application()
    window = MainWindow(reporter=ErrorReporter(dialogs=False), restore=False)
    if scale is not None:
        window.model.set_color_mode(scale)
    window.resize(1500, 900)
    window.show()
    window.open_file(path)
    window.model.selection.set_names([name])
    view = window.views.views[name]
    pump_until(app, lambda: view.shown_index == 0)
    view.graphics.viewport().repaint()
    out = {"first_frame_s": round(time.perf_counter() - t0, 3)}
    picks = np.random.default_rng(3).integers(0, window.model.dims.num_steps, 5)
    out["baseline_setimage_ms"] = setimage_baseline(app, path, name, picks,
                                                    view.graphics.size())
    out.update(scrub(app, window, view))
    window.model.set_dense_as_images(True)  # the same variable as receptive fields
    if not view.heatmap.layout.fields:
        raise RuntimeError(f"{name} cannot be shown as receptive fields")
    pump_until(app, lambda: view.shown_index == window.model.dims.index, 10)
    out.update({f"scrub_fields_{k[len('scrub_'):]}": v
                for k, v in scrub(app, window, view).items()})
    window.model.set_dense_as_images(False)
    pump_until(app, lambda: view.shown_index == window.model.dims.index, 10)
    out["play_fps"] = play(app, window, view, seconds)
    out["trajectory_s"] = trajectory(app, window, view, name)
    window.close()
    out["peak_rss_mb"] = round(rss.stop(), 1)
    return out


class PaintCounter:
    """Counts the paint events of a widget, the count when each frame was shown, and when the
    paint pass that drew the latest one was over (Qt paints a window's dirty widgets in one
    pass, then puts it on screen; the next pass of the event loop comes after that)."""

    def __init__(self, widget, view) -> None:
        from PyQt5.QtCore import QEvent, QObject, QTimer

        counter = self

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt override
                if event.type() == QEvent.Paint:
                    counter.paints += 1
                    QTimer.singleShot(0, counter._painted)
                return False

        self.paints, self.at_shown, self.done, self.done_at = 0, 0, 0, 0.0
        self.filter = Filter()
        widget.installEventFilter(self.filter)
        view.frame_shown.connect(self._shown)

    def _shown(self, _index: int) -> None:
        self.at_shown = self.paints

    def _painted(self) -> None:
        if self.done < self.paints:
            self.done, self.done_at = self.paints, time.perf_counter()


def scrub(app, window, view) -> dict:
    """Slider to a random step (on a warmed file) → frame read (on the GUI thread when reads
    are fast, else off it), image set, and Qt's own next paint of the heatmap over: the time is
    taken when that paint pass is done (nothing forces a paint: the app's own path)."""
    n = window.model.dims.num_steps
    rng = np.random.default_rng(1)
    counter = PaintCounter(view.graphics.viewport(), view)
    times = []
    for i in rng.integers(0, n, 60):
        t = time.perf_counter()
        window.timeline.slider.setValue(int(i))
        if not pump_until(app, lambda i=i: view.shown_index == i
                          and counter.done > counter.at_shown, 10):
            raise RuntimeError(f"frame {i} never arrived")
        times.append(1000 * (counter.done_at - t))
    return {"scrub_ms_median": round(float(np.median(times)), 2),
            "scrub_ms_p95": round(float(np.percentile(times, 95)), 2)}


def play(app, window, view, seconds: float) -> float:
    """Frames actually shown (image set, then painted) per second while playing at 60 steps/s."""
    from PyQt5.QtCore import QEvent, QObject

    class Paints(QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Paint:
                Paints.count += 1
            return False

    shown = []
    view.frame_shown.connect(lambda i: shown.append(i))
    counter = Paints()
    view.graphics.viewport().installEventFilter(counter)
    window.model.dims.set_index(0)
    window.model.playback.set_speed(60)
    window.model.playback.set_loop(True)
    window.model.playback.set_playing(True)
    start = time.perf_counter()
    pump_until(app, lambda: time.perf_counter() - start > seconds, seconds + 5)
    window.model.playback.set_playing(False)
    elapsed = time.perf_counter() - start
    return round(min(len(shown), counter.count) / elapsed, 1)


def trajectory(app, window, view, name: str) -> float:
    n = window.model.dims.num_steps
    t = time.perf_counter()
    window.model.selection.toggle_pick(name, (511, 257))
    pump_until(app, lambda: (511, 257) in view.trajectories.curves, 30)
    elapsed = time.perf_counter() - t
    assert len(view.trajectories.curves[(511, 257)].getData()[1]) == n
    return round(elapsed, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 steps of 1024×1024")
    parser.add_argument("--path", help="a recording to use instead of a temporary one (made "
                        "there, and kept, when it does not exist)")
    parser.add_argument("--var", default="big/kernel", help="variable to show (with --path)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--side", type=int)
    parser.add_argument("--play-seconds", type=float, default=3.0)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--scale", choices=("fixed", "step", "robust"),
                        help="the colour scale (default: the viewer's, robust)")
    parser.add_argument("--_generate", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._generate:
        generate(args._generate[0], int(args._generate[1]), int(args._generate[2]))
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    steps = args.steps or (40 if args.quick else 1000)
    side = args.side or 1024  # 1024 inputs: 32×32 receptive fields
    tmp = None
    path = args.path
    if path is None or not os.path.exists(path):  # a --path not there yet: made and kept
        if path is None:
            tmp = tempfile.mkdtemp(prefix="weightreel-bench-")
            path = os.path.join(tmp, "scrub.h5")
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--_generate", path, str(steps), str(side)],
                       check=True)
        print(f"generated {path}: {os.path.getsize(path) / 2**30:.2f} GiB in "
              f"{time.perf_counter() - t:.0f} s", file=sys.stderr)
    try:
        name = args.var
        picks = np.random.default_rng(2).integers(0, steps, 20)
        result = {"steps": steps, "shape": [side, side], "file_gb":
                  round(os.path.getsize(path) / 2**30, 2), "warm_s": warm(path),
                  **baseline(path, name, picks)}
        result.update(measure(path, name, args.play_seconds, args.scale))
        naive = result["baseline_read_step_ms"] + result["baseline_setimage_ms"]
        result["scrub_vs_baseline"] = round(result["scrub_ms_median"] / naive, 2)
        result["scrub_vs_baseline_fields"] = round(result["scrub_fields_ms_median"] / naive, 2)
        result["targets_met"] = all(
            (result[k] < v) if op == "<" else (result[k] >= v) for k, (op, v) in TARGETS.items())
        print(json.dumps(result))
    finally:
        if tmp and not args.keep:
            os.remove(path)
            os.rmdir(tmp)


if __name__ == "__main__":
    main()
