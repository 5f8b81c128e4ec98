"""`weightreel repair`: rescue every committed step of a damaged recording, never touching it."""

from __future__ import annotations

import hashlib
import os
import shutil

import h5py
import numpy as np

from weightreel.formats import RecordingError, RecordingWriter, open_recording
from weightreel.viewer.cli import main

COMMITTED = 100  # past the first growth event (64 rows)


def value(name: str, step: int) -> np.ndarray:
    shape = {"big/kernel": (256, 128), "small/bias": (5,)}[name]
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) % 13 + step


def crashed_recording(path) -> None:
    """A file as a killed writer leaves it: committed steps, then rows never committed."""
    w = RecordingWriter(path, metadata={"notes": "to repair"})
    for step in range(COMMITTED + 3):
        w.append({n: value(n, step) for n in ("big/kernel", "small/bias")}, step=step,
                 epoch=step // 10, batch=step % 10, scalars={"loss": 1.0 / (step + 1)})
        if step % 10 == 9:
            w.append_epoch(step // 10, {"val_loss": float(step)})
        if step == COMMITTED - 1:
            w.commit()
    w.abandon()


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def assert_rescued(path, steps: int) -> None:
    with open_recording(path) as rec:
        assert rec.num_steps == steps and rec.steps.tolist() == list(range(steps))
        for i in range(steps):
            for name in ("big/kernel", "small/bias"):
                assert rec.read(name, i).tobytes() == value(name, i).tobytes()
        assert rec.scalar("loss").tolist() == [1.0 / (s + 1) for s in range(steps)]
        assert rec.epochs.tolist() == [s // 10 for s in range(steps)]
        assert rec.metadata["notes"] == "to repair" and rec.metadata["finished"] is False
        return rec.epoch_numbers.tolist()


def test_repair_rescues_a_file_whose_end_address_is_behind_its_metadata(tmp_path, capsys):
    good, bad = tmp_path / "good.h5", tmp_path / "bad.h5"
    crashed_recording(good)
    shutil.copyfile(good, bad)
    with open(bad, "r+b") as fh:  # what a kill inside HDF5's flush could leave before 1.1
        fh.seek(40)
        fh.write((4096).to_bytes(8, "little"))
    before = sha(bad)
    try:
        open_recording(bad)
        raise AssertionError("the damaged file opened")
    except RecordingError as exc:
        assert "weightreel repair" in str(exc)
    assert main(["repair", str(bad), str(tmp_path / "out.h5")]) == 0
    assert "rescued 100 of 100 committed steps and 10 of 10 epoch rows" in capsys.readouterr().out
    assert sha(bad) == before  # never modified
    assert assert_rescued(tmp_path / "out.h5", COMMITTED) == list(range(10))
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_repair_rescues_the_steps_before_the_cut_of_a_truncated_copy(tmp_path, capsys):
    good, cut = tmp_path / "good.h5", tmp_path / "cut.h5"
    crashed_recording(good)
    shutil.copyfile(good, cut)
    with h5py.File(good, "r") as f:  # cut inside the chunk of rows 80..87 of big/kernel
        chunk = f["variables/big/kernel"].id.get_chunk_info_by_coord((80, 0, 0))
    os.truncate(cut, chunk.byte_offset + chunk.size // 2)
    before = sha(cut)
    assert main(["repair", str(cut), str(tmp_path / "out.h5")]) == 1  # some steps were lost
    assert sha(cut) == before
    assert "rescued 80 of 100 committed steps and 8 of 10 epoch rows" in capsys.readouterr().out
    assert assert_rescued(tmp_path / "out.h5", 80) == list(range(8))  # none past step 79


def test_repair_refuses_bad_input_with_exit_2(tmp_path, capsys):
    good = tmp_path / "good.h5"
    crashed_recording(good)
    (tmp_path / "text.h5").write_text("not a recording")
    assert main(["repair", str(good), str(good)]) == 2  # OUT exists
    assert main(["repair", str(tmp_path / "text.h5"), str(tmp_path / "o.h5")]) == 2
    assert main(["repair", str(tmp_path / "none.h5"), str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("weightreel: ") for line in err)
    assert not (tmp_path / "o.h5").exists()
