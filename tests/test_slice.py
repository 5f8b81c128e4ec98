"""slice_recording() and `weightreel slice`: the smaller copy is a valid, faithful recording."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import EPOCHS, NUM_ROWS, SHAPES, make_recording, run_cli, timeline, value

from weightreel.formats import RecordingError, open_recording, validate
from weightreel.formats import slice as slicing
from weightreel.formats.slice import (
    match_variables,
    resolve_variable,
    select_rows,
    slice_recording,
)


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_recording(tmp_path_factory.mktemp("rec") / "run.h5")


def test_full_copy_equals_the_original(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.h5"
    slice_recording(recording, out)
    assert validate(out) == []
    with open_recording(recording) as a, open_recording(out) as b:
        assert b.num_steps == a.num_steps and b.num_epochs == a.num_epochs
        assert b.variables == a.variables  # shapes, dtypes, layer, role, trainable
        for column in ("steps", "epochs", "batches", "wall_times"):
            np.testing.assert_array_equal(getattr(b, column), getattr(a, column))
        for name in a.variable_names:
            np.testing.assert_array_equal(b.read_range(name), a.read_range(name))
            np.testing.assert_allclose(b.summary(name), a.summary(name))
        for name in a.scalar_names:
            np.testing.assert_array_equal(b.scalar(name), a.scalar(name))
        for name in a.epoch_scalar_names:
            np.testing.assert_array_equal(b.epoch_scalar(name), a.epoch_scalar(name))
        for key in ("model_config", "notes", "hyperparameters", "versions", "framework", "host",
                    "started", "model_name", "optimizer_config"):
            assert b.metadata[key] == a.metadata[key], key
        assert b.finished


def test_steps_every_include_float16_compress(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.h5"
    source = slice_recording(recording, out, steps=(12, 22), every=3, include=["dense/*"],
                             float16=True, compress=True)
    assert validate(out) == []
    rows = [r for r in range(NUM_ROWS) if 12 <= timeline(r)[0] < 22][::3]
    with open_recording(out) as rec:
        assert rec.steps.tolist() == [timeline(r)[0] for r in rows] == [12, 15, 18, 21]
        assert rec.batches.tolist() == [timeline(r)[2] for r in rows]
        assert rec.variable_names == ["dense/kernel", "dense/bias"]
        info = rec.variables["dense/kernel"]
        assert (info.dtype, info.stored_dtype, info.role, info.layer) == (
            "float32", "float16", "kernel", "dense")
        assert rec._datasets["dense/kernel"].compression == "gzip"
        got = rec.read_range("dense/kernel")
        want = np.stack([value("dense/kernel", r) for r in rows])
        np.testing.assert_allclose(got.astype(np.float32), want, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(rec.scalar("loss"), [2.0 / (1 + r) for r in rows])
        assert rec.metadata["source"] == source
    assert source["sliced_from"] == "run.h5" and source["sliced_from_steps"] == NUM_ROWS
    assert source["slice"] == {"steps": [12, 22], "every": 3, "include": ["dense/*"],
                               "float16": True, "compress": True}
    assert source["kept_steps"] == 4 and source["sliced_from_created"]


def test_epoch_logs_follow_the_kept_steps(recording: Path, tmp_path: Path) -> None:
    slice_recording(recording, tmp_path / "e1.h5", steps=(17, None))  # epoch 1 only
    with open_recording(tmp_path / "e1.h5") as rec:
        assert set(rec.epochs.tolist()) == {1}
        assert rec.epoch_numbers.tolist() == [1]
        assert rec.epoch_scalar("val_loss").tolist() == [2.0]
    slice_recording(recording, tmp_path / "all.h5", steps=(None, 100))
    with open_recording(tmp_path / "all.h5") as rec:
        assert rec.epoch_numbers.tolist() == list(range(EPOCHS))


def test_streams_in_bounded_blocks(recording: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(slicing, "BLOCK_BYTES", 1000)  # a row is ~350 bytes: blocks of 2 rows
    seen: list[tuple[int, int]] = []
    slice_recording(recording, tmp_path / "b.h5", every=2,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]
    with open_recording(tmp_path / "b.h5") as rec:
        for name in SHAPES:
            want = np.stack([value(name, r) for r in range(0, NUM_ROWS, 2)])
            np.testing.assert_array_equal(rec.read_range(name), want)


def test_refuses_same_file_existing_output_and_empty_selection(recording: Path,
                                                               tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="is the input file"):
        slice_recording(recording, recording, overwrite=True)
    out = tmp_path / "o.h5"
    out.write_bytes(b"keep me")
    with pytest.raises(RecordingError, match="already exists"):
        slice_recording(recording, out)
    assert out.read_bytes() == b"keep me"
    with pytest.raises(ValueError, match="keeps no steps"):
        slice_recording(recording, tmp_path / "none.h5", steps=(100, 200))
    slice_recording(recording, out, steps=(10, 12), overwrite=True)
    with open_recording(out) as rec:
        assert rec.num_steps == 2
    assert [p.name for p in tmp_path.iterdir()] == ["o.h5"]  # no partial files left behind


def test_a_failed_slice_leaves_no_output(recording: Path, tmp_path: Path, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(slicing, "_copy_epochs", fail)
    with pytest.raises(RecordingError) as info:
        slice_recording(recording, tmp_path / "o.h5")
    assert str(info.value) == f"{tmp_path / 'o.h5'}: cannot be written: no space left on the device"
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_folder_that_accepts_no_files(recording: Path) -> None:
    with pytest.raises(RecordingError, match=r"^/proc/o\.h5: cannot be written: folder /proc "):
        slice_recording(recording, "/proc/o.h5")


def test_select_rows_and_match_variables() -> None:
    steps = np.array([0, 5, 10, 15, 20, 25])
    assert select_rows(steps).tolist() == [0, 1, 2, 3, 4, 5]
    assert select_rows(steps, (5, 20)).tolist() == [1, 2, 3]
    assert select_rows(steps, (None, 11), 2).tolist() == [0, 2]
    assert select_rows(steps, (6, None), 2).tolist() == [2, 4]
    assert select_rows(steps, (30, None)).tolist() == []
    with pytest.raises(ValueError):
        select_rows(steps, every=0)
    names = ["a/kernel", "a/bias", "b/kernel"]
    assert match_variables(names, None) == names
    assert match_variables(names, ["*/kernel"]) == ["a/kernel", "b/kernel"]
    assert match_variables(names, ["b/*", "a/bias"]) == ["a/bias", "b/kernel"]
    with pytest.raises(ValueError, match="'c' matches no variable"):
        match_variables(names, ["c"])


def test_patterns_match_names_without_the_model_name() -> None:
    names = ["m/dense/kernel", "m/dense/bias", "m/dense_1/kernel", "top"]
    assert match_variables(names, ["dense/*"]) == ["m/dense/kernel", "m/dense/bias"]
    assert match_variables(names, ["dense*"]) == names[:3]
    assert match_variables(names, ["m/dense_1/*", "top"]) == ["m/dense_1/kernel", "top"]
    assert match_variables(names, ["*/kernel"]) == ["m/dense/kernel", "m/dense_1/kernel"]
    with pytest.raises(ValueError, match="'ense/kernel' matches no variable"):
        match_variables(names, ["ense/kernel"])


def test_resolve_variable() -> None:
    names = ["m/dense/kernel", "m/dense/bias", "m/block/dense/kernel", "m/out/kernel", "top"]
    assert resolve_variable(names, "m/dense/kernel") == "m/dense/kernel"  # exact
    assert resolve_variable(names, "dense/kernel") == "m/dense/kernel"  # without the model name
    assert resolve_variable(names, "block/dense/kernel") == "m/block/dense/kernel"
    assert resolve_variable(names, "out/kernel") == "m/out/kernel"
    assert resolve_variable(names, "bias") == "m/dense/bias"  # a unique whole-component suffix
    assert resolve_variable(names, "top") == "top"
    with pytest.raises(ValueError, match=r"'kernel' is ambiguous: it could be m/dense/kernel, "
                                         r"m/block/dense/kernel, m/out/kernel"):
        resolve_variable(names, "kernel")
    with pytest.raises(ValueError, match=r"no variable 'ias' \(variables: m/dense/kernel"):
        resolve_variable(names, "ias")  # part of a component is no match
    with pytest.raises(ValueError, match=r"no variable 'dense/kernal' \(closest: m/dense/kernel"):
        resolve_variable(names, "dense/kernal")
    with pytest.raises(ValueError, match="has no variables"):
        resolve_variable([], "x")


def test_cli_slice_and_its_refusals(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.h5"
    result = run_cli("slice", recording, out, "--steps", "11:", "--every", "2",
                     "--include", "conv/*", "--float16")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}: 6 steps, 1 variable, ")
    assert run_cli("validate", out).returncode == 0
    with open_recording(out) as rec:
        assert rec.steps.tolist() == [11, 13, 15, 17, 19, 21]
        assert rec.variables["conv/kernel"].stored_dtype == "float16"
    again = run_cli("slice", recording, out)
    assert again.returncode == 2 and "already exists (use --force" in again.stderr
    forced = run_cli("slice", recording, out, "--force")
    assert forced.returncode == 0, forced.stderr
    with open_recording(out) as rec:
        assert rec.num_steps == NUM_ROWS
    assert sorted(os.listdir(tmp_path)) == ["cut.h5"]
