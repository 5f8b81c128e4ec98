"""Large uncompressed rows are read with os.preadv beside HDF5 (GIL-free): the same values as
h5py reads, and h5py still reads whatever that path does not cover."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from weightreel.formats import RecordingWriter, open_recording
from weightreel.formats._direct import read_row, row_plan


def _write(path, steps: int = 3, **options) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(5)
    shapes = {"big": (512, 640), "split": (1101, 1024), "small": (96, 320),
              "conv": (3, 3, 256, 128)}
    rows: dict[str, list[np.ndarray]] = {name: [] for name in shapes}
    with RecordingWriter(path, **options) as writer:
        for _ in range(steps):
            values = {name: rng.normal(0, 1, shape).astype(np.float32)
                      for name, shape in shapes.items()}
            writer.append(values)
            for name, value in values.items():
                rows[name].append(value)
    return rows


def test_big_rows_are_read_directly_and_equal_what_h5py_reads(tmp_path):
    path = tmp_path / "direct.h5"
    rows = _write(path)
    with h5py.File(path, "r") as f:
        by_h5py = {name: f[f"variables/{name}"][0] for name in rows}
    with open_recording(path) as rec:
        for name in ("big", "split", "conv"):  # split: over two chunks, the last partly used
            for i in (0, 2):
                ds = rec._dataset(name)
                direct = read_row(ds, row_plan(ds), rec._fd, i)
                assert direct is not None, name
                np.testing.assert_array_equal(direct, rows[name][i])
                np.testing.assert_array_equal(rec.read(name, i), rows[name][i])
            np.testing.assert_array_equal(rec.read(name, 0), by_h5py[name])
        assert row_plan(rec._dataset("small")) is None  # rows batched in chunks: h5py
        np.testing.assert_array_equal(rec.read("small", 1), rows["small"][1])


@pytest.mark.parametrize("options", [{"compression": "lzf"}, {"float16": True}])
def test_other_storage_reads_as_before(tmp_path, options):
    path = tmp_path / "other.h5"
    rows = _write(path, steps=2, **options)
    with open_recording(path) as rec:
        ds = rec._dataset("big")
        compressed = "compression" in options
        assert (row_plan(ds) is None) == compressed  # filtered chunks: h5py
        value = rec.read("big", 1)
        expected = rows["big"][1] if compressed else rows["big"][1].astype(np.float16)
        assert value.dtype == expected.dtype
        np.testing.assert_array_equal(value, expected)
