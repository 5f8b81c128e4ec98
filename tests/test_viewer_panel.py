"""The variables panel: short names under each layer, full paths in tooltips and the filter,
and every column readable at the window's default size."""

import pytest
from PyQt5.QtCore import Qt
from viewer_window import main_window

from weightreel.viewer._qt.variables_panel import MAX_WIDTH, leaf_of

NAME = Qt.UserRole


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch, size=None) as win:  # fresh: default size
        yield win


def test_leaf_names_under_their_layer():
    assert leaf_of("digits_cnn/bn1/moving_variance", "bn1") == "moving_variance"
    assert leaf_of("dense/kernel", "dense") == "kernel"
    assert leaf_of("model/lstm/cell/kernel", "lstm") == "cell/kernel"
    assert leaf_of("model/other/bias", "dense") == "bias"
    assert leaf_of("weights", "(model)") == "weights"


def test_tree_shows_short_names_and_filters_full_paths(qtbot, window, samples_dir):
    assert window.open_file(str(samples_dir / "digits_cnn.h5"))
    panel = window.variables
    items = {it.data(0, NAME): it for it in panel.variable_items()}
    item = items["digits_cnn/bn1/moving_variance"]
    assert item.text(0) == "moving_variance" and item.parent().text(0).startswith("bn1")
    assert "digits_cnn/bn1/moving_variance" in item.toolTip(0)
    assert items["digits_cnn/conv2/kernel"].text(0) == "kernel"
    assert (item.text(1), item.text(2)) == ("8", "float32")

    def visible():
        return [it.data(0, NAME) for it in panel.variable_items() if not it.isHidden()]

    panel.filter.setText("digits_cnn/bn1/moving_var")  # a full path, not the name shown
    assert visible() == ["digits_cnn/bn1/moving_variance"]
    panel.filter.setText("conv2")  # a layer: all of its variables
    assert visible() == ["digits_cnn/conv2/kernel", "digits_cnn/conv2/bias"]
    panel.filter.setText("")
    assert len(visible()) == len(items)


@pytest.mark.parametrize("sample", ["digits_cnn.h5", "digits_mlp.h5", "custom_loop_numpy.h5"])
def test_every_column_fits_at_the_default_size(qtbot, window, samples_dir, sample):
    assert window.open_file(str(samples_dir / sample))
    tree = window.variables.tree
    header = tree.header()
    qtbot.waitUntil(lambda: header.length() <= tree.viewport().width()
                    and not tree.horizontalScrollBar().isVisible(), timeout=5000)
    capped = window.variables.minimumWidth() >= MAX_WIDTH  # then only the role may be cut
    for col in range(3 if capped else 4):  # no text cut: each as wide as its widest text
        assert tree.columnWidth(col) >= tree.sizeHintForColumn(col), col
        assert header.sectionViewportPosition(col) + tree.columnWidth(col) <= (
            tree.viewport().width())
    views = window.views
    assert views.width() > 0.6 * window.width()  # the views keep most of the window
