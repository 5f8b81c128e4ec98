"""Reused page-aligned step buffers (a recorder's snapshots), written with no second copy."""

import gc

import numpy as np

from weightreel.formats import RecordingWriter, _direct, open_recording
from weightreel.formats._aligned import PAGE, StepBuffers

# Rows of whole pages (a chunk of 8 rows, a row per chunk) and a bias written with HDF5
SHAPES = {"a/bias": (300,), "a/kernel": (256, 128), "b/kernel": (784, 256)}
LAYOUT = StepBuffers.layout_of([np.zeros(s, np.float32) for s in SHAPES.values()])


def test_step_buffers_are_page_aligned_and_reused_only_once_nothing_refers_to_them():
    buffers = StepBuffers(2)
    first = buffers.take(LAYOUT)
    assert [a.shape for a in first] == list(SHAPES.values())
    assert all(a.ctypes.data % PAGE == 0 and a.flags.writeable for a in first)
    second = buffers.take(LAYOUT)
    assert buffers.take(LAYOUT) is None  # both in use: the caller copies as before
    kept = first[1].reshape(-1)[5:9]  # a view of one array keeps the whole step in use
    del first
    gc.collect()
    assert buffers.take(LAYOUT) is None
    del kept
    again = buffers.take(LAYOUT)
    assert again is not None and again[0].ctypes.data not in {a.ctypes.data for a in second}
    odd = buffers.take(StepBuffers.layout_of([np.zeros(3, np.int64)]))  # a new layout
    assert odd is not None and odd[0].dtype == np.int64 and odd[0].shape == (3,)


def test_a_writer_fed_step_buffers_writes_them_with_no_copy_and_they_read_back_exactly(
        tmp_path):
    rng = np.random.default_rng(3)
    buffers, expected = StepBuffers(9), []  # a block of 8, and the last step the writer keeps
    with RecordingWriter(tmp_path / "run.h5") as w:
        for _ in range(5):
            block = []
            for _step in range(8):
                step = buffers.take(LAYOUT)
                for target in step:
                    target[...] = rng.standard_normal(target.shape)
                expected.append([a.copy() for a in step])
                block.append((dict(zip(SHAPES, step, strict=True)), {}))
            w.append_many(block, copy=False)
            del block, step, target
        # Every large row went to disk from the caller's memory: the writer's own aligned
        # buffer (for memory not on a page boundary) was never needed.
        assert w._direct._direct_fd is not None and w._direct._buffer is None
    with open_recording(tmp_path / "run.h5") as rec:
        for i, name in enumerate(SHAPES):
            np.testing.assert_array_equal(rec.read_range(name),
                                          np.stack([e[i] for e in expected]))


def test_rows_that_follow_each_other_in_the_file_go_in_one_direct_write():
    pages = StepBuffers(1).take(StepBuffers.layout_of([np.zeros((4, 1024), np.float32)]))[0]
    odd = np.zeros(1000, np.uint8)  # not whole pages: written on its own
    pieces = [(0, pages[0]), (4096, pages[1]), (8192, pages[2]), (16384, pages[3]),
              (20480, odd), (24576, pages[0])]
    runs = _direct._runs(pieces)
    assert [[offset for offset, _ in run] for run in runs] == [
        [0, 4096, 8192], [16384], [20480], [24576]]
