"""float16 storage tells the truth about overflow: summaries of the stored values, a warning
once per recording, the root attribute and the `weightreel info` line."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from weightreel.formats import Float16OverflowWarning, RecordingWriter, open_recording
from weightreel.formats.info import describe

GOLDEN_V1_0 = Path(__file__).resolve().parent.parent / "samples" / "golden-v1.0.h5"


def test_overflow_is_counted_warned_once_and_noted(tmp_path):
    path = tmp_path / "f16.h5"
    with pytest.warns(Float16OverflowWarning, match="step 12 in w") as caught:
        with RecordingWriter(path, float16=True) as w:
            for step in range(10, 15):
                big = 1e10 if step >= 12 else 1001.0 * step  # 11011 is stored as 11008
                w.append({"w": np.array([big, -2.0, 0.5], np.float32),
                          "n": np.array([70000, 1], np.int32)}, step=step)
    assert len(caught) == 1
    with open_recording(path) as rec:
        stored = rec.read("w", 2)
        assert stored.dtype == np.float16 and stored[0] == np.inf
        assert rec.read("n", 2).tolist() == [70000, 1]  # integers are never converted
        assert rec.summary_column("w", "inf_count").tolist() == [0, 0, 1, 1, 1]
        assert rec.summary_column("w", "max").tolist()[1:] == [11008.0, 0.5, 0.5, 0.5]
        assert rec.float16_overflow_step == 12
        assert "OVERFLOW    float16 overflow from step 12" in describe(rec)
    with h5py.File(path, "r") as f:
        assert f.attrs["float16_overflow_step"] == 12 and f.attrs["format_version"] == "1.1"


def test_no_overflow_no_attribute_and_infs_of_the_data_are_not_overflow(tmp_path):
    path = tmp_path / "f16.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Float16OverflowWarning)
        with RecordingWriter(path, float16=True) as w:
            w.append({"w": np.array([np.inf, 1.0, 65504.0], np.float32)})
    with open_recording(path) as rec:
        assert rec.float16_overflow_step is None
        assert rec.summary_column("w", "inf_count").tolist() == [1]
        assert "OVERFLOW" not in describe(rec)


def test_appending_to_a_1_0_file_keeps_it_1_0(tmp_path):
    path = tmp_path / "old.h5"
    shutil.copyfile(GOLDEN_V1_0, path)
    with open_recording(path) as rec:
        names, last = rec.variable_names, rec.num_steps - 1
        arrays = {n: rec.read(n, last) for n in names}
    with RecordingWriter(path, "a") as w:
        w.append(arrays)
    with h5py.File(path, "r") as f:
        assert f.attrs["format_version"] == "1.0" and "float16_overflow_step" not in f.attrs
    with open_recording(path) as rec:
        assert rec.num_steps == last + 2
