"""What holding small rows until the commit saves the recorder: the writer's staging, off and on.

The MLP of record_overhead.py (784-256-128-10, batch 64, 20,000 samples: 313 batches) is fitted
plain, with WeightRecorder and staging on (formats/_stage.py), and with staging off (its row
threshold set below every row), in alternating rounds of one process. Reported: the median
extra CPU time per step over the plain fit of the same round (every thread of the process), and
the median step-time ratio. The last line printed is a JSON object.

    python benchmarks/writer_staging.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import measure  # noqa: E402

import weightreel.formats._stage as stage  # noqa: E402
from weightreel.recorder import WeightRecorder  # noqa: E402

ON = stage.STAGE_MAX_ROW_BYTES


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 4,000 samples")
    args = parser.parse_args(argv)
    rounds, samples = (2, 4000) if args.quick else (4, 20000)
    model, (x, y) = measure.mlp((256, 128)), measure.data(samples)
    measure.timed_fit(model, x, y, [])  # trace and warm up
    steps = -(-samples // 64)
    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "staged": [], "unstaged": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for name in runs:
                stage.STAGE_MAX_ROW_BYTES = -1 if name == "unstaged" else ON
                callbacks = [] if name == "plain" else [
                    WeightRecorder(os.path.join(tmp, f"{name}{r}.h5"))]
                cpu, wall = time.process_time(), time.perf_counter()
                measure.timed_fit(model, x, y, callbacks)
                runs[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    stage.STAGE_MAX_ROW_BYTES = ON
    result: dict = {"quick": args.quick, "steps": steps, "rounds": rounds}
    for name in ("staged", "unstaged"):
        pairs = list(zip(runs[name], runs["plain"], strict=True))
        result[name] = {
            "extra_cpu_ms_per_step": statistics.median((c - pc) / steps * 1000
                                                       for (c, _), (pc, _) in pairs),
            "step_ratio": statistics.median(w / pw for (_, w), (_, pw) in pairs)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
