"""Comparison: two recordings side by side, variables matched by name, steps by global step.

Qt-free. Variables match by their full name, or by their name without its first part (the
model's name: `mlp_a/dense/kernel` matches `mlp_b/dense/kernel`) when that is unambiguous in
both files. A step of A is shown against the step of B with the same global step number;
where B has no such step it is missing (None), never guessed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from weightreel.formats import SUMMARY_COLUMNS, Recording, open_recording


def _short(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


@dataclass
class Matching:
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (name in A, name in B)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)


def match_variables(a: list[str], b: list[str]) -> Matching:
    """Pairs of the same variable in A and B (in A's order), and those in one file only."""
    out, used = Matching(), set()
    short_b: dict[str, list[str]] = {}
    for name in b:
        short_b.setdefault(_short(name), []).append(name)
    short_a = [_short(n) for n in a]
    for name, short in zip(a, short_a, strict=True):
        if name in b and name not in used:
            match = name
        elif len(short_b.get(short, [])) == 1 and short_a.count(short) == 1:
            match = short_b[short][0]
        else:
            match = None
        if match is None or match in used:
            out.only_a.append(name)
        else:
            out.pairs.append((name, match))
            used.add(match)
    out.only_b = [n for n in b if n not in used]
    return out


def match_steps(steps_a: np.ndarray, steps_b: np.ndarray) -> np.ndarray:
    """For each position of A, the position in B with the same global step, or -1."""
    steps_a, steps_b = np.asarray(steps_a), np.asarray(steps_b)
    order = np.argsort(steps_b, kind="stable")
    found = np.searchsorted(steps_b[order], steps_a)
    found = np.minimum(found, max(len(steps_b) - 1, 0))
    if not len(steps_b):
        return np.full(len(steps_a), -1)
    hit = steps_b[order][found] == steps_a
    return np.where(hit, order[found], -1)


class Comparison:
    """Two open recordings, their matched variables and steps (`refresh` for live files)."""

    def __init__(self, path_a: str | os.PathLike, path_b: str | os.PathLike) -> None:
        self.a: Recording = open_recording(path_a)
        try:
            self.b: Recording = open_recording(path_b)
        except Exception:
            self.a.close()
            raise
        self.matching = match_variables(self.a.variable_names, self.b.variable_names)
        self.refresh()

    def refresh(self) -> None:
        self.a.refresh()
        self.b.refresh()
        self.steps_a, self.steps_b = np.array(self.a.steps), np.array(self.b.steps)
        self.b_index = match_steps(self.steps_a, self.steps_b)

    def read(self, pair: tuple[str, str], index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """A's value at position `index`, and B's at the same global step (None: missing)."""
        j = int(self.b_index[index])
        b = None if j < 0 else np.asarray(self.b.read(pair[1], j), np.float32)
        return np.asarray(self.a.read(pair[0], index), np.float32), b

    def limit(self, pair: tuple[str, str], index: int) -> float:
        """One symmetric colour limit for A, B and A − B at position `index`: the larger
        robust extreme (0.1% / 99.9% quantiles) of the two runs at that step."""
        worst = 0.0
        j = int(self.b_index[index])
        for rec, name, at in ((self.a, pair[0], index), (self.b, pair[1], j)):
            if at < 0:
                continue
            row = np.asarray(rec.summary(name, at, at + 1), np.float64)[0]
            for column in ("q0.001", "q0.999"):
                value = abs(float(row[SUMMARY_COLUMNS.index(column)]))
                if np.isfinite(value):
                    worst = max(worst, value)
        return worst or 1.0

    def column(self, which: str, name: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(global steps, a summary column) of variable `name` in run `which` ('a' or 'b')."""
        rec = self.a if which == "a" else self.b
        rows = np.asarray(rec.summary(name, 0, rec.num_steps), np.float64)
        return np.array(rec.steps), rows[:, SUMMARY_COLUMNS.index(column)]

    def loss(self, which: str) -> tuple[np.ndarray, np.ndarray] | None:
        rec = self.a if which == "a" else self.b
        names = rec.scalar_names
        name = "loss" if "loss" in names else (names[0] if names else None)
        if name is None:
            return None
        return np.array(rec.steps), np.asarray(rec.scalar(name), np.float64)

    def close(self) -> None:
        self.a.close()
        self.b.close()
