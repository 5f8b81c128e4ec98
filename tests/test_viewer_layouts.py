"""Each variable drawn in its recorded axis layout (format 1.1 `layout`), and receptive fields
only where the model config says a Dense layer is fed an image."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from viewer_window import main_window

from weightreel.formats import RecordingWriter, VariableSpec, open_recording
from weightreel.viewer._qt.image_shape import parse_image_shape
from weightreel.viewer.components.image_inputs import image_layers
from weightreel.viewer.components.layout import GAP, layout_for

WAIT_MS = 10000
TORCH = {  # PyTorch's own shapes and layouts: Conv2d (out, in, kH, kW), Linear (out, in)
    "conv.weight": ((4, 2, 3, 3), "oihw"),
    "conv.bias": ((4,), "o"),
    "fc.weight": ((10, 64), "oi"),
}


@pytest.fixture(scope="module")
def torch_recording(tmp_path_factory) -> tuple[str, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("torch") / "torch.h5"
    rng = np.random.default_rng(3)
    writer = RecordingWriter(path, metadata={"framework": "pytorch"})
    for name, (shape, layout) in TORCH.items():
        writer.declare(name, VariableSpec(shape, "float32", layer=name.split(".")[0],
                                          role=name.split(".")[1], layout=layout))
    steps = []
    for step in range(3):
        arrays = {n: rng.normal(0, 1, s).astype(np.float32) for n, (s, _) in TORCH.items()}
        writer.append(arrays, step=step, epoch=0, batch=step, scalars={"loss": 1.0})
        steps.append(arrays)
    writer.close()
    return str(path), steps[-1]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        yield win


def test_the_layout_is_recorded_and_read_back(torch_recording):
    path, _ = torch_recording
    with h5py.File(path, "r") as f:
        assert f.attrs["format_version"] == "1.1"
        assert f["variables/conv.weight"].attrs["layout"] == "oihw"
    with open_recording(path) as rec:
        assert rec.variables["fc.weight"].layout == "oi"


def test_a_layout_that_does_not_fit_the_shape_is_refused(tmp_path):
    writer = RecordingWriter(tmp_path / "bad.h5")
    with pytest.raises(Exception, match="layout 'oi'"):
        writer.declare("w", VariableSpec((3, 3, 1, 2), layout="oi"))
    writer.close()


def shown_at(view, index):
    return view.shown_index == index and view.heatmap.values is not None


def test_pytorch_conv_tiles_are_the_filters_numpy_computes(qtbot, window, torch_recording):
    path, last = torch_recording
    assert window.open_file(path, step=2)
    window.model.selection.set_names(["conv.weight"])
    view = window.views.views["conv.weight"]
    qtbot.waitUntil(lambda: shown_at(view, 2), timeout=WAIT_MS)
    image = np.asarray(view.heatmap.values)
    weight = last["conv.weight"]  # (out, in, kH, kW)
    assert image.shape == (2 * (3 + GAP) - GAP, 4 * (3 + GAP) - GAP)  # rows: in, cols: out
    for o in range(4):
        for i in range(2):
            tile = image[i * 4:i * 4 + 3, o * 4:o * 4 + 3]
            np.testing.assert_array_equal(tile, weight[o, i])  # the kH×kW filter of (in, out)
    assert "input channel (3×3 filters)" in view.heatmap.plot.getAxis("left").labelText
    assert view.heatmap.layout.element_at(4 + 1, 2 * 4 + 2) == (2, 1, 1, 2)  # (o, i, y, x)
    assert view.heatmap.values[5, 10] == weight[2, 1, 1, 2]  # what hover shows


def test_pytorch_linear_is_out_by_in(qtbot, window, torch_recording):
    path, last = torch_recording
    assert window.open_file(path, step=2)
    window.model.set_dense_as_images(True)  # no model config: the View menu's choice
    window.model.selection.set_names(["fc.weight"])
    view = window.views.views["fc.weight"]
    layout = view.heatmap.layout
    assert layout.shape == (64, 10) and layout.tile == (8, 8)  # in 64 = 8×8, out 10 units
    qtbot.waitUntil(lambda: shown_at(view, 2), timeout=WAIT_MS)
    weight = last["fc.weight"]
    image = np.asarray(view.heatmap.values)
    columns = layout.grid[1]
    for unit in range(10):
        r, c = divmod(unit, columns)
        tile = image[r * 9:r * 9 + 8, c * 9:c * 9 + 8]
        np.testing.assert_array_equal(tile, weight[unit].reshape(8, 8))
    window.model.set_dense_as_images(False)
    qtbot.waitUntil(lambda: shown_at(view, 2) and view.heatmap.values.shape == (64, 10),
                    timeout=WAIT_MS)
    np.testing.assert_array_equal(np.asarray(view.heatmap.values), weight.T)  # (in, out)


@pytest.mark.parametrize("stride", [(1, 1), (2, 3), (5, 1)])
def test_shown_pixels_equal_the_strided_full_image(stride):
    rng = np.random.default_rng(0)
    for shape, axes, tile in [((4, 2, 3, 3), "oihw", None), ((64, 10), "oi", (8, 8)),
                              ((3, 3, 2, 5), "", None), ((6, 7), "", None)]:
        layout = layout_for(shape, tile is not None, None, axes)
        data = rng.normal(size=shape).astype(np.float32)
        full = layout.to_image(data)
        np.testing.assert_array_equal(layout.shown(data, stride),
                                      full[:: stride[0], :: stride[1]])




def seq(*layers, input_shape):
    return {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, *input_shape]}},
        *({"class_name": kind, "config": {"name": name}} for kind, name in layers)]}}


def test_which_dense_layers_see_an_image():
    assert image_layers(seq(("Dense", "d1"), ("Dense", "d2"), input_shape=[64])) == {
        "d1": (8, 8)}  # a classifier head on 64 hidden units is no image
    assert image_layers(seq(("Flatten", "f"), ("Dense", "d"), input_shape=[28, 28, 1])) == {
        "d": (28, 28)}
    assert image_layers(seq(("Dropout", "x"), ("Dense", "d"), input_shape=[784])) == {
        "d": (28, 28)}
    assert image_layers(seq(("Conv2D", "c"), ("Flatten", "f"), ("Dense", "d"),
                            input_shape=[8, 8, 1])) == {}
    assert image_layers(seq(("Dense", "d"), input_shape=[30])) == {}  # not square
    assert image_layers(seq(("Flatten", "f"), ("Dense", "d"), input_shape=[8, 8, 3])) == {}
    assert image_layers(None) == {} and image_layers({"config": "odd"}) == {}
    functional = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x",
                                                            "batch_shape": [None, 12, 12]}},
        {"class_name": "Flatten", "config": {"name": "f"}, "inbound_nodes": [
            {"args": [{"config": {"keras_history": ["x", 0, 0]}}]}]},
        {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [
            {"args": [{"config": {"keras_history": ["f", 0, 0]}}]}]},
        {"class_name": "Dense", "config": {"name": "head"}, "inbound_nodes": [
            {"args": [{"config": {"keras_history": ["d", 0, 0]}}]}]}]}}
    assert image_layers(functional) == {"d": (12, 12)}


def test_image_shapes_typed_in_the_view_menu():
    assert parse_image_shape("28x28") == (28, 28) and parse_image_shape(" 4 × 8 ") == (4, 8)
    assert parse_image_shape("") is None
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        parse_image_shape("28")
