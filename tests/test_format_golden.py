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


def test_golden_v1_1_reads_value_for_value():
    assert validate(golden.GOLDEN_V1_1) == []
    with open_recording(golden.GOLDEN_V1_1) as rec:
        assert rec.format_version == "1.1"
        assert rec.num_steps == golden.STEPS and rec.num_epochs == 2
        assert rec.variable_names == list(golden.VARIABLES_V1_1)
        assert rec.float16_overflow_step is None
        for name, (shape, dtype, layer_class, role) in golden.VARIABLES_V1_1.items():
            info = rec.variables[name]
            assert (info.shape, info.dtype, info.layer_class, info.role, info.layout) == (
                shape, dtype, layer_class, role, golden.LAYOUTS[name])
            rows = [golden.value(name, s) for s in range(golden.STEPS)]
            for step in range(golden.STEPS):
                np.testing.assert_array_equal(rec.read(name, step), rows[step])
            update = rec.summary_column(name, "update_norm")
            assert np.isnan(update[0])
            changes = [np.linalg.norm(rows[s].astype(float) - rows[s - 1])
                       for s in range(1, golden.STEPS)]
            np.testing.assert_allclose(update[1:], changes, rtol=1e-6)
        np.testing.assert_array_equal(rec.epoch_scalar("val_loss"),
                                      [golden.loss(4) * 2, golden.loss(8) * 2])


def test_golden_v1_1_float16_tells_the_overflow():
    assert validate(golden.GOLDEN_V1_1_FLOAT16) == []
    with open_recording(golden.GOLDEN_V1_1_FLOAT16) as rec:
        assert rec.float16_overflow_step == golden.OVERFLOW_STEP
        infs = rec.summary_column("conv/kernel", "inf_count")
        assert not infs[:golden.OVERFLOW_STEP].any() and infs[golden.OVERFLOW_STEP:].all()
        for step in (0, golden.OVERFLOW_STEP):
            with np.errstate(over="ignore"):  # the overflow to inf is what is stored
                stored = golden.value_float16("conv/kernel", step).astype(np.float16)
            np.testing.assert_array_equal(rec.read("conv/kernel", step), stored)


def test_golden_v1_1_layout_matches_the_spec():
    with h5py.File(golden.GOLDEN_V1_1, "r") as f:
        assert f.attrs["format_version"] == "1.1" and "float16_overflow_step" not in f.attrs
        assert f["variables/linear/weight"].attrs["layout"] == "oi"
        assert f["variables/conv/kernel"].attrs["layout"] == "hwio"
        columns = list(f["summaries/dense/kernel"].attrs["columns"])
        assert len(columns) == 19 and columns[-1] == "update_norm"
        assert f["summaries/dense/kernel"].shape == (golden.STEPS, 19)
    with h5py.File(golden.GOLDEN_V1_1_FLOAT16, "r") as f:
        assert f.attrs["float16_overflow_step"] == golden.OVERFLOW_STEP
        assert f["variables/conv/kernel"].dtype == np.float16
