"""Format 1.1's update_norm summary column, and reading and appending to 1.0 files."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from weightreel.formats import (
    MissingColumnError,
    RecordingWriter,
    open_recording,
    validate,
)
from weightreel.formats.slice import slice_recording


def expected_update_norms(raw: np.ndarray) -> np.ndarray:
    """||W_r - W_(r-1)|| computed with numpy on the raw rows, NaN at row 0."""
    flat = raw.reshape(len(raw), -1).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(np.diff(flat, axis=0), axis=1)
    return np.concatenate([[np.nan], norms])


def test_update_norm_of_a_real_diverging_run_matches_numpy(diverging_run):
    with open_recording(diverging_run) as rec:
        assert rec.format_version == "1.1"
        assert rec.summary_columns[-1] == "update_norm" and len(rec.summary_columns) == 19
        assert validate(diverging_run) == []
        for name in rec.variable_names:
            got = rec.summary_column(name, "update_norm")
            want = expected_update_norms(rec.read_range(name))
            np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)
            assert np.isnan(got[0]) and np.isfinite(got[1:20]).all() and np.isnan(got[-1])


def test_the_writer_copies_unless_told_not_to_and_a_resume_continues(tmp_path):
    rng = np.random.default_rng(1)
    rows = [rng.normal(size=(300, 1000)).astype(np.float32) for _ in range(6)]  # > 1 block
    path = tmp_path / "r.h5"
    buffer = np.empty_like(rows[0])
    with RecordingWriter(path) as w:
        for r in rows[:3]:
            buffer[:] = r  # the caller reuses its buffer: the writer kept a copy
            w.append({"w": buffer})
    with RecordingWriter(path, "a") as w:
        for r in rows[3:]:
            w.append({"w": r.copy()}, copy=False)
    with open_recording(path) as rec:
        got = rec.summary_column("w", "update_norm")
    want = expected_update_norms(np.stack(rows))
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)  # float32 sums: large
    assert np.isfinite(got[3])  # the resumed run's first row compares with the file's last


def test_a_resumed_float16_file_starts_its_update_norms_afresh(tmp_path):
    path, rows = tmp_path / "f16.h5", np.linspace(0, 1, 40, dtype=np.float32).reshape(4, 10)
    for k, mode in ((0, "w"), (2, "a")):
        with RecordingWriter(path, mode, float16=True) as w:
            for r in rows[k:k + 2]:
                w.append({"w": r + np.float32(1e-4)})
    with open_recording(path) as rec:
        got = rec.summary_column("w", "update_norm")
    want = expected_update_norms(rows)  # of the values given, not of the stored float16
    assert np.isnan(got[0]) and np.isnan(got[2])  # row 2: the resume, its previous row rounded
    np.testing.assert_allclose(got[[1, 3]], want[[1, 3]], rtol=1e-6)


def test_slice_recomputes_update_norm_from_the_rows_it_keeps(diverging_run, tmp_path):
    out = tmp_path / "every3.h5"
    slice_recording(diverging_run, out, steps=(0, 40), every=3)
    with open_recording(out) as rec:
        name = rec.variable_names[0]
        np.testing.assert_allclose(rec.summary_column(name, "update_norm"),
                                   expected_update_norms(rec.read_range(name)), rtol=1e-9,
                                   equal_nan=True)


def test_the_golden_1_0_file_opens_and_says_it_has_no_update_norm(samples_dir, tmp_path):
    with open_recording(samples_dir / "golden-v1.0.h5") as rec:
        assert rec.format_version == "1.0" and len(rec.summary_columns) == 18
        name = rec.variable_names[0]
        assert rec.summary(name).shape[1] == 18
        assert rec.summary_column(name, "q0.5").shape == (rec.num_steps,)
        with pytest.raises(MissingColumnError, match="update_norm was added in format 1.1"):
            rec.summary_column(name, "update_norm")
    out = tmp_path / "from10.h5"  # a slice of a 1.0 file is a 1.1 file with the column
    slice_recording(samples_dir / "golden-v1.0.h5", out)
    with open_recording(out) as rec:
        assert rec.format_version == "1.1"
        name = rec.variable_names[0]
        np.testing.assert_allclose(rec.summary_column(name, "update_norm"),
                                   expected_update_norms(rec.read_range(name)), rtol=1e-9,
                                   equal_nan=True)


def test_appending_to_a_1_0_file_keeps_it_1_0(samples_dir, tmp_path):
    path = tmp_path / "old.h5"
    shutil.copy(samples_dir / "golden-v1.0.h5", path)
    with open_recording(path) as rec:
        shapes = {n: (v.shape, v.dtype) for n, v in rec.variables.items()}
        before = rec.num_steps
    with RecordingWriter(path, "a") as w:
        for k in range(3):
            w.append({n: np.full(s, k, d) for n, (s, d) in shapes.items()})
    with open_recording(path) as rec:
        assert rec.format_version == "1.0" and rec.num_steps == before + 3
        assert "update_norm" not in rec.summary_columns
        assert all(rec.summary(n).shape == (before + 3, 18) for n in rec.variable_names)
    with h5py.File(path, "r") as f:
        assert f.attrs["format_version"] == "1.0"
    assert validate(path) == []
