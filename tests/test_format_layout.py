"""Format 1.1's per-variable `layout` and `source_dtype` attributes, and 1.0 files kept 1.0."""

from __future__ import annotations

import shutil

import golden
import h5py
import ml_dtypes
import numpy as np
import pytest

from weightreel.formats import (
    FORMAT_VERSION,
    RecordingError,
    RecordingWriter,
    VariableSpec,
    open_recording,
)


def test_layout_and_bfloat16_are_recorded(tmp_path):
    path = tmp_path / "l.h5"
    value = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 7
    with RecordingWriter(path) as w:
        w.declare("conv/weight", VariableSpec(value.shape, "bfloat16", layout="oihw"))
        w.declare("conv/bias", VariableSpec((2,), "float32", layout="o"))
        w.declare("dense/kernel", VariableSpec((3, 2), "float32"))
        w.append({"conv/weight": value.astype(ml_dtypes.bfloat16), "conv/bias": np.ones(2),
                  "dense/kernel": np.ones((3, 2), np.float32)})
    rec = open_recording(path)
    assert rec.format_version == FORMAT_VERSION == "1.1"
    info = rec.variables
    assert (info["conv/weight"].layout, info["conv/bias"].layout, info["dense/kernel"].layout) \
        == ("oihw", "o", "")
    assert (info["conv/weight"].dtype, info["conv/weight"].source_dtype) == ("float32", "bfloat16")
    want = value.astype(ml_dtypes.bfloat16).astype(np.float32)
    assert rec.read("conv/weight", 0).tobytes() == want.tobytes()
    rec.close()
    with h5py.File(path, "r", locking=False) as f:
        assert "layout" not in f["variables/dense/kernel"].attrs


@pytest.mark.parametrize("layout", ["oih", "oiqq"])
def test_a_layout_that_does_not_fit_is_refused(tmp_path, layout):
    with RecordingWriter(tmp_path / "bad.h5") as w, pytest.raises(RecordingError, match="layout"):
        w.declare("w", VariableSpec((2, 3, 4, 5), layout=layout))


def test_appending_to_a_1_0_file_keeps_it_1_0(tmp_path):
    path = tmp_path / "old.h5"
    shutil.copy(golden.GOLDEN_V1_0, path)
    with open_recording(path) as rec:
        names, shapes = rec.variable_names, {n: i.shape for n, i in rec.variables.items()}
    with RecordingWriter(path, "a") as w:
        for name in names:
            w.declare(name, VariableSpec(shapes[name], layout="o" * len(shapes[name])))
        w.append({n: np.zeros(shapes[n], np.float32) for n in names})
    rec = open_recording(path)
    assert rec.format_version == "1.0" and all(not i.layout for i in rec.variables.values())
