"""SIGKILL a real writer process at random moments: the file must keep every committed step."""

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kill_scenario import kill_once  # noqa: E402

KILLS = 30


def test_killed_writer_leaves_every_committed_step(tmp_path):
    rng = random.Random(20261129)
    failures, total_steps = [], 0
    for k in range(KILLS):
        path = str(tmp_path / f"kill{k % 6}.h5")
        mode = "a" if k >= 6 else "w"  # later kills resume the crashed files
        steps, problems = kill_once(path, mode, rng, max_delay=0.8)
        total_steps += steps
        failures += [f"kill {k}: {p}" for p in problems]
    assert failures == []
    assert total_steps > KILLS * 5, "the writer was killed before it committed much"
