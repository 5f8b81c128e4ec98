"""How much CPU does the writer spend per recorded step, and on what?

The writer alone, without training: `RecordingWriter.append_many` fed steps shaped like
record_overhead.py's models (the MLP 784-256-128-10, or the ~10M-parameter MLP) with
`copy=False`, in page-aligned step buffers as the recorder's snapshots are (`--fresh`: in
fresh arrays, which the writer copies into aligned memory before a direct write). Steps go in
blocks as the recorder's writer thread writes them (16 steps for the MLP; the 10M model's
38 MB steps one by one), and the MLP's also one at a time. Each figure is the process CPU
time per step (`time.process_time`: every thread, the direct-write thread and the kernel's
work for the writes included), the median over rounds that alternate the variants in one
process:

- `full`: the writer as it is;
- `no_row_writes`: the variables' rows not written (the summaries, HDF5 and staging remain);
- `no_summaries`: the summaries replaced by a row of zeros (the rows still written);
- `neither`: both off: what is left is HDF5, the staging of small rows and Python.

So `full - no_row_writes` is what the row writes cost, `full - no_summaries` what the summaries
cost. The parts are switched off by replacing the writer's functions in this process only.

    python benchmarks/writer_cpu.py                 # the MLP, 2,000 steps, 5 rounds
    python benchmarks/writer_cpu.py --model 10m     # the 10M model, 96 steps
    python benchmarks/writer_cpu.py --quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time

import numpy as np

from weightreel.formats import RecordingWriter, _direct, summaries
from weightreel.formats import writer as writer_module
from weightreel.formats._aligned import StepBuffers
from weightreel.recorder._worker import block_steps

MODELS = {
    "mlp": [784, 256, 128, 10],
    "10m": [784, 4096, 1536, 10],
}
SCALARS = {"loss": 1.0, "accuracy": 0.5}


def model_steps(widths: list[int], count: int, aligned: bool = True
                ) -> list[dict[str, np.ndarray]]:
    """`count` steps of a dense MLP's kernels and biases, each a little moved from the last:
    in page-aligned step buffers, as the recorder's snapshots are, or (`aligned=False`) in
    fresh arrays, as other callers' are."""
    rng = np.random.default_rng(0)
    base = {}
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:], strict=False)):
        base[f"dense_{i}/kernel"] = rng.standard_normal((n_in, n_out)).astype(np.float32) * 0.05
        base[f"dense_{i}/bias"] = np.zeros(n_out, np.float32)
    steps = [{name: value + np.float32(1e-3 * k) for name, value in base.items()}
             for k in range(count)]
    if aligned:
        buffers = StepBuffers(count)
        for step in steps:
            step.update(zip(step, buffers.copy(list(step.values())), strict=True))
    return steps


def cpu_per_step(steps: list[dict[str, np.ndarray]], total: int, block: int, tmp: str) -> float:
    """Process CPU seconds per step for writing `total` steps in blocks of `block`."""
    path = os.path.join(tmp, "writer_cpu.h5")
    with RecordingWriter(path) as writer:
        writer.append(steps[0], scalars=SCALARS, copy=False)
        start = time.process_time()
        for first in range(0, total, block):
            writer.append_many([(steps[(first + j) % len(steps)], {"scalars": SCALARS})
                                for j in range(block)], copy=False)
        spent = time.process_time() - start
    os.remove(path)
    return spent / total


@contextlib.contextmanager
def switched_off(rows: bool, summaries_: bool):
    """The writer with its row writes and/or its summaries replaced, in this process."""
    saved = []

    def replace(owner, name, value):
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    if rows:
        replace(_direct.DirectWriter, "_write", lambda self, pieces: None)
        replace(writer_module, "write_rows", lambda ds, first, block: None)
    if summaries_:
        width = summaries.NUM_BASE_COLUMNS
        replace(writer_module, "summarize_rows", lambda v, s=None: np.zeros((len(v), width)))
        replace(writer_module, "summarize_step", lambda v, p, s=None: np.zeros(width + 1))
        replace(writer_module, "summarize", lambda v, s=None: np.zeros(width))
        replace(writer_module, "update_norms", lambda v, p: np.zeros(len(v)))
        replace(writer_module, "update_norm", lambda a, b: 0.0)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


VARIANTS = {"full": (False, False), "no_row_writes": (True, False),
            "no_summaries": (False, True), "neither": (True, True)}


def measure(model: str, total: int, rounds: int, block: int, tmp: str, aligned: bool
            ) -> dict[str, float]:
    steps = model_steps(MODELS[model], min(total, 32), aligned)
    figures: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for r in range(rounds):
        names = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
        for name in names:
            with switched_off(*VARIANTS[name]):
                figures[name].append(cpu_per_step(steps, total, block, tmp))
    result = {f"{name}_ms": statistics.median(v) * 1e3 for name, v in figures.items()}
    result["row_writes_ms"] = result["full_ms"] - result["no_row_writes_ms"]
    result["summaries_ms"] = result["full_ms"] - result["no_summaries_ms"]
    result["step_bytes"] = sum(a.nbytes for a in steps[0].values())
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--quick", action="store_true", help="a small run, seconds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--fresh", action="store_true",
                        help="steps in fresh arrays, not in page-aligned step buffers")
    args = parser.parse_args(argv)
    big = args.model == "10m"
    total = (16 if big else 320) if args.quick else (96 if big else 2000)
    rounds = args.rounds or (2 if args.quick else 5)
    result: dict = {"model": args.model, "steps": total, "rounds": rounds, "quick": args.quick,
                    "direct_io": _direct.USE_O_DIRECT, "step_buffers": not args.fresh}
    block = block_steps(sum(a.nbytes for a in model_steps(MODELS[args.model], 1)[0].values()))
    with tempfile.TemporaryDirectory() as tmp:
        result[f"blocks_of_{block}"] = measure(args.model, total, rounds, block, tmp,
                                                  not args.fresh)
        if block > 1:
            print(json.dumps(result[f"blocks_of_{block}"]), flush=True)
            result["one_at_a_time"] = measure(args.model, total, rounds, 1, tmp, not args.fresh)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
