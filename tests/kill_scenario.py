"""A writer that records forever, to be killed with SIGKILL, and a check of what it left.

Used by tests/test_format_kill.py (30 kills) and benchmarks/kill_durability.py (1,000 kills).
Run as a script: `python kill_scenario.py PATH MODE` writes until killed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

# dense/kernel's rows are large enough to go to disk with os.pwrite (formats/_direct.py),
# the others through HDF5: kills land in both paths.
SHAPES = {"dense/kernel": (512, 384), "dense/bias": (7,), "conv/kernel": (3, 3, 2, 4)}
EPOCH_LENGTH = 50
WRITER_DEADLINE_S = 20.0  # a writer whose killer died stops by itself, long before a disk fills


def expected(name: str, step: int) -> np.ndarray:
    shape = SHAPES[name]
    pattern = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 97
    return pattern * np.float32(1e-3) + np.float32(step)


def write_forever(path: str, mode: str) -> None:
    from weightreel.formats import RecordingWriter
    from weightreel.formats._aligned import StepBuffers

    writer = RecordingWriter(path, mode=mode, commit_interval=0.02,
                             metadata={"notes": "kill test"})
    print("open", flush=True)
    step = writer.last_step + 1
    deadline = time.monotonic() + WRITER_DEADLINE_S
    buffers = StepBuffers(8)
    while time.monotonic() < deadline and os.getppid() != 1:
        # One step with fresh arrays, then a block of up to 4 in page-aligned step buffers
        # (as the recorder writes them: rows that follow each other in one direct write).
        count = 1 if step % 5 == 0 else min(4, EPOCH_LENGTH - step % EPOCH_LENGTH)
        block = []
        for s in range(step, step + count):
            arrays = {name: expected(name, s) for name in SHAPES}
            targets = buffers.copy(list(arrays.values())) if count > 1 else None
            if targets is not None:
                arrays = dict(zip(SHAPES, targets, strict=True))
            block.append((arrays, {"step": s, "epoch": s // EPOCH_LENGTH,
                                   "batch": s % EPOCH_LENGTH,
                                   "scalars": {"loss": 1.0 / (s + 1)}}))
        writer.append_many(block, copy=False)
        step += count
        if step % EPOCH_LENGTH == 0:
            writer.append_epoch(step // EPOCH_LENGTH - 1, {"val_loss": float(step - 1)})
        del block, arrays, targets


def check(path: str) -> list[str]:
    """Problems with the file a killed writer left: it must open and hold its steps exactly."""
    from weightreel.formats import RecordingError, open_recording, validate

    try:
        problems = validate(path)
        rec = open_recording(path)
    except RecordingError as exc:
        return [str(exc)]
    with rec:
        steps = rec.steps
        if rec.num_steps and not np.array_equal(steps, np.arange(steps[0], steps[0] + len(steps))):
            problems.append(f"steps are not consecutive: {steps[:5]}...")
        loss = rec.scalar("loss") if rec.num_steps else []
        for i, step in enumerate(steps):
            for name in SHAPES:
                value = expected(name, int(step))
                if not np.array_equal(rec.read(name, i), value):
                    problems.append(f"{name} at step {step} differs")
                mean = rec.summary(name, i, i + 1)[0, 2]
                if not np.isclose(mean, value.mean()):
                    problems.append(f"summary mean of {name} at step {step} is {mean}")
            if loss[i] != 1.0 / (step + 1):
                problems.append(f"loss at step {step} is {loss[i]}")
        # A kill between a step's commit and its epoch row's commit loses that epoch row, so a
        # resumed file may skip an epoch; every committed epoch row must still be exact.
        epochs = rec.epoch_numbers
        if np.any(np.diff(epochs) <= 0) or (len(epochs) and epochs[-1] > rec.epochs[-1]):
            problems.append(f"epoch rows are out of order: {epochs[:5]}")
        val_loss = rec.epoch_scalar("val_loss") if len(epochs) else []
        for epoch, value in zip(epochs, val_loss, strict=True):
            if value != float(epoch * EPOCH_LENGTH + EPOCH_LENGTH - 1):
                problems.append(f"val_loss of epoch {epoch} is {value}")
    return problems


def kill_once(path: str, mode: str, rng: random.Random,
              max_delay: float = 1.0) -> tuple[int, list[str]]:
    """Start a writer, kill it at a random moment after it opened, check the file."""
    proc = subprocess.Popen([sys.executable, __file__, path, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "open":
        proc.kill()
        return 0, [f"writer did not start: {proc.stderr.read()[-300:]}"]
    try:
        time.sleep(rng.uniform(0, max_delay))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    folder, base = os.path.split(path)
    leftovers = [n for n in os.listdir(folder) if n.startswith(base + ".") and n.endswith(".tmp")]
    if leftovers:
        return 0, [f"temporary files left behind: {leftovers}"]
    if not os.path.exists(path):  # killed before its first commit: nothing to keep
        return 0, []
    problems = check(path)
    from weightreel.formats import open_recording

    if problems:
        return 0, problems
    with open_recording(path) as rec:  # closed: a deleted file held open keeps its disk space
        return rec.num_steps, problems


if __name__ == "__main__":
    write_forever(sys.argv[1], sys.argv[2])
