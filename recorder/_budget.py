"""The disk budget: pick how often to record so that a recording fits in `max_bytes`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from weightreel.formats._tables import MAX_CHUNK_ROWS, chunk_plan
from weightreel.formats.summaries import NUM_COLUMNS

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# What a finished file holds besides its rows and its chunks' unused tails: the superblock,
# object headers, the model's configuration and the other metadata documents.
FIXED_OVERHEAD = 256 * 1024
RELATIVE_OVERHEAD = 0.01


def parse_bytes(value: int | float | str) -> int:
    """Bytes from an int or a string like "5GB", "500 MB" or "1.5GiB" (KB, MB... are 1000s)."""
    if isinstance(value, bool):
        raise ValueError(f"max_bytes must be a size like 5_000_000_000 or '5GB', not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
        unit = match.group(2).lower() if match else None
        if unit not in _UNITS:
            raise ValueError(f"max_bytes must be a size like '5GB', '500MB' or '2GiB', "
                             f"not {value!r}")
        number = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"max_bytes must be a positive size, not {value!r}")
    return int(number)


@dataclass(frozen=True)
class BudgetPlan:
    """What the budget allows: record every `every` batches, `rows` rows in all."""

    every: int
    rows: int
    bytes: int


def chunk_slack(rows: list[tuple[tuple[int, ...], int]], compressed: bool) -> int:
    """The most bytes a file's chunks can hold beyond its rows, for variables of these
    (shape, itemsize) rows: HDF5 allocates whole chunks, so each dataset's last chunk may be
    partly unused. Counts the variables, their summaries and the timeline and scalars."""
    total = 0
    for shape, itemsize in rows + [((NUM_COLUMNS,), 8)] * len(rows):
        chunk = chunk_plan(shape, itemsize, compressed)
        total += math.prod(chunk) * itemsize
    return total + 16 * MAX_CHUNK_ROWS * 8  # timeline and a dozen scalars, whole chunks


def plan_budget(max_bytes: int, bytes_per_step: int, batches: int,
                already: int = 0, slack: int = 0) -> BudgetPlan | None:
    """The smallest recording interval whose file fits in `max_bytes`.

    `batches` is the number of batches still to train; `already` the bytes the file holds
    (when appending). Row 0 (the initial state) and the final state are always recorded, so
    every N batches gives 1 + ceil(batches / N) rows, plus one when N does not divide
    `batches`. `slack` is what whole chunks may add (see chunk_slack). Returns None when not
    even the initial and final states fit.
    """
    usable = (max_bytes - already - slack - FIXED_OVERHEAD) / (1 + RELATIVE_OVERHEAD)
    fit_rows = int(usable // max(1, bytes_per_step))
    if fit_rows < 2 and batches > 0 or fit_rows < 1:
        return None
    for every in _candidates(batches, fit_rows):
        rows = _rows(batches, every)
        if rows <= fit_rows:
            return BudgetPlan(every, rows, rows * bytes_per_step)
    return None


def _candidates(batches: int, fit_rows: int):
    """Intervals to try, smallest first: from the bound the row count gives, upwards."""
    if batches <= 0:
        yield 1
        return
    start = max(1, math.ceil(batches / max(1, fit_rows - 1)))
    yield from range(start, batches + 1)


def _rows(batches: int, every: int) -> int:
    return 1 + batches // every + (1 if batches % every else 0)
