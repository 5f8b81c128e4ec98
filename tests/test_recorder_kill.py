"""SIGKILL a real `fit` with WeightRecorder at random moments: nothing committed is ever lost.

Every kill, from the first batch on, must leave a recording under its own name (the initial
state is committed before the first batch), no temporary file, and every held step bit for
bit equal to the same step of an uninterrupted run with the same seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from weightreel.formats import open_recording, validate

HERE = Path(__file__).resolve().parent


def test_killed_fit_leaves_a_recording_with_every_committed_step_exact(tmp_path):
    proc = subprocess.run([sys.executable, str(HERE / "recorder_kill.py"), str(tmp_path), "5"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    delays = json.loads(proc.stdout.strip().splitlines()[-1])["delays"]
    assert len(delays) == 8 and min(delays) < 2 < max(delays)
    reference = open_recording(tmp_path / "reference.h5")
    assert reference.num_steps == 1 + 4 * 96 and reference.metadata["finished"]
    held = []
    for k in range(len(delays)):
        path = tmp_path / f"kill{k}.h5"
        assert path.exists(), f"kill {k} after {delays[k]:.2f} s left no recording"
        assert validate(path) == [], f"kill {k}"
        with open_recording(path) as rec:
            assert rec.num_steps >= 1 and not rec.metadata["finished"]
            assert rec.steps.tolist() == reference.steps[:rec.num_steps].tolist()
            for name in reference.variable_names:
                for i in range(rec.num_steps):
                    assert rec.read(name, i).tobytes() == reference.read(name, i).tobytes(), (
                        f"kill {k}: {name} differs at row {i}")
            held.append(rec.num_steps)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert max(held) > 1, "no kill came after a commit past the initial state"
