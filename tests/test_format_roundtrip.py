"""Round trips through RecordingWriter and open_recording, on real files."""

import math

import h5py
import numpy as np
import pytest

from weightreel.formats import (
    SUMMARY_COLUMNS,
    RecordingError,
    RecordingWriter,
    VariableSpec,
    open_recording,
    validate,
)

SHAPES = [(), (5,), (3, 4), (3, 3, 2, 8), (2, 3, 4, 5, 6)]
DTYPES = ["float32", "float64", "float16", "int32", "int64", "uint8", "bool"]


def values(shape, dtype, step):
    rng = np.random.default_rng(step)
    a = rng.standard_normal(shape) * 10
    return (a > 0) if dtype == "bool" else a.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_shape_round_trips_exactly(tmp_path, dtype):
    path = tmp_path / "rt.h5"
    names = {f"layer{i}/v": shape for i, shape in enumerate(SHAPES)}
    with RecordingWriter(path) as w:
        for step in range(5):
            w.append({n: values(s, dtype, step) for n, s in names.items()})
    with open_recording(path) as rec:
        assert rec.variable_names == list(names)
        assert rec.num_steps == 5
        for n, s in names.items():
            assert rec.variables[n].shape == s
            assert rec.variables[n].dtype == str(np.dtype(dtype))
            for step in range(5):
                got = rec.read(n, step)
                assert got.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(got, values(s, dtype, step))
    assert validate(path) == []


def test_float16_storage_keeps_original_dtype_noted(tmp_path):
    path = tmp_path / "f16.h5"
    a = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    with RecordingWriter(path, float16=True) as w:
        w.append({"k": a, "count": np.arange(3, dtype=np.int32)})
    with open_recording(path) as rec:
        assert rec.variables["k"].stored_dtype == "float16"
        assert rec.variables["k"].dtype == "float32"
        assert rec.variables["count"].stored_dtype == "int32"
        np.testing.assert_array_equal(rec.read("k", 0), a.astype(np.float16))


@pytest.mark.parametrize("compression", ["gzip", "lzf"])
def test_compression_round_trips(tmp_path, compression):
    path = tmp_path / "c.h5"
    with RecordingWriter(path, compression=compression) as w:
        for step in range(20):
            w.append({"conv/kernel": values((3, 3, 4, 8), "float32", step)})
    with open_recording(path) as rec:
        for step in range(20):
            np.testing.assert_array_equal(rec.read("conv/kernel", step),
                                          values((3, 3, 4, 8), "float32", step))
        assert rec._datasets["conv/kernel"].compression == compression
    assert validate(path) == []


def test_defaults_use_no_filters_so_stock_hdf5_tools_read_them(tmp_path):
    path = tmp_path / "plain.h5"
    with RecordingWriter(path) as w:
        w.append({"a/kernel": np.ones((4, 4), np.float32)}, scalars={"loss": 1.0})
    with h5py.File(path, "r") as f:
        seen = []
        f.visititems(lambda n, o: seen.append(o) if isinstance(o, h5py.Dataset) else None)
        assert seen and all(ds.compression is None and not ds._filters for ds in seen)


def test_timeline_scalars_epochs_and_metadata(tmp_path):
    path = tmp_path / "tl.h5"
    meta = {"framework": "keras", "model_config": {"layers": [1, 2]}, "notes": "n" * 100_000,
            "hyperparameters": {"lr": 0.1}, "seed": 7}
    with RecordingWriter(path, metadata=meta) as w:
        w.append({"w": np.zeros(2)}, scalars={"loss": 2.0})
        w.append({"w": np.ones(2)}, epoch=0, batch=0, scalars={"loss": 1.5, "accuracy": 0.5})
        w.append({"w": np.ones(2)}, scalars={"loss": 1.0})
        w.append_epoch(0, {"val_loss": 0.9})
        w.append({"w": np.ones(2)}, epoch=1, scalars={"loss": 0.5})
        w.append_epoch(1, {"val_loss": 0.7, "val_accuracy": 0.8})
    with open_recording(path) as rec:
        assert rec.steps.tolist() == [0, 1, 2, 3]
        assert rec.epochs.tolist() == [0, 0, 0, 1]
        assert rec.batches.tolist() == [-1 + 1, 0, 1, 0]
        assert np.all(np.diff(rec.wall_times) >= 0)
        np.testing.assert_array_equal(rec.scalar("loss"), [2.0, 1.5, 1.0, 0.5])
        acc = rec.scalar("accuracy")
        assert math.isnan(acc[0]) and acc[1] == 0.5 and math.isnan(acc[3])
        assert rec.epoch_numbers.tolist() == [0, 1]
        np.testing.assert_array_equal(rec.epoch_scalar("val_loss"), [0.9, 0.7])
        assert math.isnan(rec.epoch_scalar("val_accuracy")[0])
        md = rec.metadata
        assert md["framework"] == "keras" and md["finished"] is True
        assert md["model_config"] == {"layers": [1, 2]}
        assert len(md["notes"]) == 100_000
        assert md["extra"] == {"seed": 7}
        assert md["started"] <= md["ended"]


