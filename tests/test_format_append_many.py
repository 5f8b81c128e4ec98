"""Writing steps in blocks (append_many), rows written beside HDF5, and block summaries."""

import shutil

import h5py
import numpy as np
import pytest

from weightreel.formats import RecordingWriter, _direct, open_recording
from weightreel.formats.summaries import (
    sample_indices,
    summarize,
    summarize_rows,
    summarize_step,
    update_norm,
    update_norms,
)

# A bias, a kernel whose chunks hold 8 whole rows, one of a row per chunk, one split in two
SHAPES = {"a/bias": (300,), "a/kernel": (256, 128), "b/kernel": (784, 256),
          "c/kernel": (1200, 1000)}
STEPS = 40


def _steps(seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    steps = [{n: rng.standard_normal(s).astype(np.float32) for n, s in SHAPES.items()}
             for _ in range(STEPS)]
    steps[13]["a/kernel"][3, 4] = np.nan  # counted and skipped in a block, as alone
    steps[21]["a/bias"][7] = np.inf
    return steps


def _scalars(i: int) -> dict[str, float]:
    return {"loss": 1.0 / (i + 1)} if i < 17 else {"loss": 1.0 / (i + 1), "late": -i}


def _contents(path) -> dict[str, np.ndarray]:
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) and "time" not in name else None)
    return found


@pytest.mark.parametrize("options", [{}, {"float16": True}, {"compression": "gzip"}])
def test_a_block_of_steps_writes_the_file_one_append_per_step_writes(tmp_path, options):
    steps = _steps()
    with RecordingWriter(tmp_path / "one.h5", **options) as w:
        for i, arrays in enumerate(steps):
            w.append(arrays, epoch=i // 16, scalars=_scalars(i))
    with RecordingWriter(tmp_path / "many.h5", **options) as w:
        items = [(a, {"epoch": i // 16, "scalars": _scalars(i)}) for i, a in enumerate(steps)]
        for first in range(0, STEPS, 7):  # blocks across epochs and the new scalar
            assert w.append_many(items[first:first + 7]) == range(first, min(first + 7, STEPS))
        assert w.append_many([]) == range(STEPS, STEPS)
    one, many = _contents(tmp_path / "one.h5"), _contents(tmp_path / "many.h5")
    assert one.keys() == many.keys()
    for name, expected in one.items():
        np.testing.assert_allclose(many[name], expected, rtol=1e-12, err_msg=name)
    with open_recording(tmp_path / "many.h5") as rec:
        assert np.isnan(rec.scalar("late")[:17]).all()
        np.testing.assert_array_equal(rec.scalar("late")[17:], -np.arange(17, STEPS))
        for name in SHAPES:
            held = rec.read_range(name)
            np.testing.assert_array_equal(held, np.stack([s[name] for s in steps]).astype(
                held.dtype))
            np.testing.assert_array_equal(rec.read(name, 29), held[29])


def test_rows_go_to_page_aligned_chunks_with_direct_io_and_read_back_exactly(tmp_path):
    steps = _steps(1)
    with RecordingWriter(tmp_path / "run.h5") as w:
        assert w._direct._direct_fd is not None  # this file system takes O_DIRECT
        for arrays in steps[:25]:
            w.append(arrays)
    with RecordingWriter(tmp_path / "run.h5", "a") as w:  # appended: more chunks, same rule
        w.append_many([(a, {}) for a in steps[25:]])
    with h5py.File(tmp_path / "run.h5", "r") as f:
        for name in SHAPES:
            ds = f["variables"][name]
            if name != "a/bias":
                assert _direct.can_write_direct(ds), name
                offsets = [ds.id.get_chunk_info(i).byte_offset
                           for i in range(ds.id.get_num_chunks())]
                assert all(offset % 4096 == 0 for offset in offsets), name
            np.testing.assert_array_equal(ds[:], np.stack([s[name] for s in steps]))


def test_an_old_files_unaligned_chunks_and_buffered_writes_give_the_same_rows(
        tmp_path, monkeypatch):
    steps = _steps(2)
    monkeypatch.setattr(_direct, "USE_O_DIRECT", False)
    with RecordingWriter(tmp_path / "buffered.h5") as w:
        for arrays in steps[:20]:
            w.append(arrays)
    monkeypatch.setattr(_direct, "USE_O_DIRECT", True)
    shutil.copy(tmp_path / "buffered.h5", tmp_path / "copy.h5")
    with RecordingWriter(tmp_path / "copy.h5", "a") as w:
        w.append_many([(a, {}) for a in steps[20:]])
    with open_recording(tmp_path / "copy.h5") as rec:
        for name in SHAPES:
            np.testing.assert_array_equal(rec.read_range(name),
                                          np.stack([s[name] for s in steps]))


@pytest.mark.parametrize("shape", [(10,), (128, 10), (256, 128), (784, 256)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_block_summaries_equal_one_step_summaries(shape, dtype):
    rng = np.random.default_rng(3)
    values = (rng.standard_normal((6, *shape)) * 3).astype(dtype)
    if values.dtype.kind == "f":
        values.reshape(6, -1)[2, 3] = np.nan
        values.reshape(6, -1)[4, 1] = -np.inf
    sample = sample_indices(int(np.prod(shape)))
    rows = summarize_rows(values, sample)
    np.testing.assert_allclose(rows, [summarize(v, sample) for v in values], rtol=1e-12)
    previous = values[0] + 1
    expected = [update_norm(v, b) for v, b in zip(values, [previous, *values[:-1]], strict=True)]
    np.testing.assert_allclose(update_norms(values, previous), expected, rtol=1e-12)
    assert np.isnan(update_norms(values, None)[0])
    for value, before, norm in zip(values, [previous, *values[:-1]], expected, strict=True):
        whole = summarize_step(value, before, sample)  # one pass for a large float32 one
        np.testing.assert_array_equal(whole, np.append(summarize(value, sample), norm))


def test_quantiles_match_numpy_on_every_size():
    from weightreel.formats._layout import QUANTILES
    from weightreel.formats.summaries import quantiles

    rng = np.random.default_rng(4)
    for size in (1, 2, 3, 17, 4096):
        for dtype in (np.float16, np.float32, np.float64, np.int64):
            values = (rng.standard_normal(size) * 50).astype(dtype)
            np.testing.assert_allclose(quantiles(values),
                                       np.quantile(values.astype(np.float64), QUANTILES),
                                       rtol=1e-12, atol=1e-12)
