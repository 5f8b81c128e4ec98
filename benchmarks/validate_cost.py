"""What validate's data check costs per GB, as a ratio to a plain h5py read of the same data.

Generates two recordings of one float32 variable with random values (default 512 MB of data
each): one uncompressed, one gzip. For each, times (best of --repeat runs, warm page cache):
  - read: a plain h5py read of every row of the variable, in blocks (the baseline),
  - quick: validate(path, quick=True), the structure only,
  - full: validate(path), the structure and every row against its summaries,
  - check: check_untrusted(path), the first reads in a child process.
The data check costs full - quick; the ratio is that over the baseline read. The last line
printed is a JSON object. `--quick` makes a small run (32 MB each).

    python benchmarks/validate_cost.py [--quick] [--mb N] [--repeat R] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ELEMENTS = 1 << 20  # 4 MB per step


def generate(path: Path, megabytes: int, compression: str | None) -> None:
    from weightreel.formats import RecordingWriter

    rng = np.random.default_rng(0)
    base = rng.standard_normal(ELEMENTS).astype(np.float32)
    steps = max(2, megabytes // 4)
    with RecordingWriter(path, compression=compression) as w:
        for step in range(steps):
            base[rng.integers(0, ELEMENTS, 1000)] += np.float32(0.01)
            w.append({"big/kernel": base}, scalars={"loss": 1.0 / (step + 1)})


def plain_read(path: Path) -> int:
    total = 0
    with h5py.File(path, "r", locking=False) as f:
        ds = f["variables/big/kernel"]
        for start in range(0, ds.shape[0], 4):
            total += ds[start:start + 4].nbytes
    return total


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(path: Path, repeat: int) -> dict:
    from weightreel.formats import check_untrusted, validate

    data_bytes = plain_read(path)  # also warms the page cache
    assert validate(path) == [], "the generated recording should be valid"
    read = best(lambda: plain_read(path), repeat)
    quick = best(lambda: validate(path, quick=True), repeat)
    full = best(lambda: validate(path), repeat)
    check = best(lambda: check_untrusted(path), repeat)
    gb = data_bytes / 1e9
    data_check = max(full - quick, 0.0)
    return {"data_gb": round(gb, 3), "file_gb": round(path.stat().st_size / 1e9, 3),
            "plain_read_s_per_gb": round(read / gb, 3),
            "data_check_s_per_gb": round(data_check / gb, 3),
            "ratio_to_plain_read": round(data_check / read, 2),
            "quick_s": round(quick, 3), "check_untrusted_s": round(check, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (32 MB per file)")
    parser.add_argument("--mb", type=int, default=512, help="MB of data per recording")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", help="folder for the recordings (default: a temporary one)")
    args = parser.parse_args()
    megabytes = 32 if args.quick else args.mb
    folder = Path(args.dir or tempfile.mkdtemp(prefix="validate_cost_"))
    results = {}
    try:
        for label, compression in (("uncompressed", None), ("gzip", "gzip")):
            path = folder / f"{label}.h5"
            generate(path, megabytes, compression)
            results[label] = measure(path, 1 if args.quick else args.repeat)
            print(label, results[label], flush=True)
            path.unlink()
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"benchmark": "validate_cost", "megabytes": megabytes, **results}))


if __name__ == "__main__":
    main()
