"""A corpus of malformed files: each is answered with a one-line RecordingError naming the file."""

import os
import shutil

import h5py
import numpy as np
import pytest

from weightreel.formats import (
    CorruptRecordingError,
    NotARecordingError,
    RecordingError,
    RecordingWriter,
    UnsupportedVersionError,
    open_recording,
    validate,
)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.h5"
    with RecordingWriter(path, metadata={"notes": "x"}) as w:
        for step in range(40):
            w.append({"dense/kernel": np.full((32, 16), step, np.float32),
                      "dense/bias": np.zeros(16, np.float32)}, scalars={"loss": 1.0})
    return path


def copy(good, tmp_path, name):
    dst = tmp_path / name
    shutil.copy(good, dst)
    return dst


def assert_refused(path, kind, words):
    with pytest.raises(kind) as info:
        open_recording(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and words in message
    with pytest.raises(kind):
        validate(path)


def test_missing_file_and_directory(tmp_path):
    assert_refused(tmp_path / "none.h5", RecordingError, "no such file")
    assert_refused(tmp_path, RecordingError, "is a directory")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.h5"
    path.write_bytes(b"")
    assert_refused(path, NotARecordingError, "empty")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.h5"
    path.write_bytes(np.random.default_rng(0).bytes(10_000))
    assert_refused(path, NotARecordingError, "not an HDF5 file")


@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_truncated_files(good, tmp_path, fraction):
    path = copy(good, tmp_path, "cut.h5")
    size = os.path.getsize(path)
    os.truncate(path, max(1, int(size * fraction)))
    with pytest.raises(RecordingError) as info:
        open_recording(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_other_hdf5_layout(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(10)
    assert_refused(path, NotARecordingError, "not a weightreel recording")


def test_keras_model_file(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = tmp_path / "model.h5"
    model.save(path)
    assert_refused(path, NotARecordingError, "Keras model file")


@pytest.mark.parametrize(
    "victim", ["timeline/step", "committed", "variables", "summaries/dense/bias"])
def test_deleted_datasets(good, tmp_path, victim):
    path = copy(good, tmp_path, "del.h5")
    with h5py.File(path, "a") as f:
        del f[victim]
    assert_refused(path, CorruptRecordingError, "")


@pytest.mark.parametrize("victim", ["variables/dense/kernel", "timeline/wall_time"])
def test_shortened_datasets(good, tmp_path, victim):
    path = copy(good, tmp_path, "short.h5")
    with h5py.File(path, "a") as f:
        f[victim].resize(10, axis=0)
    assert_refused(path, CorruptRecordingError, "shorter datasets")


def test_unknown_major_version_is_refused_and_newer_minor_accepted(good, tmp_path):
    path = copy(good, tmp_path, "v2.h5")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = "2.0"
    assert_refused(path, UnsupportedVersionError, "format version 2.0")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = "1.7"
    with open_recording(path) as rec:
        assert rec.format_version == "1.7" and rec.num_steps == 40


def test_garbled_version(good, tmp_path):
    path = copy(good, tmp_path, "vx.h5")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = "one"
    assert_refused(path, CorruptRecordingError, "unreadable format version")


def test_validate_reports_problems_inside_a_readable_recording(good, tmp_path):
    path = copy(good, tmp_path, "bad.h5")
    with h5py.File(path, "a") as f:
        f["timeline/step"][5] = 2
        del f["variables/dense/kernel"].attrs["role"]
        del f["meta"].attrs["host"]
    problems = validate(path)
    assert len(problems) == 3
    assert all(p.startswith(str(path)) and "\n" not in p for p in problems)
    assert any("strictly increasing" in p for p in problems)
    assert any("lacks attributes role" in p for p in problems)


def test_writer_errors_are_one_line(tmp_path):
    for bad in (tmp_path / "missing" / "x.h5", tmp_path):
        with pytest.raises(RecordingError) as info:
            RecordingWriter(bad)
        assert "\n" not in str(info.value)
    noise = tmp_path / "noise.h5"
    noise.write_bytes(b"hello")
    with pytest.raises(NotARecordingError):
        RecordingWriter(noise, mode="a")
