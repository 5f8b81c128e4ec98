"""`weightreel export` (npz, csv, png, gif, mp4), `weightreel plot`, and the heatmap layout."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image
from test_cli_support import NUM_ROWS, SHAPES, make_recording, run_cli, timeline, value

from weightreel.viewer._cli_images import frame_rows, heatmap_layout


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_recording(tmp_path_factory.mktemp("rec") / "run.h5")


def test_npz_holds_every_variable_at_the_chosen_steps(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.npz"
    result = run_cli("export", recording, "--to", "npz", "-o", out, "--steps", "12:17")
    assert result.returncode == 0, result.stderr
    rows = [r for r in range(NUM_ROWS) if 12 <= timeline(r)[0] < 17]
    with np.load(out) as z:
        assert sorted(z.files) == sorted([*SHAPES, "steps", "epochs", "batches"])
        assert z["steps"].tolist() == [timeline(r)[0] for r in rows]
        assert z["epochs"].tolist() == [timeline(r)[1] for r in rows]
        assert z["batches"].tolist() == [timeline(r)[2] for r in rows]
        for name, shape in SHAPES.items():
            assert z[name].shape == (len(rows), *shape) and z[name].dtype == np.float32
            np.testing.assert_array_equal(z[name], np.stack([value(name, r) for r in rows]))


def test_npz_streams_in_blocks(recording: Path, tmp_path: Path, monkeypatch) -> None:
    from weightreel.formats import open_recording
    from weightreel.viewer import export

    monkeypatch.setattr(export, "BLOCK_BYTES", 100)  # forces one row per block
    seen = []
    with open_recording(recording) as rec:
        export.export_npz(rec, str(tmp_path / "b.npz"), ["conv/kernel"], np.arange(0, 13, 3),
                          progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, 5) for k in range(1, 6)]
    with np.load(tmp_path / "b.npz") as z:
        np.testing.assert_array_equal(z["conv/kernel"][4], value("conv/kernel", 12))


def test_csv_is_wide_one_row_per_step(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "one.csv"
    result = run_cli("export", recording, "-o", out, "--variable", "dense/kernel",
                     "--variable", "dense/bias", "--step", "15")
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as fh:
        table = list(csv.reader(fh))
    header, rows = table[0], table[1:]
    assert header[:4] == ["step", "epoch", "batch", "dense/kernel[0,0]"]
    assert header[-1] == "dense/bias[2]" and len(header) == 3 + 12 + 3
    assert len(rows) == 1 and rows[0][:3] == ["15", "0", "5"]
    numbers = np.array(rows[0][3:], dtype=np.float32)
    expected = np.concatenate([value("dense/kernel", 5).ravel(), value("dense/bias", 5)])
    np.testing.assert_array_equal(numbers, expected)  # float32 values survive exactly


def test_png_heatmap_opens(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.png"
    result = run_cli("export", recording, "--to", "png", "-o", out, "--variable", "conv/kernel",
                     "--step", "14")
    assert result.returncode == 0, result.stderr
    assert "step 14" in result.stdout
    with Image.open(out) as im:  # sized to the 7x15 tile grid: wider than tall
        assert im.format == "PNG" and im.size[0] > im.size[1] >= 280
        pixels = np.asarray(im.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # a picture, not a blank


def test_gif_has_one_frame_per_step_up_to_max_frames(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.gif"
    result = run_cli("export", recording, "-o", out, "--variable", "dense/kernel",
                     "--steps", "11:20")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as im:
        assert im.n_frames == 9 and im.size[0] % 2 == 0 and im.size[1] % 2 == 0
    out2 = tmp_path / "b.gif"
    result = run_cli("export", recording, "-o", out2, "--variable", "dense/bias",
                     "--max-frames", "4")
    assert result.returncode == 0, result.stderr
    assert "4 frames, steps 10..22" in result.stdout
    assert len(imageio.mimread(out2)) == 4


def test_mp4_has_the_right_frame_count(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.mp4"
    result = run_cli("export", recording, "--to", "mp4", "-o", out, "--variable", "conv/kernel",
                     "--max-frames", "6")
    assert result.returncode == 0, result.stderr
    reader = imageio.get_reader(out)
    try:
        assert reader.count_frames() == 6
        size = reader.get_meta_data()["size"]
    finally:
        reader.close()
    picture = tmp_path / "a.png"  # the same figure as the PNG export of that variable
    assert run_cli("export", recording, "-o", picture, "--variable", "conv/kernel").returncode == 0
    with Image.open(picture) as im:
        assert size == im.size and size[0] % 2 == 0 and size[1] % 2 == 0


def test_mp4_without_ffmpeg_is_a_one_line_error(recording: Path, tmp_path: Path) -> None:
    code = ("import sys, shutil\n"
            "sys.modules['imageio_ffmpeg'] = None\n"  # as if imageio-ffmpeg were not installed
            "shutil.which = lambda name: None\n"  # and no ffmpeg on PATH
            "from weightreel.viewer.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "x.mp4"
    result = subprocess.run([sys.executable, "-c", code, "export", str(recording), "-o", str(out),
                             "--variable", "dense/bias"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("weightreel: mp4 export needs ffmpeg: pip install "
                                     "imageio-ffmpeg (or install ffmpeg), or use --to gif")
    assert not out.exists()


def test_plot_draws_trajectories_and_loss(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    result = run_cli("plot", recording, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "3 variables over 13 steps" in result.stdout
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[1] > im.size[0]  # one panel per variable + loss
    out2 = tmp_path / "q.png"
    assert run_cli("plot", recording, "-o", out2, "--variable", "conv/kernel").returncode == 0
    with Image.open(out2) as im:
        assert im.size[1] < Image.open(out).size[1]


def test_heatmap_layout_rules() -> None:
    assert heatmap_layout(np.float32(3)).shape == (1, 1)
    np.testing.assert_array_equal(heatmap_layout(np.arange(5)), np.arange(5)[None, :])
    two = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(heatmap_layout(two), two)
    kernel = np.arange(3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4)
    grid = heatmap_layout(kernel)
    assert grid.shape == (2 * 4 - 1, 4 * 4 - 1)  # 2 input rows x 4 output columns of 3x3 tiles
    np.testing.assert_array_equal(grid[4:7, 8:11], kernel[:, :, 1, 2])
    assert np.isnan(grid[3]).all() and np.isnan(grid[:, 3]).all()
    assert heatmap_layout(np.zeros((1, 1, 5, 7))).shape == (9, 13)  # 1x1 tiles, still gapped
    three = np.arange(24.0).reshape(3, 2, 4)
    np.testing.assert_array_equal(heatmap_layout(three), three.reshape(6, 4))  # leading flattened
    assert heatmap_layout(np.zeros((2, 2, 2, 2, 5))).shape == (16, 5)


def test_frame_rows_spreads_evenly_and_keeps_the_ends() -> None:
    rows = np.arange(1000)
    picked = frame_rows(rows, 300)
    assert picked.size == 300 and picked[0] == 0 and picked[-1] == 999
    assert np.all(np.diff(picked) > 0)
    np.testing.assert_array_equal(frame_rows(rows[:10], 300), rows[:10])