def test_summaries_are_exact_and_count_nan_and_inf(tmp_path):
    path = tmp_path / "s.h5"
    a = np.array([[1.0, -3.0, np.nan], [np.inf, 2.0, 4.0]], np.float32)
    with RecordingWriter(path) as w:
        w.append({"k": a})
    with open_recording(path) as rec:
        row = dict(zip(SUMMARY_COLUMNS, rec.summary("k")[0], strict=True))
        np.testing.assert_array_equal(rec.read("k", 0), a)  # NaN and Inf kept as they are
    finite = np.array([1.0, -3.0, 2.0, 4.0])
    assert row["min"] == -3 and row["max"] == 4
    assert row["nan_count"] == 1 and row["inf_count"] == 1
    assert row["mean"] == pytest.approx(finite.mean())
    assert row["std"] == pytest.approx(finite.std())
    assert row["norm"] == pytest.approx(np.linalg.norm(finite))
    assert row["q0.5"] == pytest.approx(np.median(finite))


def test_append_resumes_step_count_and_checks_shapes(tmp_path):
    path = tmp_path / "r.h5"
    with RecordingWriter(path) as w:
        for step in range(3):
            w.append({"k": np.full((2, 2), step, np.float32)}, epoch=0)
    with RecordingWriter(path, mode="a") as w:
        assert w.num_steps == 3
        w.append({"k": np.full((2, 2), 3, np.float32)})
        with pytest.raises(RecordingError, match=r"r\.h5.*shape \(3, 2\), recorded \(2, 2\)"):
            w.append({"k": np.zeros((3, 2), np.float32)})
        with pytest.raises(RecordingError, match="missing k"):
            w.append({"other": np.zeros(2)})
    with open_recording(path) as rec:
        assert rec.steps.tolist() == [0, 1, 2, 3]
        assert rec.read("k", 3)[0, 0] == 3
    with pytest.raises(RecordingError, match="shape"):
        RecordingWriter(path, mode="a").declare("k", VariableSpec((5,)))


def test_ranges_elements_and_step_lookup(tmp_path):
    path = tmp_path / "e.h5"
    with RecordingWriter(path) as w:
        for step in range(0, 100, 10):
            w.append({"k": np.arange(6, dtype=np.float32).reshape(2, 3) + step}, step=step)
    with open_recording(path) as rec:
        assert rec.read_range("k", 2, 5).shape == (3, 2, 3)
        np.testing.assert_array_equal(rec.read_element("k", (1, 2)), np.arange(0, 100, 10) + 5)
        np.testing.assert_array_equal(rec.read_element("k", 4), np.arange(0, 100, 10) + 4)
        assert rec.index_of_step(35) == 3 and rec.index_of_step(40) == 4
        np.testing.assert_array_equal(rec.read("k", -1), rec.read("k", 9))
        with pytest.raises(IndexError):
            rec.read("k", 10)
        with pytest.raises(KeyError, match="no variable"):
            rec.read("nope", 0)


def test_many_steps_grow_the_file_and_trim_on_close(tmp_path):
    path = tmp_path / "g.h5"
    with RecordingWriter(path) as w:
        for step in range(1000):
            w.append({"k": np.full(16, step, np.float32)})
        assert w._steps.capacity >= 1000
    with open_recording(path) as rec:
        assert rec.num_steps == 1000 and rec._datasets["k"].shape[0] == 1000
        assert rec.read("k", 999)[0] == 999


def test_writer_refuses_bad_names_and_types(tmp_path):
    w = RecordingWriter(tmp_path / "b.h5")
    with pytest.raises(RecordingError, match="unusable name"):
        w.declare("a//b", VariableSpec((2,)))
    with pytest.raises(RecordingError, match="not numeric"):
        w.declare("s", VariableSpec((2,), dtype="U3"))
    w.declare("a/b", VariableSpec((2,)))
    with pytest.raises(RecordingError, match="already a variable"):
        w.declare("a/b/c", VariableSpec((2,)))
    w.close()


def test_mode_x_refuses_existing_file_and_w_replaces_it(tmp_path):
    path = tmp_path / "x.h5"
    with RecordingWriter(path, mode="x") as w:
        w.append({"k": np.zeros(2)})
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter(path, mode="x")
    with RecordingWriter(path, mode="w") as w:
        w.append({"j": np.zeros(3)})
    with open_recording(path) as rec:
        assert rec.variable_names == ["j"]
    assert list(tmp_path.iterdir()) == [path]


def test_writer_refuses_to_replace_what_is_not_a_recording(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("precious")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    for path in (text, other):
        with pytest.raises(RecordingError, match="refusing to replace it"):
            RecordingWriter(path)
    assert text.read_text() == "precious"
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    RecordingWriter(empty).close()


def test_writing_through_a_symlink_keeps_the_link(tmp_path):
    real, link = tmp_path / "real.h5", tmp_path / "link.h5"
    with RecordingWriter(real) as w:
        w.append({"a": np.zeros(2)})
    link.symlink_to(real)
    with RecordingWriter(link) as w:
        for step in range(50):
            w.append({"b": np.full((64, 64), step, np.float32)})
    assert link.is_symlink()
    with open_recording(real) as rec:
        assert rec.variable_names == ["b"] and rec.num_steps == 50
