"""A new recording has no name until its first commit and leaves nothing behind; a refused
append leaves the file byte for byte as it was."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from weightreel.formats import RecordingError, RecordingWriter, open_recording
from weightreel.formats._newfile import remove_leftovers
from weightreel.recorder._variables import match_recorded


def test_a_new_file_appears_at_its_first_commit_and_a_failed_one_leaves_nothing(tmp_path):
    path = tmp_path / "run.h5"
    w = RecordingWriter(path)
    w.declare("w", _spec())
    assert os.listdir(tmp_path) == []  # unnamed: nothing to see yet
    w.append({"w": np.ones(3, np.float32)})
    w.commit()
    assert os.listdir(tmp_path) == ["run.h5"] and open_recording(path).num_steps == 1
    w.close()
    failed = RecordingWriter(tmp_path / "other.h5")
    failed.abandon()
    assert os.listdir(tmp_path) == ["run.h5"]


def test_leftovers_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    target = str(tmp_path / "run.h5")
    for pid in (dead, str(os.getpid())):
        (tmp_path / f"run.h5.{pid}-0.tmp").write_bytes(b"old")
    (tmp_path / "run.h5.notes.tmp").write_bytes(b"not ours")
    remove_leftovers(target)
    assert sorted(os.listdir(tmp_path)) == sorted([f"run.h5.{os.getpid()}-0.tmp",
                                                   "run.h5.notes.tmp"])


def test_a_refused_append_changes_no_byte(tmp_path):
    path = tmp_path / "run.h5"
    with RecordingWriter(path) as w:
        w.append({"w": np.ones(3, np.float32)})
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    w = RecordingWriter(path, "a", metadata={"notes": "resumed"})
    with pytest.raises(RecordingError, match="missing w"):
        w.append({"v": np.ones(3, np.float32)})
    with pytest.raises(RecordingError, match="shape"):
        w.declare("w", _spec((4,)))
    w.close()  # nothing appended: nothing written
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert open_recording(path).metadata["finished"] is True


def test_resumed_names_match_with_or_without_the_model_name():
    recorded = ["resume_cnn/conv1/kernel", "resume_cnn/conv1/bias", "resume_cnn/out/kernel"]
    reloaded = ["conv1/kernel", "conv1/bias", "out/kernel"]
    pairs = list(zip(reloaded, recorded, strict=True))
    assert match_recorded(recorded, reloaded, "resume_cnn") == dict(pairs)
    assert match_recorded(reloaded, recorded, "resume_cnn") == {b: a for a, b in pairs}
    assert match_recorded(recorded, recorded, "x") == {n: n for n in recorded}
    assert match_recorded(recorded, reloaded[:2], "resume_cnn") is None
    assert match_recorded(recorded, ["conv1/kernel", "conv1/bias", "dense/kernel"],
                          "resume_cnn") is None


def _spec(shape=(3,)):
    from weightreel.formats import VariableSpec

    return VariableSpec(shape, "float32")
