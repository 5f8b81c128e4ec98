"""Throughput, latency and size of the recording format, against raw numpy I/O in the same run.

- write: MB/s of RecordingWriter for a synthetic model of ~200 MB per step, uncompressed,
  against ndarray.tofile into the same folder (target: at least 0.8x raw).
- read: latency of reading one step of a 1024x1024 float32 variable from a file of 1,000
  steps, warm (target: median under 5 ms), against a raw pread of the same bytes.
- size: file bytes per step over data bytes per step (target: at most 1.02).
- compression: MB/s and size ratio of each storage option.
- summaries: time per step of the ~200 MB model's summaries: the 18 columns of format 1.0,
  and what 1.1's update_norm adds (the norm of the change, and the writer's copy of the row
  it keeps for the next step), against the 1.0 time in the same run.

Usage: python benchmarks/format_throughput.py [--quick] [--dir DIR]
The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np

from weightreel.formats import RecordingWriter, open_recording
from weightreel.formats.summaries import sample_indices, summarize, update_norm

MODEL_200MB = {
    "embed/embeddings": (50_000, 512),
    "dense1/kernel": (4096, 4096),
    "dense2/kernel": (4096, 1024),
    "dense3/kernel": (1024, 2048),
    "dense4/kernel": (1024, 1024),
    **{f"dense{i}/bias": (4096,) for i in range(1, 5)},
}


def make_model(shapes: dict[str, tuple[int, ...]], scale: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {}
    for name, shape in shapes.items():
        shape = (max(1, int(shape[0] * scale)), *shape[1:])
        out[name] = (rng.standard_normal(shape, dtype=np.float32) * 0.05)
    return out


def data_bytes(model: dict[str, np.ndarray]) -> int:
    return sum(a.nbytes for a in model.values())


def time_raw(folder: str, model: dict[str, np.ndarray], steps: int) -> float:
    path = os.path.join(folder, "raw.bin")
    start = time.perf_counter()
    with open(path, "wb") as fh:
        for _ in range(steps):
            for a in model.values():
                a.tofile(fh)
    elapsed = time.perf_counter() - start
    os.remove(path)
    return elapsed


def time_writer(folder: str, model: dict[str, np.ndarray], steps: int, keep: bool = False,
                **options) -> tuple[float, int]:
    path = os.path.join(folder, "rec.h5")
    start = time.perf_counter()
    with RecordingWriter(path, **options) as w:
        for step in range(steps):
            w.append(model, scalars={"loss": 1.0 / (step + 1)})
    elapsed = time.perf_counter() - start
    size = os.path.getsize(path)
    if not keep:
        os.remove(path)
    return elapsed, size


def bench_write(folder: str, scale: float, steps: int, rounds: int) -> dict:
    model = make_model(MODEL_200MB, scale)
    mb = data_bytes(model) * steps / 1e6
    raw, ours, sizes = [], [], []
    for _ in range(rounds):
        raw.append(time_raw(folder, model, steps))
        elapsed, size = time_writer(folder, model, steps)
        ours.append(elapsed)
        sizes.append(size)
    raw_mbs, ours_mbs = mb / statistics.median(raw), mb / statistics.median(ours)
    return {
        "write_step_mb": round(data_bytes(model) / 1e6, 1),
        "write_steps": steps,
        "write_mb_s": round(ours_mbs, 1),
        "raw_tofile_mb_s": round(raw_mbs, 1),
        "write_vs_raw": round(ours_mbs / raw_mbs, 3),
        "size_ratio": round(statistics.median(sizes) / (data_bytes(model) * steps), 4),
    }


def bench_read(folder: str, side: int, steps: int, samples: int) -> dict:
    model = {"big/kernel": np.random.default_rng(1).standard_normal((side, side), np.float32)}
    _, _ = time_writer(folder, model, steps, keep=True)
    path = os.path.join(folder, "rec.h5")
    rng = np.random.default_rng(2)
    picks = rng.integers(0, steps, samples)
    with open_recording(path) as rec:
        offset = rec._datasets["big/kernel"].id.get_chunk_info(0).byte_offset
        for i in picks[:20]:  # warm: the file was just written and is in the page cache
            rec.read("big/kernel", int(i))
        ours = []
        for i in picks:
            t = time.perf_counter()
            rec.read("big/kernel", int(i))
            ours.append((time.perf_counter() - t) * 1000)
    fd = os.open(path, os.O_RDONLY)
    raw = []
    for i in picks:
        t = time.perf_counter()
        os.pread(fd, side * side * 4, offset + int(i) * side * side * 4)
        raw.append((time.perf_counter() - t) * 1000)
    os.close(fd)
    os.remove(path)
    return {
        "read_variable": f"{side}x{side} float32",
        "read_file_steps": steps,
        "read_ms_median": round(statistics.median(ours), 2),
        "read_ms_p95": round(float(np.percentile(ours, 95)), 2),
        "raw_pread_ms_median": round(statistics.median(raw), 2),
    }


def bench_compression(folder: str, scale: float, steps: int) -> dict:
    model = make_model(MODEL_200MB, scale)
    mb = data_bytes(model) * steps / 1e6
    out = {}
    options = {"none": {}, "gzip": {"compression": "gzip"}, "lzf": {"compression": "lzf"},
               "float16": {"float16": True}, "float16+gzip": {"float16": True,
                                                              "compression": "gzip"}}
    for label, kwargs in options.items():
        elapsed, size = time_writer(folder, model, steps, **kwargs)
        out[label] = {"mb_s": round(mb / elapsed, 1),
                      "size_ratio": round(size / (data_bytes(model) * steps), 3)}
    return {"compression": out}


def bench_summaries(scale: float, rounds: int) -> dict:
    model = make_model(MODEL_200MB, scale)
    previous = {n: a + np.float32(1e-3) for n, a in model.items()}
    samples = {n: sample_indices(a.size) for n, a in model.items()}

    def timed(work) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for name, a in model.items():
                work(name, a)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    base = timed(lambda n, a: summarize(a, samples[n]))
    norm = timed(lambda n, a: update_norm(a, previous[n]))
    buffers = {n: np.empty_like(a) for n, a in model.items()}  # the writer reuses its buffers
    copy = timed(lambda n, a: np.copyto(buffers[n], a))
    return {
        "summaries_step_mb": round(data_bytes(model) / 1e6, 1),
        "summaries_1_0_ms_per_step": round(base, 1),
        "update_norm_ms_per_step": round(norm, 1),
        "row_copy_ms_per_step": round(copy, 1),
        "summaries_1_1_vs_1_0": round((base + norm + copy) / base, 3),
        "summaries_1_1_vs_1_0_without_copy": round((base + norm) / base, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--dir", help="folder for the files (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        if args.quick:
            result = bench_write(folder, 0.05, 5, 2)
            result |= bench_read(folder, 1024, 50, 100)
            result |= bench_compression(folder, 0.02, 3)
            result |= bench_summaries(0.05, 3)
        else:
            result = bench_write(folder, 1.0, 8, 3)
            result |= bench_read(folder, 1024, 1000, 300)
            result |= bench_compression(folder, 0.1, 5)
            result |= bench_summaries(1.0, 5)
    result["targets"] = {"write_vs_raw": ">= 0.8", "read_ms_median": "< 5",
                         "size_ratio": "<= 1.02"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
