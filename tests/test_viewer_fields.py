"""Dense kernels shown as receptive fields (one input image per unit), on real widgets."""

import numpy as np
import pytest
from PyQt5.QtCore import QPointF, Qt
from viewer_window import main_window

from weightreel.viewer._qt.colorize import colorize
from weightreel.viewer.synthetic import write_synthetic

WAIT_MS = 10000
SHAPES = {"fc/kernel": ((64, 6), "Dense", "kernel"), "fc/bias": ((6,), "Dense", "bias")}
NAME = "fc/kernel"
MODEL = {"class_name": "Sequential", "config": {"layers": [  # a Dense on 64 input pixels
    {"class_name": "InputLayer", "config": {"name": "input", "batch_shape": [None, 64]}},
    {"class_name": "Dense", "config": {"name": "fc", "units": 6}}]}}


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        yield win


def click_pixel(qtbot, view, row, col):
    vb = view.heatmap.plot.vb
    scene = vb.mapViewToScene(QPointF(col + 0.2, row - 0.2))
    qtbot.mouseClick(view.graphics.viewport(), Qt.LeftButton,
                     pos=view.graphics.mapFromScene(scene))


def marker(view):
    x, y = view.heatmap.markers.getData()
    return float(x[0]), float(y[0])


def shown(view, index, shape):
    return (view.shown_index == index and view.heatmap.values is not None
            and view.heatmap.values.shape == shape)


def test_dense_kernel_shows_receptive_fields_and_clicks_map_to_weights(qtbot, window, tmp_path):
    path = write_synthetic(tmp_path / "fields.h5", steps=20, shapes=SHAPES,
                           metadata={"model_config": MODEL})
    assert window.open_file(path, step=12)
    view = window.views.views[NAME]
    layout = view.heatmap.layout
    assert window.model.image_layers == {"fc": (8, 8)}  # from the model config
    assert not window.fields_action.isChecked()  # not needed: the config says it
    assert layout.tile == (8, 8) and layout.grid == (2, 3)
    qtbot.waitUntil(lambda: shown(view, 12, (17, 26)), timeout=WAIT_MS)
    weights = window.model.recording.read(NAME, 12)
    np.testing.assert_array_equal(view.heatmap.values[9:17, 9:17], weights[:, 4].reshape(8, 8))
    assert view.heatmap.image.qimage == colorize(view.heatmap.values, view.heatmap.scale)
    assert "8×8 input image" in view.heatmap.plot.getAxis("bottom").labelText
    qtbot.wait(50)  # let the plots lay out before mapping pixels to the screen
    with qtbot.waitSignal(view.trajectories_shown, timeout=WAIT_MS):
        click_pixel(qtbot, view, 9 + 2, 9 + 3)  # unit 4 (row 1, column 1), input pixel (2, 3)
    assert window.model.selection.picked(NAME) == [(2 * 8 + 3, 4)]
    qtbot.waitUntil(lambda: (19, 4) in view.trajectories.curves, timeout=WAIT_MS)
    _, y = view.trajectories.curves[(19, 4)].getData()
    np.testing.assert_allclose(y, window.model.recording.read_element(NAME, (19, 4)))
    assert marker(view) == (12, 11)  # (x = column, y = row)


def test_the_view_menu_toggles_receptive_fields_off_and_on(qtbot, window, tmp_path):
    path = write_synthetic(tmp_path / "fields.h5", steps=20, shapes=SHAPES)
    assert window.open_file(path, step=5)
    view = window.views.views[NAME]
    qtbot.waitUntil(lambda: shown(view, 5, (64, 6)), timeout=WAIT_MS)  # no config: plain
    window.model.selection.toggle_pick(NAME, (19, 4))
    window.fields_action.trigger()  # on: every square Dense input as an image
    assert window.model.dense_as_images and view.heatmap.layout.fields
    qtbot.waitUntil(lambda: shown(view, 5, (17, 26)), timeout=WAIT_MS)
    window.model.set_dense_as_images(False)  # the state, not the menu: the menu follows
    assert not window.fields_action.isChecked()
    qtbot.waitUntil(lambda: shown(view, 5, (64, 6)), timeout=WAIT_MS)
    np.testing.assert_array_equal(view.heatmap.values, window.model.recording.read(NAME, 5))
    assert marker(view) == (4, 19)
    assert view.heatmap.plot.getAxis("bottom").labelText == "axis 1"
    window.model.set_dense_as_images(True)
    qtbot.waitUntil(lambda: shown(view, 5, (17, 26)), timeout=WAIT_MS)
    qtbot.waitUntil(view.is_ready, timeout=WAIT_MS)
