"""The viewer's Qt-free state models, alone: no Qt imported here."""

import sys

import numpy as np
import pytest

from weightreel.formats import RecordingError, RecordingWriter
from weightreel.viewer.components import (
    ColorScale,
    Event,
    FrameCache,
    ImageLayout,
    PlaybackModel,
    RecordingModel,
    SelectionModel,
    StepModel,
    ViewerModel,
    input_image,
    layout_for,
    one_signed,
    symmetric_limit,
)
from weightreel.viewer.components.layout import grid_columns
from weightreel.viewer.synthetic import write_synthetic


def timeline(n=50, per_epoch=10):
    dims = StepModel()
    k = np.arange(n)
    dims.set_timeline(k * 2, k // per_epoch, k % per_epoch)
    return dims


def test_components_do_not_import_qt():
    import subprocess

    code = ("import sys, weightreel.viewer.components, weightreel.viewer.app; "
            "print([m for m in sys.modules if m.startswith(('PyQt5', 'pyqtgraph'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_event_connect_emit_disconnect():
    event, seen = Event(), []
    event.connect(seen.append)
    event.emit(1)
    event.disconnect(seen.append)
    event.emit(2)
    assert seen == [1]


def test_step_model_clamps_and_navigates():
    dims, seen = timeline(), []
    dims.changed.connect(seen.append)
    dims.set_index(99)
    assert dims.index == 49
    dims.step_by(-10)
    dims.first()
    dims.step_by(-1)  # already at 0: no event
    assert seen == [49, 39, 0]
    dims.go_to_step(21)  # steps are even: 21 falls back to step 20, position 10
    assert dims.index == 10
    assert dims.describe() == "step 20 · epoch 1 · batch 0"


def test_step_model_epoch_jumps():
    dims = timeline()
    dims.set_index(13)
    dims.next_epoch()
    assert dims.index == 20
    dims.previous_epoch()  # at the start of epoch 2: go to the start of epoch 1
    assert dims.index == 10
    dims.set_index(15)
    dims.previous_epoch()
    assert dims.index == 10
    dims.set_index(45)
    dims.next_epoch()
    assert dims.index == 49


def test_step_model_shrinking_timeline_moves_index():
    dims = timeline()
    dims.set_index(40)
    dims.set_timeline(np.arange(5), np.zeros(5), np.arange(5))
    assert dims.index == 4


def test_playback_advances_at_speed_and_stops_at_end():
    dims, play = timeline(), PlaybackModel(speed=20)
    play.advance(dims, 1.0)
    assert dims.index == 0  # not playing
    play.set_playing(True)
    play.advance(dims, 0.03)  # 0.6 step: nothing yet, the fraction is kept
    assert dims.index == 0
    play.advance(dims, 0.03)
    assert dims.index == 1
    play.advance(dims, 1.0)
    assert dims.index == 21
    play.advance(dims, 10.0)
    assert dims.index == 49 and not play.playing


def test_playback_loops_and_follows():
    dims, play = timeline(), PlaybackModel(speed=10)
    play.set_loop(True)
    play.set_playing(True)
    dims.set_index(48)
    play.advance(dims, 0.3)  # 48 + 3 wraps to 1
    assert dims.index == 1 and play.playing
    play.set_follow(True)
    play.on_grown(dims)
    assert dims.index == 49
    play.set_speed(1e9)
    assert play.speed == PlaybackModel.MAX_SPEED


def test_selection_views_and_picks():
    sel, seen, picks = SelectionModel(), [], []
    sel.changed.connect(seen.append)
    sel.picks_changed.connect(picks.append)
    sel.set_names(["a", "b", "a"])
    sel.add("c")
    sel.remove("a")
    assert sel.names == ["b", "c"]
    assert seen == [["a", "b"], ["a", "b", "c"], ["b", "c"]]
    sel.toggle_pick("b", (1, 2))
    sel.toggle_pick("b", (0, 0))
    sel.toggle_pick("b", (1, 2))
    assert sel.picked("b") == [(0, 0)] and picks == ["b"] * 3


def test_frame_cache_evicts_least_recently_used():
    cache = FrameCache(max_bytes=3 * 800)
    for k in range(3):
        cache.put(k, np.zeros(100))  # 800 bytes each
    cache.get(0)
    cache.put(3, np.zeros(100))
    assert 1 not in cache and 0 in cache and 3 in cache
    assert cache.nbytes == 3 * 800
    cache.put("big", np.zeros(10_000))  # larger than the whole cache: not kept
    assert "big" not in cache and len(cache) == 3


@pytest.mark.parametrize("shape", [(), (7,), (4, 6), (2, 3, 5), (3, 2, 4, 5), (2, 2, 2, 2, 3)])
def test_layout_round_trips_every_element(shape):
    layout = ImageLayout(shape)
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    image = layout.to_image(a)
    assert image.shape == layout.image_shape
    for element in np.ndindex(*shape):
        row, col = layout.pixel_of(element)
        assert layout.element_at(row, col) == element
        assert image[row, col] == a[element]
    assert np.isfinite(image).sum() == a.size  # the rest are NaN gaps between filters


def test_layout_tiles_conv_kernels_in_a_grid():
    layout = ImageLayout((3, 3, 2, 4))
    assert layout.image_shape == (2 * 4 - 1, 4 * 4 - 1)
    assert layout.element_at(3, 0) is None  # the gap row between input channels
    assert layout.element_at(4, 5) == (0, 1, 1, 1)
    assert layout.element_at(-1, 0) is None and layout.element_at(0, 99) is None


def test_symmetric_limit():
    assert symmetric_limit(-0.5, 0.2) == 0.5
    assert symmetric_limit(0.0, 0.0) == 1.0
    assert symmetric_limit(np.nan, np.nan) == 1.0


def test_colour_scales_centred_or_sequential():
    assert one_signed(0.2, 1.5) and one_signed(0.0, 3.0) and one_signed(-4.0, -0.1)
    assert not one_signed(-0.1, 2.0)  # both signs: centred at zero
    assert not one_signed(0.0, 0.0) and not one_signed(np.nan, 1.0)  # nothing to spread
    assert ColorScale.over(-0.5, 0.2, diverging=True) == ColorScale(-0.5, 0.5, True)
    assert ColorScale.over(0.9, 1.4, diverging=False) == ColorScale(0.9, 1.4, False)
    assert ColorScale.over(2.0, 2.0, diverging=False).levels == (1.5, 2.5)  # one value
    assert ColorScale.centred(0.0) == ColorScale.centred(np.inf) == ColorScale(-1, 1, True)


def test_recording_model_reads_and_caches_summaries(tmp_path):
    path = write_synthetic(tmp_path / "r.h5", steps=30)
    model = RecordingModel()
    opened = []
    model.opened.connect(opened.append)
    model.open(path)
    assert opened == [path] and model.num_steps == 31
    assert model.read("dense/kernel", 5).shape == (32, 16)
    rows = model.summary("dense/kernel")
    assert rows.shape == (31, 19)  # format 1.1: the 18 of 1.0 and update_norm
    assert model.summary_row("dense/kernel", 5)["max"] == model.read("dense/kernel", 5).max()
    lo, hi = model.value_range("dense/kernel", robust=False)
    assert lo == rows[:, 0].min() and hi == rows[:, 1].max()
    assert model.loss_name() == "loss" and len(model.scalar("loss")) == 31
    traj = model.read_element("dense/bias", (3,))
    assert traj.shape == (31,) and traj[7] == model.read("dense/bias", 7)[3]


def test_recording_model_bad_files_raise(tmp_path):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    model = RecordingModel()
    with pytest.raises(RecordingError, match="empty"):
        model.open(empty)
    assert not model.is_open


def test_recording_model_follows_growth_and_reports_failure(tmp_path):
    path = tmp_path / "live.h5"
    writer = RecordingWriter(path, commit_interval=3600)
    for k in range(3):
        writer.append({"w": np.full((2, 3), k, np.float32)}, scalars={"loss": 1.0})
    writer.commit()
    viewer = ViewerModel()
    viewer.playback.set_follow(True)
    viewer.open(str(path))
    assert viewer.dims.num_steps == 3 and viewer.dims.index == 2
    assert viewer.selection.names == ["w"]
    assert not viewer.recording.refresh()
    for k in range(3, 6):
        writer.append({"w": np.full((2, 3), k, np.float32)}, scalars={"loss": 1.0})
    assert not viewer.recording.refresh()  # appended but not committed: not visible yet
    writer.commit()
    assert viewer.recording.refresh()
    assert viewer.dims.num_steps == 6 and viewer.dims.index == 5
    assert viewer.recording.summary("w").shape[0] == 6  # extended incrementally
    writer.close()
    failures = []
    viewer.recording.failed.connect(failures.append)
    path.write_bytes(b"garbage" * 100)  # the file turns bad under the viewer
    viewer.recording.refresh()
    assert len(failures) == 1 and viewer.recording.error
    assert viewer.dims.num_steps == 6  # the last good state stays


def test_step_model_maps_points_on_a_step_axis_to_positions():
    dims = timeline()  # steps 0, 2, 4, ... 98
    assert dims.step_at(3) == 6 and dims.step_at(99) == 0
    assert dims.index_nearest_step(21.0) == 10  # halfway: the earlier step
    assert dims.index_nearest_step(23.2) == 12
    assert dims.index_nearest_step(-5) == 0 and dims.index_nearest_step(1e9) == 49
    assert StepModel().index_nearest_step(7) == 0


@pytest.mark.parametrize("shape, tile", [((64, 32), (8, 8)), ((16, 7), (4, 4)),
                                         ((12, 5), (3, 4)), ((784, 1), (28, 28))])
def test_dense_kernels_as_receptive_fields_round_trip(shape, tile):
    layout = ImageLayout(shape, tile)
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    image = layout.to_image(a)
    assert layout.fields and image.shape == layout.image_shape
    for element in np.ndindex(*shape):
        row, col = layout.pixel_of(element)
        assert layout.element_at(row, col) == element
        assert image[row, col] == a[element]
    assert np.isfinite(image).sum() == a.size  # gaps and unused grid slots are blank


def test_receptive_fields_of_the_digits_mlp_are_8x8_tiles_in_a_grid():
    layout = layout_for((64, 32))
    assert layout.tile == (8, 8) and layout.grid == (4, 8)  # 32 units: 4 rows of 8 tiles
    assert layout.image_shape == (4 * 9 - 1, 8 * 9 - 1)
    a = np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32)
    image = layout.to_image(a)
    np.testing.assert_array_equal(image[9:17, 18:26], a[:, 10].reshape(8, 8))  # unit 10
    assert layout.element_at(9 + 2, 18 + 5) == (2 * 8 + 5, 10)  # its input pixel (2, 5)
    assert layout.element_at(8, 0) is None and layout.element_at(0, 8) is None  # gaps
    assert layout.element_at(0, 99) is None


def test_which_dense_inputs_form_an_image():
    assert input_image((64, 32)) == (8, 8) and input_image((784, 10)) == (28, 28)
    assert input_image((9, 4)) is None  # a square, but too small to be an image
    assert input_image((32, 16)) is None and input_image((3, 3, 1, 8)) is None
    assert input_image((32, 16), (4, 8)) == (4, 8)  # a configured image shape
    assert input_image((64, 16), (4, 8)) == (8, 8)  # it does not fit: square again
    assert [grid_columns(n) for n in (1, 6, 10, 32, 64, 7)] == [1, 3, 5, 8, 8, 3]
    with pytest.raises(ValueError):
        ImageLayout((64, 3), (4, 4))


def test_viewer_model_dense_as_images_option():
    model, seen = ViewerModel(), []
    model.options_changed.connect(seen.append)
    assert not model.dense_as_images and model.layout_of((64, 32)) == ImageLayout((64, 32))
    model.set_dense_as_images(True)
    assert model.layout_of((64, 32)).tile == (8, 8)
    assert model.layout_of((3, 3, 1, 8)) == ImageLayout((3, 3, 1, 8))
    model.set_dense_as_images(False)
    assert model.layout_of((64, 32)) == ImageLayout((64, 32))
    model.set_dense_as_images(True)
    model.set_input_image_shape((4, 8))
    model.set_input_image_shape((4, 8))  # no change: no event
    assert model.layout_of((32, 16)).tile == (4, 8)
    assert seen == ["dense_as_images"] * 3 + ["input_image_shape"]
