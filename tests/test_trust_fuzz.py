"""Seeded byte-flip mutants of sample recordings through validate, info and the API, each in a
child process under a memory limit: no signal death, no hang, no traceback, and every line on
stderr names the file. The seed makes the suite deterministic."""

import random
import shutil

import pytest
from trust_helpers import run_python

SOURCES = ("golden-v1.0.h5", "origin_demo.h5")
MUTANTS_PER_SOURCE = 13
SEED = 20261204

DRIVER = """
import sys
from weightreel.formats import RecordingError, open_recording
from weightreel.viewer.cli import main

path = sys.argv[1]
codes = [main([command, path]) for command in ("validate", "info")]
assert all(code in (0, 1, 2) for code in codes), codes
if codes[0] == 2:
    sys.exit(0)  # refused by the check (or unreadable): the API is not used on it
try:
    with open_recording(path) as rec:
        rec.metadata, rec.steps, rec.wall_times, rec.variables
        for name in rec.variable_names:
            if rec.num_steps:
                rec.read(name, -1), rec.read_range(name, 0, 3), rec.summary(name)
        for name in rec.scalar_names:
            rec.scalar(name)
except RecordingError as exc:
    print(f"API: {exc}", file=sys.stderr)
"""


def mutants(source, count, rng):
    """(offsets, new bytes) of each mutant: half aim at the first 8 KiB, where the headers are."""
    size = source.stat().st_size
    for i in range(count):
        span = min(size, 8192) if i % 2 == 0 else size
        offsets = sorted(rng.randrange(span) for _ in range(rng.randint(1, 6)))
        yield [(o, rng.randrange(256)) for o in offsets]


def cases():
    rng = random.Random(SEED)
    from conftest import SAMPLES

    return [(name, i, flips) for name in SOURCES
            for i, flips in enumerate(mutants(SAMPLES / name, MUTANTS_PER_SOURCE, rng))]


@pytest.mark.parametrize("name,index,flips", cases(), ids=lambda v: str(v)[:20])
def test_mutant_never_crashes_hangs_or_prints_an_unnamed_line(samples_dir, tmp_path,
                                                               monkeypatch, name, index, flips):
    path = tmp_path / f"mutant-{index}-{name}"
    shutil.copy(samples_dir / name, path)
    with open(path, "r+b") as fh:
        for offset, value in flips:
            fh.seek(offset)
            fh.write(bytes([value]))
    monkeypatch.setenv("WEIGHTREEL_CHECK_TIMEOUT", "15")
    result = run_python(DRIVER, str(path), timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    for line in result.stderr.splitlines():
        assert str(path) in line, line
