"""The viewer at real scale: a 200-variable model, six views at 1280×720, thinned ticks."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from viewer_window import main_window

from weightreel.formats import RecordingWriter, VariableSpec
from weightreel.viewer._qt.screen_fit import PREFERRED
from weightreel.viewer._qt.view_sizes import panels
from weightreel.viewer.synthetic import write_synthetic

NAME = Qt.UserRole
WAIT_MS = 15000


def wide_model(layers: int = 50) -> dict:
    """Conv + BatchNorm blocks: 4 variables a layer, 2 of them BN statistics (non-trainable)."""
    shapes = {}
    for k in range(layers):
        if k % 2 == 0:
            shapes[f"conv{k}/kernel"] = ((3, 3, 4, 16), "Conv2D", "kernel")
            shapes[f"conv{k}/bias"] = ((16,), "Conv2D", "bias")
            shapes[f"conv{k}/extra_a"] = ((16,), "Conv2D", "bias")
            shapes[f"conv{k}/extra_b"] = ((16,), "Conv2D", "bias")
        else:
            for role in ("gamma", "beta", "moving_mean", "moving_variance"):
                shapes[f"bn{k}/{role}"] = ((16,), "BatchNormalization", role)
    return shapes


@pytest.fixture(scope="module")
def big_recording(tmp_path_factory) -> str:
    """200 variables, written with RecordingWriter (BN statistics declared non-trainable)."""
    path = tmp_path_factory.mktemp("big") / "big.h5"
    shapes = wide_model()
    writer = RecordingWriter(path, metadata={"framework": "synthetic"})
    for name, (shape, layer_class, role) in shapes.items():
        writer.declare(name, VariableSpec(shape, "float32", layer=name.split("/")[0],
                                          layer_class=layer_class, role=role,
                                          trainable=not role.startswith("moving")))
    rng = np.random.default_rng(0)
    for step in range(3):
        writer.append({n: rng.normal(0, 1, s).astype(np.float32)
                       for n, (s, _, _) in shapes.items()}, step=step, epoch=0, batch=step,
                      scalars={"loss": 1.0 / (step + 1)})
    writer.close()
    return str(path)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch, size=(1280, 720)) as win:
        yield win


def test_a_large_model_opens_collapsed_and_scrolls_to_the_variable(qtbot, window, big_recording):
    assert window.open_file(big_recording)
    panel, tree = window.variables, window.variables.tree
    assert len(panel.variable_items()) == 200
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert len(tops) == 50
    opened = [t for t in tops if t.isExpanded()]
    assert len(opened) == 1  # only the layer of the variable shown at first
    target = "bn47/moving_variance"
    window.model.selection.set_names([target])
    item = next(it for it in panel.variable_items() if it.data(0, NAME) == target)
    assert item.isSelected() and item.parent().isExpanded()
    assert tree.currentItem() is item
    rect = tree.visualItemRect(item)
    assert tree.viewport().rect().contains(rect.center())  # scrolled to
    assert item.text(3) == "variance · not trained"
    assert item.foreground(0).color() != panel.variable_items()[0].foreground(0).color()
    gamma = next(it for it in panel.variable_items() if it.data(0, NAME) == "bn47/gamma")
    assert gamma.text(3) == "scale"
    panel.expand_button.click()
    assert all(t.isExpanded() for t in tops)
    panel.collapse_button.click()
    assert not any(t.isExpanded() for t in tops)
    panel.filter.setText("bn3/moving_mean")
    shown = [t for t in tops if not t.isHidden()]
    assert [t.isExpanded() for t in shown] == [True]


def test_a_small_model_opens_expanded(qtbot, window, tmp_path):
    assert window.open_file(write_synthetic(tmp_path / "small.h5", steps=4))
    tree = window.variables.tree
    assert all(tree.topLevelItem(i).isExpanded() for i in range(tree.topLevelItemCount()))


@pytest.mark.parametrize("count", [1, 3, 6])
def test_views_at_1280x720_keep_every_panel_at_its_minimum(qtbot, window, big_recording,
                                                           count):
    assert window.open_file(big_recording)
    names = [f"conv{2 * k}/kernel" for k in range(count)]
    window.model.selection.set_names(names)
    views = window.views
    qtbot.waitUntil(lambda: all(v.shown_index == 0 for v in views.views.values()),
                    timeout=WAIT_MS)
    qtbot.wait(50)
    assert list(views.views) == names  # as many views as asked, none dropped silently
    assert not views.notice.isVisible()
    for name, view in views.views.items():
        assert view.isVisible()
        for panel, ((w, h), (min_w, min_h)) in panels(view).items():
            assert w >= min_w and h >= min_h, (name, panel, (w, h), (min_w, min_h))
            assert min_w > 0
    if count > 1:
        assert views.columns >= 1 and views.grid.count() == count


def test_more_views_than_allowed_are_refused_with_a_notice(qtbot, window, big_recording):
    assert window.open_file(big_recording)
    names = [f"conv{2 * k}/bias" for k in range(14)]
    window.model.selection.set_names(names)
    assert len(window.views.views) == 12
    assert window.views.notice.isVisible()
    assert "12 of the 14" in window.views.notice.text()


def test_filter_ticks_are_thinned_so_labels_never_touch(qtbot, window, tmp_path):
    shapes = {"conv/kernel": ((3, 3, 2, 128), "Conv2D", "kernel")}
    assert window.open_file(write_synthetic(tmp_path / "wide.h5", steps=2, shapes=shapes))
    view = window.views.views["conv/kernel"]
    qtbot.waitUntil(lambda: view.shown_index == 0, timeout=WAIT_MS)
    axis = view.heatmap.plot.getAxis("bottom")
    view.graphics.setMaximumWidth(300)  # a narrow view, as in a grid of many
    qtbot.waitUntil(lambda: axis.width() < 260, timeout=WAIT_MS)
    shown, every = axis.shown_ticks(), len(axis.all_ticks()[0])
    assert 1 < len(shown) < every  # thinned, not emptied
    pixels = (shown[1][0] - shown[0][0]) * axis.width() / (axis.range[1] - axis.range[0])
    widest = max(axis.label_extent([t]) for t in shown)
    assert pixels >= widest  # neighbouring labels stand apart
    view.graphics.setMaximumWidth(16777215)  # wide again: every label back
    qtbot.waitUntil(lambda: len(axis.shown_ticks()) == every, timeout=WAIT_MS)


def test_scrubbing_a_fast_file_reads_on_the_spot_but_playing_uses_the_worker(qtbot, window,
                                                                               tmp_path):
    assert window.open_file(write_synthetic(tmp_path / "fast.h5", steps=30))
    view = next(iter(window.views.views.values()))
    qtbot.waitUntil(lambda: view.shown_index == 0, timeout=WAIT_MS)  # read by the worker
    loader = window.loader
    loader.inline_read_ms = 1e9  # every read counts as fast: deterministic
    window.model.dims.set_index(17)
    assert view.shown_index == 17  # shown before the event loop ran: read on the spot
    loader.inline_read_ms = 0.0  # a slow file: the GUI thread never reads
    window.model.dims.set_index(23)
    assert view.shown_index == 17
    qtbot.waitUntil(lambda: view.shown_index == 23, timeout=WAIT_MS)
    loader.inline_read_ms = 1e9
    loader.direction = 1  # playing: the worker keeps the frame rate
    assert loader.request(view.name, 5) is None


def test_a_run_that_blew_up_still_fits_a_1280_pixel_window(qtbot, window, samples_dir):
    # The health summary of a diverging run is long: it is cut at the edge (its tooltip has it
    # whole) instead of making the window wider than the screen.
    assert window.open_file(str(samples_dir / "diverging_mlp.h5"))
    qtbot.wait(50)
    summary = window.timeline.curve_controls.summary
    assert "NaN/Inf" in summary.text() and summary.toolTip()
    assert window.minimumSizeHint().width() <= 1280
    assert window.width() == 1280


@pytest.mark.parametrize("names", [["digits_cnn/conv1/kernel"],
                                   ["digits_cnn/conv1/kernel", "digits_cnn/conv2/kernel"]])
def test_at_the_default_size_one_row_of_views_shows_whole_without_scrolling(
        qtbot, tmp_path, monkeypatch, samples_dir, names):
    # PREFERRED: the default size on a screen that holds it (the offscreen one is smaller)
    with main_window(qtbot, tmp_path, monkeypatch, size=PREFERRED) as win:
        assert win.open_file(str(samples_dir / "digits_cnn.h5"))
        win.model.selection.set_names(names)
        views = win.views
        qtbot.waitUntil(lambda: len(views.views) == len(names) and all(
            v.shown_index is not None for v in views.views.values()), timeout=WAIT_MS)
        qtbot.wait(50)
        assert views.scroll.verticalScrollBar().maximum() == 0  # nothing below the fold
        viewport = views.scroll.viewport().height()
        for name, view in views.views.items():
            assert view.height() <= viewport, name
            stats_bottom = view.stats.mapTo(view, view.stats.rect().bottomLeft()).y()
            assert stats_bottom <= view.height(), name  # the statistics line is on screen
            for panel, ((w, h), (min_w, min_h)) in panels(view).items():
                assert w >= min_w and h >= min_h, (name, panel, (w, h), (min_w, min_h))
