"""VariableView: one variable at the current step (heatmap, histogram, statistics) and over time.

The heatmap has a graphics view of its own and follows every step at once; the other plots and
the statistics follow at most every SLOW_MS (throttled), so scrubbing and playing repaint little
more than the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout, QWidget

from ..components import (
    MODE_SYMBOLS,
    ColorScale,
    FromData,
    ViewerModel,
    one_signed,
    value_scale,
)
from ..components.scale import typical_spread
from .heatmap import HeatmapPlot
from .loader import HIST_BINS, HIST_SAMPLE, Frame, FrameLoader, histogram
from .over_time import DistributionPlot, TrajectoryPlot, sparse_axes, thin
from .plain import plain_label
from .symlog_ticks import set_symlog_ticks
from .throttle import SLOW_MS, Throttle

SMALL_VARIABLE = 128  # variables this small show every weight's trajectory


class VariableView(QWidget):
    """Observes the model (step, picks, options, growth) and the loader; edits only picks."""

    frame_shown = pyqtSignal(int)  # position whose image is now on screen
    trajectories_shown = pyqtSignal()

    def __init__(self, model: ViewerModel, loader: FrameLoader, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.loader, self.name = model, loader, name
        self.info = model.recording.rec.variables[name]
        self.shown_index: int | None = None
        self.shown_frame: Frame | None = None
        self.hist_shown_index: int | None = None
        self.slow_index: int | None = None  # position the slow parts show
        self._hist_top = 1.0  # the histogram's y axis only grows, so it does not jump
        self._hist_symlog = False  # whether the histogram's axis has symlog ticks
        self.slow = Throttle(SLOW_MS, self._update_slow, self)
        self._build()
        self._subscriptions = [
            (model.dims.changed, self._on_index),
            (model.selection.picks_changed, self._on_picks),
            (model.options_changed, self._on_option),
            (model.recording.grown, self._on_grown),
        ]
        for event, callback in self._subscriptions:
            event.connect(callback)
        loader.frame_ready.connect(self._on_frame)
        loader.counts_ready.connect(self._on_counts)
        loader.task_done.connect(self._on_task)
        loader.set_scales(name, self._scale)
        loader.set_layout(name, self.heatmap.layout)
        loader.set_mode(name, model.mode)
        self._on_grown(model.recording.num_steps)
        self.heatmap.plot.vb.sigTransformChanged.connect(self._on_zoom)

    # ------------------------------------------------------------ building
    def _build(self) -> None:
        info = self.info
        shape = "×".join(str(s) for s in info.shape) or "scalar"
        # Every part but the shape comes from the file: shown as plain text, never HTML.
        self.title = plain_label(f"{self.name}   {shape} · {info.dtype} · "
                                 f"{info.role or 'variable'} · {info.layer_class or info.layer}")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        close = QToolButton()
        close.setText("×")
        close.setToolTip("Close this view")
        close.clicked.connect(lambda: self.model.selection.remove(self.name))
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(close)
        self.graphics = pg.GraphicsLayoutWidget()  # the heatmap alone: only it repaints per step
        self.heatmap = HeatmapPlot(self.graphics.addPlot(), self.name,
                                   self.model.layout_of(info))
        self.plots = pg.GraphicsLayoutWidget()
        g = self.plots
        self.hist_plot = g.addPlot(row=0, col=0, axisItems=sparse_axes())
        self.hist_plot.setMouseEnabled(x=False, y=False)
        self.hist_plot.disableAutoRange(axis="y")
        self.hist = self.hist_plot.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                        brush=(31, 119, 180, 150), pen=pg.mkPen((31, 119, 180)))
        self.distribution = DistributionPlot(g.addPlot(row=0, col=1, axisItems=sparse_axes()))
        self.trajectories = TrajectoryPlot(
            g.addPlot(row=1, col=0, colspan=2, axisItems=sparse_axes()), self.name)
        self.split = QSplitter(Qt.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.graphics)
        self.split.addWidget(self.plots)
        self.split.setSizes([420, 480])
        self.stats = QLabel()
        self.stats.setTextFormat(Qt.RichText)
        self.hover = plain_label(" ")  # names the variable: file text
        for label in (self.title, self.stats, self.hover):  # never widen the window
            label.setWordWrap(True)
            label.setMinimumWidth(1)
        self.hover.setObjectName("hover")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.stats)
        layout.addWidget(self.hover)
        self.heatmap.connect_click(lambda e: self.model.selection.toggle_pick(self.name, e))
        self.graphics.scene().sigMouseMoved.connect(self._on_heatmap_mouse)
        self.plots.scene().sigMouseMoved.connect(self._on_plots_mouse)

    def detach(self) -> None:
        """Stop observing the model (the view is being removed)."""
        self.slow.stop()
        self.heatmap.plot.vb.sigTransformChanged.disconnect(self._on_zoom)
        for event, callback in self._subscriptions:
            event.disconnect(callback)
        self.loader.frame_ready.disconnect(self._on_frame)
        self.loader.counts_ready.disconnect(self._on_counts)
        self.loader.task_done.disconnect(self._on_task)
        self.loader.forget(self.name)

    # ------------------------------------------------------------ the current step
    def _on_index(self, index: int) -> None:
        frame = self.loader.request(self.name, index)
        if frame is not None:
            self._show(frame)
        self.slow.poke()

    def _on_frame(self, frame: Frame) -> None:
        if frame.name != self.name or frame.layout != self.heatmap.layout:
            return  # another variable's, or read before the layout changed
        if frame.index == self.model.dims.index or self._on_the_way(frame.index):
            self._show(frame)

    def is_ready(self) -> bool:
        """The current step is on screen, and so are its statistics and histogram (pending
        histogram counts show in the loader's `idle`)."""
        index = self.model.dims.index
        return self.shown_index == index and self.slow_index == index and not self.slow.pending

    def _on_the_way(self, index: int) -> bool:
        """While playing, a frame between the one shown and the current position is shown
        too: when reads are slower than the play speed, late frames beat no frames."""
        playback, shown = self.model.playback, self.shown_index
        if not playback.playing or shown is None:
            return False
        d = playback.direction
        return (index - shown) * d > 0 and (self.model.dims.index - index) * d > 0

    def _show(self, frame: Frame) -> None:
        self.heatmap.show(frame.image, frame.qimage, frame.scale, frame.stride)
        self.shown_index, self.shown_frame = frame.index, frame
        self.slow.poke()
        self.frame_shown.emit(frame.index)

    def _on_zoom(self, *_) -> None:
        """Zoomed or resized: colour as many pixels as the screen now shows (re-reads)."""
        stride = self.heatmap.display_stride()
        if stride != self.loader.stride(self.name):
            self.loader.set_stride(self.name, stride)
            self._on_index(self.model.dims.index)

    def _update_slow(self) -> None:
        """The throttled part: statistics, over-time cursors, and the shown frame's histogram."""
        index = self.model.dims.index
        self.slow_index = index
        self._show_stats(index)
        step = self.model.dims.step_at(index)
        for plot in (self.distribution, self.trajectories):
            plot.set_cursor(step)
        self.distribution.set_scale(None if self.model.color_mode == "fixed" else
                                    self._value_scale(index))
        frame = self.shown_frame
        if frame is not None and frame.index != self.hist_shown_index:
            self.loader.count(frame)  # counts_ready follows, at once when already counted

    def _on_counts(self, frame: Frame) -> None:
        """Draw the histogram once the loader has counted it (big variables: just after)."""
        if frame.name != self.name or frame.index != self.shown_index or frame.counts is None:
            return
        counts, hist_range = frame.counts, self.loader.hist_range(frame)
        if frame.hist_range != hist_range:  # the run's range grew since it was counted
            counts = histogram(frame.image, hist_range, frame.scale)
        if hist_range != self.hist_range:  # bins of their own for this step
            self.hist_range = hist_range
            self.hist_edges = np.linspace(*hist_range, HIST_BINS + 1)
            if frame.scale.linthresh > 0 or self._hist_symlog:
                set_symlog_ticks(self.hist_plot.getAxis("bottom"), frame.scale.low,
                                 frame.scale.high, frame.scale.linthresh, most=5)
                self._hist_symlog = frame.scale.linthresh > 0
        self.hist.setData(self.hist_edges, counts)
        self._hist_top = max(self._hist_top, float(counts.max()) * 1.05)
        self.hist_plot.setYRange(0, self._hist_top, padding=0)
        self.hist_shown_index = frame.index

    def _scale(self, index: int) -> ColorScale | FromData:
        """The colours of position `index` as the scale choice wants them (of the same kind
        as the run's: diverging, or sequential for a one-signed variable). Changes (the
        difference modes) have no summaries: their scale is fitted as they are read."""
        if self.model.mode != "value":
            return FromData(self.model.scale_choice, True)
        return self._value_scale(index)

    def _value_scale(self, index: int) -> ColorScale:
        rows = self.model.recording.summary(self.name)
        index = min(index, len(rows) - 1)
        return value_scale(rows, index, self.model.scale_choice, self.run_scale.diverging,
                           self.run_limits)

    def _show_scale_notes(self) -> None:
        """Say what the colours, the histogram and the bands are drawn over."""
        choice, mode = self.model.scale_choice, self.model.mode
        what = "" if mode == "value" else MODE_SYMBOLS[mode] + " · "
        self.heatmap.set_legend(what + choice.describe())
        bins = "bins fixed over the run" if self._fixed_bins() else "bins per step"
        if mode != "value":  # short titles: a long one widens its column past the view
            bins = f"of {MODE_SYMBOLS[mode]}"
        sampled = " — sampled" if self.info.size > HIST_SAMPLE else ""
        self.distribution.plot.setTitle("distribution over time" if mode == "value" else
                                        "values over time", size="9pt")
        self.hist_plot.setTitle(f"histogram ({bins}{sampled})" if mode == "value" else
                                f"histogram {bins}{sampled}", size="9pt")

    def _symlog_threshold(self) -> float:
        if not self.model.symlog:
            return 0.0
        return 0.1 * typical_spread(self.model.recording.summary(self.name))

    def _fixed_bins(self) -> bool:
        return self.model.color_mode == "fixed" and self.model.mode == "value" and not (
            self.model.symlog)

    def _show_stats(self, index: int) -> None:
        if index >= self.model.recording.num_steps:
            return
        s = self.model.recording.summary_row(self.name, index)
        bad = s["nan_count"] + s["inf_count"]
        warn = "color:#c0392b;font-weight:bold" if bad else ""
        bad_text = f"NaN {int(s['nan_count'])} &nbsp; Inf {int(s['inf_count'])}"
        what = "" if self.model.mode == "value" else "values: "  # the heatmap shows changes
        self.stats.setText(
            f"{what}min {s['min']:.4g} &nbsp; max {s['max']:.4g} &nbsp; "
            f"mean {s['mean']:.4g} &nbsp; "
            f"std {s['std']:.4g} &nbsp; norm {s['norm']:.4g} &nbsp; "
            f"<span style='{warn}'>{bad_text}</span>")

    def _on_option(self, name: str) -> None:
        if name in ("color_mode", "mode"):  # frames made otherwise count as missing: re-read
            self.loader.set_mode(self.name, self.model.mode)
            self.loader.set_hist_range(self.name, self.run_hist_range if self._fixed_bins()
                                       else None)
            self.hist_shown_index = None
            self._show_scale_notes()
            self.distribution.set_symlog(self._symlog_threshold())
            self._on_index(self.model.dims.index)
        elif name in ("dense_as_images", "input_image_shape"):
            self._relayout()

    def _relayout(self) -> None:
        """Show the variable as the options now want (receptive fields or not): re-read."""
        layout = self.model.layout_of(self.info)
        if layout == self.heatmap.layout:
            return
        self.heatmap.set_layout(layout)
        self.heatmap.set_picks(self.model.selection.picked(self.name))
        self.loader.set_layout(self.name, layout)
        self.shown_index = self.shown_frame = self.hist_shown_index = None
        self.heatmap.values = None  # no hover over the old layout's pixels
        self._on_index(self.model.dims.index)

    # ------------------------------------------------------------ the whole run
    def _on_grown(self, num_steps: int) -> None:
        rec = self.model.recording
        lo, hi = self.run_limits = rec.value_range(self.name)
        sequential = one_signed(*rec.value_range(self.name, robust=False))
        self.run_scale = ColorScale.over(lo, hi, diverging=not sequential)
        self.run_hist_range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
        if self._fixed_bins() or not hasattr(self, "hist_range"):
            self.hist_range = self.run_hist_range
            self.hist_edges = np.linspace(*self.hist_range, HIST_BINS + 1)
        self.loader.set_hist_range(self.name, self.run_hist_range if self._fixed_bins()
                                   else None)
        self.hist_shown_index = None  # recount over the new range
        self._show_scale_notes()
        self.distribution.set_symlog(self._symlog_threshold())
        columns = {c: rec.summary_column(self.name, c)
                   for c in ("q0.001", "q0.05", "q0.25", "q0.5", "q0.75", "q0.95", "q0.999")}
        steps = self.model.dims.steps
        self.distribution.set_summary(columns, steps)
        self.trajectories.set_span(steps)
        self._load_trajectories()
        self._on_index(self.model.dims.index)

    # ------------------------------------------------------------ trajectories
    def _load_trajectories(self) -> None:
        rec = self.model.recording
        if 0 < self.info.size <= SMALL_VARIABLE:
            n, shape = min(rec.num_steps, self.model.dims.num_steps), self.info.shape
            x = thin(n)
            stride = int(x[1] - x[0]) if len(x) > 1 else 1
            steps = self.model.dims.steps[x]  # drawn against global steps
            self.loader.submit(("all", self.name),
                               lambda: (steps, rec.read_range(self.name, 0, n, stride)
                                        .reshape(len(x), -1), shape))
        for element in self.model.selection.picked(self.name):
            self.loader.submit(("trajectory", self.name, element),
                               lambda e=element: rec.read_element(self.name, e))

    def _on_picks(self, name: str) -> None:
        if name != self.name:
            return
        picks = self.model.selection.picked(self.name)
        self.heatmap.set_picks(picks)
        self.trajectories.keep_only(picks)
        for k, element in enumerate(picks):
            if element in self.trajectories.curves:
                self.trajectories.set_trajectory(element, *self.trajectories.data[element], k)
            else:
                self.loader.submit(("trajectory", self.name, element),
                                   lambda e=element: self.model.recording.read_element(
                                       self.name, e))
        if not picks:
            self.trajectories_shown.emit()

    def _on_task(self, key: tuple, result) -> None:
        if key[1] != self.name:
            return
        if key[0] == "all":
            x, rows, shape = result
            elements = [tuple(int(i) for i in np.unravel_index(k, shape))
                        for k in range(rows.shape[1])]
            self.trajectories.set_all(x, rows, elements)
        elif key[0] == "trajectory":
            picks = self.model.selection.picked(self.name)
            if key[2] in picks:
                x, values = self._against_steps(result)
                self.trajectories.set_trajectory(key[2], x, values, picks.index(key[2]))
        self.trajectories_shown.emit()

    def _against_steps(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A value per position (read off the GUI thread) and the global step of each."""
        steps = self.model.dims.steps
        n = min(len(values), len(steps))
        return steps[:n], np.asarray(values[:n])

    # ------------------------------------------------------------ hover
    def _on_heatmap_mouse(self, scene_pos) -> None:
        text, mode = self.heatmap.hover_text(scene_pos), self.model.mode
        if text and mode != "value":  # the heatmap shows a change, not the value
            text += f"  ({MODE_SYMBOLS[mode]})"
        self.hover.setText(text or " ")

    def _on_plots_mouse(self, scene_pos) -> None:
        plot, text = self.trajectories.plot, ""
        if plot.vb.sceneBoundingRect().contains(scene_pos):
            p = plot.vb.mapSceneToView(scene_pos)
            text = self.trajectories.hover_text(p.x(), p.y())
        self.hover.setText(text or " ")
