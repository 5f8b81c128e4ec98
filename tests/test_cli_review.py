"""Fixes from a new-user review: Keras names with the model's name, --fps, unwritable outputs,
output extensions, view --step/--screenshot, info polish, plot legends, heatmap figures."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image
from test_cli_support import assert_one_line_error, run_cli

from weightreel.formats import RecordingWriter, VariableSpec, open_recording

SEQUENTIAL = {"mymodel/dense/kernel": (2, 1), "mymodel/dense/bias": (1,),
              "mymodel/dense_1/kernel": (4, 3), "mymodel/dense_1/bias": (3,)}
STEPS = [0, 1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def keras(tmp_path_factory) -> Path:
    """A recording named as a Keras Sequential model names its variables, stored as float16."""
    path = tmp_path_factory.mktemp("keras") / "seq.h5"
    meta = {"model_name": "mymodel", "framework": "keras",
            "hyperparameters": {"epochs": 2, "steps": 3, "batch_size": 8, "initial_epoch": 0}}
    with RecordingWriter(path, metadata=meta, float16=True) as w:
        for name, shape in SEQUENTIAL.items():
            layer = name.split("/")[1]
            w.declare(name, VariableSpec(shape, "float32", layer, "Dense", name.split("/")[2]))
        for row, step in enumerate(STEPS):
            values = {n: np.full(s, row * 0.1 - 0.2, np.float32) for n, s in SEQUENTIAL.items()}
            w.append(values, step=step, epoch=max(row - 1, 0) // 3, scalars={"loss": 1 / (1 + row)})
    return path


# --------------------------------------------------------------------------- 1: names
@pytest.mark.parametrize("wanted", ["dense/kernel", "mymodel/dense/kernel"])
def test_variable_without_the_model_name(keras: Path, tmp_path: Path, wanted: str) -> None:
    out = tmp_path / "k.npz"
    result = run_cli("export", keras, "-o", out, "--variable", wanted, "--variable", "dense/bias")
    assert result.returncode == 0, result.stderr
    with np.load(out) as z:
        assert sorted(z.files) == ["batches", "epochs", "mymodel/dense/bias",
                                   "mymodel/dense/kernel", "steps"]


@pytest.mark.parametrize("argv, parts", [
    (["--variable", "kernel"], ("ambiguous", "mymodel/dense/kernel", "mymodel/dense_1/kernel")),
    (["--variable", "dense/kernl"], ("no variable 'dense/kernl'", "closest: mymodel/dense/kernel")),
    (["--variable", "ernel"], ("no variable 'ernel'",)),  # suffixes match whole components only
])
def test_ambiguous_or_unknown_variable_is_one_line(keras: Path, tmp_path: Path, argv,
                                                   parts) -> None:
    result = run_cli("export", keras, "-o", tmp_path / "x.png", *argv)
    assert_one_line_error(result, 2, str(keras), *parts)
    assert not (tmp_path / "x.png").exists()


def test_plot_and_view_resolve_short_names(keras: Path, tmp_path: Path) -> None:
    result = run_cli("plot", keras, "-o", tmp_path / "p.png", "--variable", "dense_1/bias")
    assert result.returncode == 0, result.stderr
    result = run_cli("view", keras, "--variable", "kernel", "--screenshot", tmp_path / "v.png")
    assert_one_line_error(result, 2, "ambiguous")


@pytest.mark.parametrize("pattern, kept", [
    ("dense/*", ["mymodel/dense/kernel", "mymodel/dense/bias"]),
    ("dense*", list(SEQUENTIAL)),
    ("mymodel/dense_1/*", ["mymodel/dense_1/kernel", "mymodel/dense_1/bias"]),
])
def test_slice_include_matches_without_the_model_name(keras: Path, tmp_path: Path, pattern,
                                                       kept) -> None:
    out = tmp_path / "cut.h5"
    result = run_cli("slice", keras, out, "--include", pattern)
    assert result.returncode == 0, result.stderr
    with open_recording(out) as rec:
        assert rec.variable_names == kept


# --------------------------------------------------------------------------- 2: --fps
@pytest.mark.parametrize("fps", ["0", "-1", "nan", "inf", "x"])
def test_fps_must_be_a_positive_number(keras: Path, tmp_path: Path, fps: str) -> None:
    result = run_cli("export", keras, "-o", tmp_path / "a.gif", "--variable", "dense/kernel",
                     f"--fps={fps}")
    assert_one_line_error(result, 2, "--fps", repr(fps))
    assert not (tmp_path / "a.gif").exists()


def test_fractional_fps_works(keras: Path, tmp_path: Path) -> None:
    result = run_cli("export", keras, "-o", tmp_path / "a.gif", "--variable", "dense/kernel",
                     "--fps", "2.5")
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- 3: unwritable
@pytest.mark.parametrize("argv", [
    ["export", "{rec}", "-o", "/proc/weightreel-test.npz"],
    ["export", "{rec}", "-o", "/proc/weightreel-test.csv"],
    ["export", "{rec}", "-o", "/proc/weightreel-test.png", "--variable", "dense/kernel"],
    ["plot", "{rec}", "-o", "/proc/weightreel-test.png"],
    ["slice", "{rec}", "/proc/weightreel-test.h5"],
])
def test_unwritable_output_names_out_and_a_clean_reason(keras: Path, argv) -> None:
    argv = [a.format(rec=keras) for a in argv]
    out = next(a for a in argv if a.startswith("/proc/"))
    result = run_cli(*argv)
    assert_one_line_error(result, 2, f"{out}: cannot be written: folder /proc ")
    assert "partial" not in result.stderr and "errno" not in result.stderr
    assert "synchronously" not in result.stderr


def test_write_problem_is_short_and_names_no_temporary_file() -> None:
    from weightreel.formats import RecordingError
    from weightreel.formats.slice import write_problem

    assert write_problem(OSError(28, "No space left on device"), "/x") == (
        "no space left on the device")
    h5py_text = ("Unable to synchronously create file (unable to open file: name = '/a/.b.tmp', "
                 "errno = 13, error message = 'Permission denied', flags = 13)")
    assert write_problem(RecordingError("/a/b", h5py_text), "/a") == (
        "permission denied in folder /a")


# --------------------------------------------------------------------------- 4: extensions
@pytest.mark.parametrize("argv, out", [
    (["plot", "{rec}", "-o", "{tmp}/x.jpg"], "x.jpg"),
    (["plot", "{rec}", "-o", "{tmp}/x.txt"], "x.txt"),
    (["export", "{rec}", "--to", "png", "-o", "{tmp}/x.jpg", "--variable", "dense/kernel"],
     "x.jpg"),
    (["export", "{rec}", "--to", "gif", "-o", "{tmp}/x.png", "--variable", "dense/kernel"],
     "x.png"),
    (["export", "{rec}", "--to", "npz", "-o", "{tmp}/x.csv"], "x.csv"),
    (["view", "{rec}", "--screenshot", "{tmp}/v.jpg"], "v.jpg"),
])
def test_output_extension_must_match_the_data(keras: Path, tmp_path: Path, argv, out) -> None:
    result = run_cli(*[a.format(rec=keras, tmp=tmp_path) for a in argv])
    assert_one_line_error(result, 2, f"{tmp_path / out}:", "must end in .")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- 5: view --step
@pytest.mark.parametrize("step, nearest", [("99", "nearest: 6"), ("-3", "nearest: 0")])
def test_view_step_must_be_recorded(keras: Path, tmp_path: Path, step: str, nearest: str) -> None:
    result = run_cli("view", keras, "--step", step, "--screenshot", tmp_path / "v.png")
    assert_one_line_error(result, 2, str(keras), f"step {step} is not recorded", nearest)
    assert not (tmp_path / "v.png").exists()


def test_view_screenshot_defaults_to_the_last_step(keras: Path, tmp_path: Path) -> None:
    shots = {}
    for label, extra in (("default", []), ("last", ["--step", "6"]), ("first", ["--step", "0"])):
        out = tmp_path / f"{label}.png"
        result = run_cli("view", keras, "--screenshot", out, *extra)
        assert result.returncode == 0, result.stderr
        with Image.open(out) as im:
            shots[label] = np.asarray(im.convert("RGB"))
    assert np.array_equal(shots["default"], shots["last"])
    assert not np.array_equal(shots["default"], shots["first"])


# --------------------------------------------------------------------------- 6: info
def test_info_columns_hyperparams_and_bad_json(keras: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    path.write_bytes(keras.read_bytes())
    with h5py.File(path, "r+") as f:
        f["meta"].create_dataset("model_config", data="{'layers': [oops",
                                 dtype=h5py.string_dtype("utf-8"))
    result = run_cli("info", path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "steps per epoch=3" in out and "epochs=2" in out and " steps=" not in out
    assert "config      (not valid JSON) {'layers': [oops" in out
    rows = [line for line in out.splitlines() if "stored as float16" in line]
    assert len(rows) == len(SEQUENTIAL)
    assert all("float16  " in line for line in rows)  # a gap before the role column
    assert len({line.index("kernel, in") if "kernel, in" in line else line.index("bias, in")
                for line in rows}) == 1  # the role column is aligned


# --------------------------------------------------------------------------- 7: plot
def test_plot_legend_names_few_weights_and_counts_many(keras: Path) -> None:
    from weightreel.viewer.plot import trajectory_figure

    with open_recording(keras) as rec:
        fig = trajectory_figure(rec, ["mymodel/dense/kernel", "mymodel/dense_1/kernel"])
    few, many = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in few.get_legend().get_texts()] == ["w[0,0]", "w[1,0]"]
    assert many.get_legend() is None and "12 weights" in many.get_title(loc="left")


def test_plot_help_shows_single_percent_signs() -> None:
    result = run_cli("plot", "--help")
    assert result.returncode == 0
    assert "5-95%," in result.stdout and "%%" not in result.stdout


# --------------------------------------------------------------------------- 8: heatmaps
def test_narrow_variable_gets_a_small_figure_and_integer_ticks(keras: Path, tmp_path: Path) -> None:
    from weightreel.viewer._cli_images import _figure

    fig, _, _ = _figure(np.zeros((2, 1)), 1.0, "t", 2)
    ax = fig.axes[0]
    for ticks, limit in ((ax.get_xticks(), 1), (ax.get_yticks(), 2)):
        shown = [t for t in ticks if -0.5 <= t <= limit - 0.5]
        assert shown and all(float(t).is_integer() for t in shown), ticks
    out = tmp_path / "narrow.png"
    assert run_cli("export", keras, "-o", out, "--variable", "dense/kernel").returncode == 0
    with Image.open(out) as im:
        width, height = im.size
    assert width * height < 640 * 480 / 2 and width % 2 == 0 and height % 2 == 0


def test_long_titles_fit_the_figure() -> None:
    from weightreel.viewer._cli_images import _figure

    name = "a_very_long_model_name/" * 4 + "kernel"
    fig, _, retitle = _figure(np.zeros((3, 4)), 1.0, f"{name}\nstep 1 (epoch 11, batch 45)", 2)
    retitle(f"{name}\nstep 2 (epoch 11, batch 46)")
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    width, height = fig.canvas.get_width_height()
    assert 0 <= box.x0 and box.x1 <= width and box.y1 <= height
    assert "batch 46" in fig._suptitle.get_text()
