"""Peak memory of `weightreel slice` on a large recording: it must stream, not load.

Generates a recording (default 500 steps of one 1M-float32 variable, about 2 GB) with
RecordingWriter in a temporary folder, runs `weightreel slice IN OUT --every 2 --float16` in a
subprocess, and measures that subprocess's peak RSS (from wait4's rusage), next to the peak
RSS of `python -c "import weightreel.formats"` as a baseline. The last line printed is a JSON
object. `--quick` makes a small run (about 60 MB) for a smoke test.

    python benchmarks/slice_memory.py [--quick] [--steps N] [--elements M] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

TARGET_MB = 300


def generate(path: str, steps: int, elements: int) -> float:
    """Write a recording of one (elements,) float32 variable over `steps` steps; returns seconds."""
    from weightreel.formats import RecordingWriter

    start = time.perf_counter()
    base = np.random.default_rng(0).standard_normal(elements).astype(np.float32)
    with RecordingWriter(path, metadata={"model_name": "slice_benchmark"}) as w:
        for step in range(steps):
            base += np.float32(1e-3)
            w.append({"big/kernel": base}, scalars={"loss": 1.0 / (step + 1)})
    return time.perf_counter() - start


def peak_rss_mb(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run `cmd`; return (peak RSS in MB, wall seconds, exit code, stderr tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, wall, proc.returncode, err[-300:]  # ru_maxrss is in KiB


def check_output(path: str, steps: int) -> dict:
    from weightreel.formats import open_recording, validate

    with open_recording(path) as rec:
        return {"valid": validate(path) == [], "out_steps": rec.num_steps,
                "expected_steps": (steps + 1) // 2,
                "out_dtype": rec.variables["big/kernel"].stored_dtype}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run: 60 steps of 256k floats")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--elements", type=int, default=1 << 20)
    parser.add_argument("--dir", default=None, help="folder for the temporary files")
    args = parser.parse_args()
    steps, elements = (60, 1 << 18) if args.quick else (args.steps, args.elements)
    folder = tempfile.mkdtemp(prefix="weightreel-bench-", dir=args.dir)
    try:
        src, dst = os.path.join(folder, "big.h5"), os.path.join(folder, "small.h5")
        gen_s = generate(src, steps, elements)
        size = os.path.getsize(src)
        print(f"generated {size / 1e6:.0f} MB in {gen_s:.1f} s", file=sys.stderr)
        cli = [sys.executable, "-m", "weightreel.viewer.cli"]
        peak, wall, code, err = peak_rss_mb([*cli, "slice", src, dst, "--every", "2", "--float16"])
        if code != 0:
            raise SystemExit(f"slice failed ({code}): {err}")
        base, _, _, _ = peak_rss_mb([sys.executable, "-c", "import weightreel.formats"])
        result = {
            "benchmark": "slice_memory", "quick": args.quick, "steps": steps,
            "elements": elements, "input_mb": round(size / 1e6, 1),
            "output_mb": round(os.path.getsize(dst) / 1e6, 1),
            "slice_args": "--every 2 --float16", "slice_seconds": round(wall, 2),
            "mb_per_s": round(size / 1e6 / wall, 1), "peak_rss_mb": round(peak, 1),
            "baseline_import_rss_mb": round(base, 1), "target_mb": TARGET_MB,
            "within_target": peak < TARGET_MB, "generate_seconds": round(gen_s, 1),
            **check_output(dst, steps),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result["within_target"] and result["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
