"""Kill a real RecordingWriter process with SIGKILL many times; count files that lose anything.

Each round starts a writer (tests/kill_scenario.py) that appends steps and commits every
20 ms, kills it at a random moment, then opens the file and checks every committed step
exactly. Four files in five are resumed (mode "a") after their crash, so kills also land in
writers that append to a crashed file.

Usage: python benchmarks/kill_durability.py [--kills 1000] [--quick]
The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from kill_scenario import kill_once  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="50 kills")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    kills = 50 if args.quick else args.kills
    rng = random.Random(args.seed)
    failures: list[str] = []
    steps_checked = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(kills):
            path = str(Path(tmp) / f"run{k // 5}.h5")
            steps, problems = kill_once(path, "w" if k % 5 == 0 else "a", rng, max_delay=1.2)
            steps_checked += steps
            if k % 5 == 4:
                Path(path).unlink(missing_ok=True)
            failures += [f"kill {k}: {p}" for p in problems[:3]]
            for p in problems[:3]:
                print(f"kill {k}: {p}", flush=True)
            if (k + 1) % 50 == 0:
                print(f"{k + 1} kills, {len(failures)} failures", flush=True)
    print(json.dumps({
        "kills": kills,
        "files_failing_check": len({f.split(":")[0] for f in failures}),
        "failure_examples": failures[:5],
        "committed_steps_checked": steps_checked,
        "seconds": round(time.perf_counter() - start, 1),
    }))


if __name__ == "__main__":
    main()
