"""The heatmap's colouring (done in the reader threads), its screen-sized decimation, and the
throttle that keeps the slower plots from repainting on every step."""

import time

import numpy as np
import pyqtgraph as pg
import pytest
from viewer_window import main_window

from weightreel.formats import RecordingWriter, VariableSpec
from weightreel.viewer._qt import style
from weightreel.viewer._qt.colorize import NON_FINITE, colorize, pixel_colour
from weightreel.viewer._qt.heatmap import HeatmapPlot
from weightreel.viewer._qt.throttle import Throttle
from weightreel.viewer.app import application
from weightreel.viewer.components import ColorScale, ImageLayout
from weightreel.viewer.synthetic import write_synthetic

WAIT_MS = 5000


def colour_map_at(fraction, diverging=True):
    r, g, b = style.colormap(diverging).map(np.array([fraction]), mode="byte")[0][:3]
    return int(r), int(g), int(b), 255


def test_colorize_maps_the_limits_zero_and_nan(qtbot):
    application()
    limit = 0.25
    image = np.array([[-limit, 0.0, limit, np.nan, 10 * limit, -10 * limit]], np.float32)
    q = colorize(image, limit)
    assert (q.width(), q.height()) == (6, 1)
    low, mid, high, nan, above, below = (pixel_colour(q, 0, c) for c in range(6))
    assert low == below == colour_map_at(0.0)  # clipped to the ends of the scale
    assert high == above == colour_map_at(1.0)
    assert np.allclose(mid, colour_map_at(0.5), atol=2)
    assert low != high and nan == (*NON_FINITE["NaN"], 255)  # NaN: its own colour


def test_colorize_with_a_stride_keeps_every_kth_row_and_column(qtbot):
    application()
    image = np.random.default_rng(0).normal(0, 1, (7, 10)).astype(np.float32)
    full, thin = colorize(image, 2.0), colorize(image, 2.0, (2, 3))
    assert (thin.width(), thin.height()) == (4, 4)
    for r in range(4):
        for c in range(4):
            assert pixel_colour(thin, r, c) == pixel_colour(full, 2 * r, 3 * c)


def test_throttle_runs_at_once_then_at_most_once_per_interval(qtbot):
    calls = []
    throttle = Throttle(150, lambda: calls.append(time.perf_counter()))
    throttle.poke()
    assert calls == []  # never inside poke(): on the next pass of the event loop
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=WAIT_MS)
    for _ in range(20):
        throttle.poke()
    assert len(calls) == 1 and throttle.pending  # the burst is merged into one later run
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=WAIT_MS)
    assert calls[1] - calls[0] >= 0.9 * 0.150  # Qt's coarse timers may fire 5% early
    assert not throttle.pending  # nothing further is owed


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch, size=(1000, 700)) as win:
        yield win


def test_tall_variable_is_coloured_at_screen_size_and_in_full_when_zoomed(qtbot, window,
                                                                          tmp_path):
    shapes = {"tall/kernel": ((3000, 6), "Dense", "kernel")}
    path = write_synthetic(tmp_path / "tall.h5", steps=5, shapes=shapes)
    assert window.open_file(path, step=3)
    view = window.views.views["tall/kernel"]
    heat = view.heatmap
    qtbot.waitUntil(lambda: view.shown_index == 3 and view.shown_frame.stride[0] > 1,
                    timeout=WAIT_MS)
    rows_per_pixel, cols_per_pixel = view.shown_frame.stride
    assert cols_per_pixel == 1 and heat.values.shape == (3000, 6)  # hover keeps every value
    assert heat.image.qimage.height() == -(-3000 // rows_per_pixel)
    assert heat.image.boundingRect().height() >= 3000
    expected = colorize(heat.values, heat.scale, (rows_per_pixel, 1))
    assert heat.image.qimage == expected
    heat.plot.vb.setRange(yRange=(100, 140), padding=0)  # zoom in: every row on screen
    qtbot.waitUntil(lambda: view.shown_frame.stride == (1, 1), timeout=WAIT_MS)
    assert heat.image.qimage.height() == 3000
    assert heat.image.qimage == colorize(heat.values, heat.scale)


def test_histogram_stats_and_cursors_follow_the_step(qtbot, window, tmp_path):
    path = write_synthetic(tmp_path / "run.h5", steps=40)
    assert window.open_file(path)
    view = window.views.views["conv2d/kernel"]
    for target in (7, 31, 12):
        window.model.dims.set_index(target)
        qtbot.waitUntil(lambda t=target: view.slow_index == t and view.hist_shown_index == t,
                        timeout=WAIT_MS)
        row = window.model.recording.summary_row(view.name, target)
        assert f"min {row['min']:.4g}" in view.stats.text()
        assert view.distribution.cursor.value() == target
        assert view.trajectories.cursor.value() == target
        x, counts = view.hist.getData()
        finite = np.isfinite(view.heatmap.values).sum()
        assert counts.sum() == finite  # the shown step's weights, every one counted


def test_after_a_fast_scrub_every_panel_shows_the_last_step(qtbot, window, tmp_path):
    """The statistics, histogram, over-time cursors and the loss strip's cursor follow a scrub
    at most every 100 ms (the heatmap follows every step): once it stops, all show its end."""
    path = write_synthetic(tmp_path / "run.h5", steps=40)
    assert window.open_file(path)
    view, dims = window.views.views["conv2d/kernel"], window.model.dims
    qtbot.waitUntil(view.is_ready, timeout=WAIT_MS)
    for target in range(1, 40, 2):  # a drag: a change per pass of the event loop, no waits
        window.timeline.slider.setValue(target)
        application().processEvents()
    final, step = 39, dims.step_at(39)
    qtbot.waitUntil(lambda: view.is_ready() and view.hist_shown_index == final
                    and window.timeline.loss.cursor.value() == step, timeout=WAIT_MS)
    assert view.shown_index == final
    np.testing.assert_array_equal(view.heatmap.values, view.heatmap.layout.to_image(
        window.model.recording.read(view.name, final)))
    row = window.model.recording.summary_row(view.name, final)
    assert f"min {row['min']:.4g}" in view.stats.text()
    assert view.distribution.cursor.value() == step
    assert view.trajectories.cursor.value() == step


def test_the_colour_bar_draws_each_scale_once_and_alike(qtbot):
    application()
    widget = pg.GraphicsLayoutWidget()
    heat = HeatmapPlot(widget.addPlot(), "w", ImageLayout((4, 4)))
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    values = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)

    def show(limit):
        scale = ColorScale.centred(limit)
        heat.show(values, colorize(values, scale), scale)
        qtbot.waitUntil(lambda: heat.bar.axis.picture is not None, timeout=WAIT_MS)  # painted
        return heat.bar.axis.picture, widget.grab().toImage()

    first, first_image = show(0.5)
    other, other_image = show(0.25)
    again, again_image = show(0.5)
    assert again is first and other is not first  # drawn once, kept
    assert again_image == first_image and other_image != first_image
    heat.bar.axis.setStyle(tickTextOffset=9)  # anything else drawn differently: drawn afresh
    qtbot.waitUntil(lambda: heat.bar.axis.picture is not None, timeout=WAIT_MS)
    assert heat.bar.axis.picture is not first


