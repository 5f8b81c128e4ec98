"""A reader in another process follows a recording while a real writer process writes it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from kill_scenario import SHAPES, expected  # noqa: E402

from weightreel.formats import RecordingWriter, open_recording  # noqa: E402

SCENARIO = str(Path(__file__).parent / "kill_scenario.py")


def test_live_reader_sees_complete_new_steps_within_a_second(tmp_path):
    path = str(tmp_path / "live.h5")
    writer = subprocess.Popen([sys.executable, SCENARIO, path, "w"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)  # a new recording gets its name at its first commit
        rec = open_recording(path)
        counts, deadline = [], time.monotonic() + 3.0
        while time.monotonic() < deadline:
            n = rec.refresh()
            counts.append(n)
            if n:
                last = n - 1
                step = int(rec.steps[last])
                for name in SHAPES:
                    np.testing.assert_array_equal(rec.read(name, last), expected(name, step))
            time.sleep(0.05)
        rec.close()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert counts[-1] > counts[0] >= 0
    growth_per_second = [counts[i + 20] > counts[i] for i in range(0, len(counts) - 20, 10)]
    assert all(growth_per_second), counts


def test_reader_in_the_writers_process_follows_commits(tmp_path):
    path = tmp_path / "same.h5"
    w = RecordingWriter(path, commit_interval=3600)
    w.append({"k": np.zeros(3)})
    w.commit()
    rec = open_recording(path)
    assert rec.num_steps == 1
    for step in range(1, 200):
        w.append({"k": np.full(3, step)})
    assert rec.refresh() == 1  # nothing new is visible before a commit
    w.commit()
    assert rec.refresh() == 200
    assert rec.read("k", 199)[0] == 199
    assert rec.metadata["finished"] is False
    rec.close()
    w.close()
    with open_recording(path) as again:
        assert again.finished


def test_follower_sees_scalars_and_variables_metadata_that_appear_later(tmp_path):
    path = tmp_path / "late.h5"
    w = RecordingWriter(path, commit_interval=3600)
    w.append({"k": np.zeros(3)})
    w.commit()
    rec = open_recording(path)
    assert rec.scalar_names == []
    for step in range(1, 6):
        w.append({"k": np.full(3, step)}, scalars={"loss": 1.0 / step})
    w.update_metadata({"notes": "added later"})
    w.commit()
    assert rec.refresh() == 6
    assert rec.scalar_names == ["loss"]
    assert rec.scalar("loss")[-1] == 0.2
    assert rec.metadata["notes"] == "added later"
    w.close()
    assert rec.refresh() == 6 and rec.finished  # closed, trimmed and compacted: re-opened
    rec.close()
