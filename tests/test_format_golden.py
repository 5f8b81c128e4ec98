"""Golden sample files of every format version stay readable, value for value."""

import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import golden  # noqa: E402

from weightreel.formats import open_recording, validate  # noqa: E402


def test_golden_v1_0_reads_value_for_value():
    assert validate(golden.GOLDEN_V1_0) == []
    with open_recording(golden.GOLDEN_V1_0) as rec:
        assert rec.format_version == "1.0"
        assert rec.num_steps == golden.STEPS and rec.num_epochs == 2
        assert rec.variable_names == list(golden.VARIABLES)
        assert rec.steps.tolist() == list(range(golden.STEPS))
        assert rec.epochs.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
        assert rec.wall_times[3] == 1.0e9 + 3
        for name, (shape, dtype, layer_class, role) in golden.VARIABLES.items():
            info = rec.variables[name]
            assert (info.shape, info.dtype, info.layer_class, info.role) == (
                shape, dtype, layer_class, role)
            assert info.trainable == (role != "moving_mean")
            for step in range(golden.STEPS):
                np.testing.assert_array_equal(rec.read(name, step), golden.value(name, step))
            means = rec.summary_column(name, "mean")
            np.testing.assert_allclose(
                means, [golden.value(name, s).mean() for s in range(golden.STEPS)], atol=1e-6)
        np.testing.assert_array_equal(rec.scalar("loss"),
                                      [golden.loss(s) for s in range(golden.STEPS)])
        np.testing.assert_array_equal(rec.epoch_scalar("val_loss"),
                                      [golden.loss(4) * 2, golden.loss(8) * 2])
        md = rec.metadata
        for key, expected in golden.METADATA.items():
            assert md[key] == expected
        assert md["finished"] is True


def test_golden_v1_0_layout_matches_the_spec():
    with h5py.File(golden.GOLDEN_V1_0, "r") as f:
        assert f.attrs["format"] == "weightreel" and f.attrs["format_version"] == "1.0"
        assert f["committed"][:].tolist() == [golden.STEPS, 2]
        assert f["variables/dense/kernel"].shape == (golden.STEPS, 3, 2)
        assert list(f["summaries/dense/kernel"].attrs["columns"])[:5] == [
            "min", "max", "mean", "std", "norm"]
        assert set(f["timeline"]) == {"step", "epoch", "batch", "wall_time"}