def test_colorize_over_a_sequential_scale(qtbot):
    application()
    scale = ColorScale(0.5, 2.5, diverging=False)
    image = np.array([[0.5, 1.5, 2.5, 0.0, 9.0, np.nan]], np.float32)
    q = colorize(image, scale)
    low, mid, high, below, above, nan = (pixel_colour(q, 0, c) for c in range(6))
    assert low == below == colour_map_at(0.0, diverging=False)
    assert high == above == colour_map_at(1.0, diverging=False)
    assert np.allclose(mid, colour_map_at(0.5, diverging=False), atol=2)
    assert nan == (*NON_FINITE["NaN"], 255)


def write_one_signed(path, steps=12):
    """'bn/moving_variance' > 0 throughout, 'bn/moving_mean' of both signs."""
    rng = np.random.default_rng(3)
    writer = RecordingWriter(path)
    for name, role in (("bn/moving_variance", "moving_variance"), ("bn/moving_mean",
                                                                    "moving_mean")):
        writer.declare(name, VariableSpec((4, 8), "float32", layer="bn",
                                          layer_class="BatchNormalization", role=role))
    for k in range(steps):
        variance = rng.uniform(0.8, 1.2 + 0.1 * k, (4, 8)).astype(np.float32)
        mean = rng.normal(0, 0.3, (4, 8)).astype(np.float32)
        writer.append({"bn/moving_variance": variance, "bn/moving_mean": mean}, step=k,
                      scalars={"loss": 1.0 / (k + 1)})
    writer.close()
    return str(path)


def test_a_positive_variable_gets_a_sequential_colour_map(qtbot, window, tmp_path):
    window.model.set_color_mode("fixed")  # the run's scale first
    assert window.open_file(write_one_signed(tmp_path / "bn.h5"), step=11)
    window.model.selection.set_names(["bn/moving_variance", "bn/moving_mean"])
    variance = window.views.views["bn/moving_variance"]
    mean = window.views.views["bn/moving_mean"]
    for view in (variance, mean):
        qtbot.waitUntil(lambda v=view: v.shown_index == 11, timeout=WAIT_MS)
    lo, hi = window.model.recording.value_range("bn/moving_variance")
    heat = variance.heatmap
    assert not heat.scale.diverging and heat.levels == (lo, hi) and lo > 0.5
    assert heat.bar.levels() == (lo, hi)
    assert heat.bar.colorMap().name == style.colormap(diverging=False).name
    assert heat.image.qimage == colorize(heat.values, heat.scale)
    colours = {pixel_colour(heat.image.qimage, r, c) for r in range(4) for c in range(8)}
    assert len(colours) >= 16  # spread over the map, not one flat colour
    centred = mean.heatmap
    assert centred.scale.diverging and centred.levels[0] == -centred.levels[1]
    assert centred.bar.colorMap().name == style.colormap().name
    window.model.set_color_mode("step")  # fitted to the step, still sequential
    qtbot.waitUntil(lambda: heat.image.qimage == colorize(heat.values, heat.scale)
                    and heat.levels != (lo, hi), timeout=WAIT_MS)
    row = window.model.recording.summary_row("bn/moving_variance", 11)
    assert not heat.scale.diverging
    assert heat.levels == (row["q0.001"], row["q0.999"])
