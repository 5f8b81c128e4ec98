"""The recorder's writer thread: steps gathered into blocks, commits on time, bounded memory."""

import time

import numpy as np

from weightreel.formats import RecordingWriter, open_recording
from weightreel.recorder._worker import BLOCK_STEPS, BackgroundWriter, block_steps


class BlockNotingWriter(RecordingWriter):
    """A real writer that notes how many steps each append_many call wrote."""

    blocks: list[int]

    def append_many(self, steps, *, copy=True):
        self.blocks.append(len(steps))
        return super().append_many(steps, copy=copy)


def _writer(path, interval: float) -> BlockNotingWriter:
    writer = BlockNotingWriter(path, commit_interval=interval)
    writer.blocks = []
    return writer


def test_small_steps_are_written_in_blocks_and_all_are_there_after_a_commit(tmp_path):
    writer = _writer(tmp_path / "run.h5", 60.0)
    worker = BackgroundWriter(writer, max_items=16)
    steps = [{"w": np.full((64, 10), i, np.float32), "b": np.full(10, -i, np.float32)}
             for i in range(100)]
    for i, arrays in enumerate(steps):
        worker.append(arrays, scalars={"loss": float(i)}, copy=False)
    worker.commit(timeout=30)
    with open_recording(tmp_path / "run.h5") as rec:
        assert rec.num_steps == 100
        np.testing.assert_array_equal(rec.read_range("w")[:, 0, 0], np.arange(100))
        np.testing.assert_array_equal(rec.scalar("loss"), np.arange(100))
    worker.close(timeout=30)
    assert worker.error is None
    assert sum(writer.blocks) == 100
    assert max(writer.blocks) > 1 and max(writer.blocks) <= BLOCK_STEPS


def test_a_part_block_is_written_and_committed_on_time_without_another_request(tmp_path):
    writer = _writer(tmp_path / "run.h5", 0.2)
    worker = BackgroundWriter(writer, max_items=16)
    for i in range(3):  # fewer than a block: only the commit's clock writes them
        worker.append({"w": np.full(8, i, np.float32)})
    deadline = time.monotonic() + 10
    seen = 0
    while seen < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        if (tmp_path / "run.h5").exists():  # a new file gets its name at its first commit
            with open_recording(tmp_path / "run.h5") as rec:
                seen = rec.num_steps
    assert seen == 3
    worker.close(timeout=30)


def test_large_steps_are_written_one_by_one_and_the_queue_stays_bounded(tmp_path):
    assert block_steps(40 << 20) == 1 and block_steps(1 << 20) == 16
    writer = _writer(tmp_path / "run.h5", 60.0)
    worker = BackgroundWriter(writer, max_items=2)
    big = 5 << 20  # bytes per step: more than a block's budget over 4 steps
    for i in range(6):
        worker.append({"w": np.full(big // 4, i, np.float32)}, copy=False)
        assert worker._appends <= 2  # a producer waits rather than queue a third step
    worker.close(timeout=60)
    assert worker.error is None
    assert max(writer.blocks) <= block_steps(big)
    with open_recording(tmp_path / "run.h5") as rec:
        assert rec.num_steps == 6
