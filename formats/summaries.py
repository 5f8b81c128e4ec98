"""Per-step summaries of one variable: exact moments and counts, and sampled quantiles."""

from __future__ import annotations

import numpy as np

from ._layout import BASE_SUMMARY_COLUMNS, QUANTILE_SAMPLE, QUANTILES, SUMMARY_COLUMNS

NUM_COLUMNS = len(SUMMARY_COLUMNS)  # columns a new file has
NUM_BASE_COLUMNS = len(BASE_SUMMARY_COLUMNS)  # those summarize() computes from one step
EXACT_LIMIT = 1 << 16  # up to this many elements, moments are accumulated in float64


def sample_indices(size: int) -> np.ndarray | None:
    """Fixed, sorted positions used for the quantiles of a variable of `size` elements.

    Small variables use every element (None). Large ones use the same random sample at every
    step, so that bands over time compare like with like.
    """
    if size <= QUANTILE_SAMPLE:
        return None
    rng = np.random.default_rng(size)
    return np.sort(rng.choice(size, QUANTILE_SAMPLE, replace=False))


def summarize(values: np.ndarray, sample: np.ndarray | None = None) -> np.ndarray:
    """The base summary row (BASE_SUMMARY_COLUMNS) of `values`; NaN and Inf are counted, then
    skipped. The update norm needs the previous step too: see update_norm()."""
    return _summarize(values, sample)[0]


def summarize_step(values: np.ndarray, previous: np.ndarray | None,
                   sample: np.ndarray | None = None) -> np.ndarray:
    """summarize(values, sample) followed by update_norm(values, previous): the full row. A
    large float32 variable is read from memory once for both, not twice (the same sums)."""
    row, moved = _summarize(values, sample, previous)
    return np.append(row, update_norm(values, previous) if moved is None else np.sqrt(moved))


def _summarize(values: np.ndarray, sample: np.ndarray | None,
               previous: np.ndarray | None = None) -> tuple[np.ndarray, float | None]:
    """summarize()'s row, and the sum of squared differences from `previous` where it came
    with the moments (a large finite float32 variable and a previous step like it), else None."""
    work = original = np.ascontiguousarray(values).reshape(-1)
    row = np.full(NUM_BASE_COLUMNS, np.nan)
    row[5:7] = 0
    if work.size == 0:
        return row, None
    if work.dtype.kind != "f" or work.itemsize < 4 or work.size <= EXACT_LIMIT:
        work = work.astype(np.float64)
    before = None if previous is None else np.ascontiguousarray(previous).reshape(-1)
    if before is not None and not (work.dtype == before.dtype == np.float32
                                   and before.size == work.size):
        before = None
    total, squares, low, high, moved = _moments(work, before)
    if not (np.isfinite(total) and np.isfinite(squares)):
        finite = np.isfinite(work)
        nan_count = int(np.isnan(work).sum())
        row[5:7] = nan_count, work.size - int(finite.sum()) - nan_count
        work = original = work[finite].astype(np.float64)
        sample, moved = None, None
        if work.size == 0:
            return row, None
        total, squares, low, high, _ = _moments(work)
    _fill_moments(row, work.size, total, squares, low, high)
    picked = original if sample is None else original[sample]  # sorted in its own dtype
    if picked.size > QUANTILE_SAMPLE:
        picked = picked[sample_indices(picked.size)]
    row[7:] = quantiles(picked)
    return row, moved


def summarize_rows(values: np.ndarray, sample: np.ndarray | None = None) -> np.ndarray:
    """summarize() of each of the K steps in `values` (shape (K, ...)), as a (K, columns) array.

    For a small variable the calls into numpy, not the arithmetic, are what a step costs, so
    the K steps of one up to EXACT_LIMIT elements are summarized together, in float64, in a
    dozen calls. A step with NaN or Inf, or a larger variable, is summarized on its own.
    """
    k = values.shape[0]
    work = original = values.reshape(k, -1)
    if work.shape[1] == 0 or work.shape[1] > EXACT_LIMIT:
        return np.array([summarize(work[i], sample) for i in range(k)]).reshape(k, -1)
    work = work.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # steps with NaN or Inf: redone below
        total, squares = work.sum(axis=1), np.einsum("ki,ki->k", work, work)
        low, high = work.min(axis=1), work.max(axis=1)
        rows = np.empty((k, NUM_BASE_COLUMNS))
        _fill_moments(rows, work.shape[1], total, squares, low, high)
        rows[:, 5:7] = 0
        rows[:, 7:] = quantiles(original if sample is None else original[:, sample])
    for i in np.flatnonzero(~(np.isfinite(total) & np.isfinite(squares))):
        rows[i] = summarize(work[i], sample)  # NaN or Inf: counted, then skipped
    return rows


def _fill_moments(rows: np.ndarray, count: int, total, squares, low, high) -> None:
    """min, max, mean, std and norm into the first 5 columns of `rows` (one row or (K, C)),
    from the sums over `count` values (numbers, or arrays of K)."""
    mean = total / count
    rows[..., 0], rows[..., 1], rows[..., 2] = low, high, mean
    rows[..., 3] = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    rows[..., 4] = np.sqrt(squares)


BLOCK = 1 << 18  # elements: a block stays in cache for its four passes


def _moments(work: np.ndarray, previous: np.ndarray | None = None
             ) -> tuple[float, float, float, float, float | None]:
    """Sum, sum of squares, min and max, reading a large array from memory once, not 4 times;
    with `previous` (float32 like `work`), also the sum of squared differences from it, taken
    block by block as update_norm() takes them."""
    total = squares = 0.0
    low, high = np.inf, -np.inf
    moved, diff = (None, None) if previous is None else (0.0, np.empty(BLOCK, np.float32))
    dot = _dot_of(work.dtype)
    for start in range(0, work.size, BLOCK):
        block = work[start:start + BLOCK]
        total += float(block.sum())
        squares += dot(block)
        low, high = min(low, float(block.min())), max(high, float(block.max()))
        if diff is not None:
            d = diff[:block.size]
            np.subtract(block, previous[start:start + BLOCK], out=d)
            moved += dot(d)
    return total, squares, low, high, moved


def _dot_of(dtype: np.dtype):
    """x -> float(sum(x * x)) for 1-D blocks of `dtype`. float32 goes to BLAS's sdot, three
    times faster than einsum's loop (13 against 44 µs for 200,000 elements), and, in the
    OpenBLAS numpy ships, single-threaded (measured: a process's CPU/wall 1.0 at 1M elements).
    Not float64: OpenBLAS's ddot runs on every core from 10,000 elements, and its threads then
    spin, taking the cores training needs."""
    if dtype == np.float32:
        return lambda x: float(np.dot(x, x))
    return lambda x: float(np.einsum("i,i->", x, x))


def quantiles(values: np.ndarray) -> np.ndarray:
    """np.quantile's default (linear) QUANTILES of finite `values` (along their last axis),
    in float64. The values are sorted in their own dtype, which orders them exactly as float64
    would: a float32 sample of 4,096 sorts in half the time. (np.partition at the 22 positions
    needed is slower still on fresh data; timing it on one array again and again hides that.)"""
    size = values.shape[-1]
    position = np.asarray(QUANTILES) * (size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    ordered = np.sort(values, axis=-1)
    below, above = ordered[..., low].astype(np.float64), ordered[..., high].astype(np.float64)
    return below + (above - below) * (position - low)


def update_norm(current: np.ndarray, previous: np.ndarray | None) -> float:
    """||current - previous|| (L2), block by block so that no full-size difference is ever
    allocated. NaN without a previous row; NaN or Inf when either holds such values.

    Up to EXACT_LIMIT elements, or for float64 values, differences and sums are float64; a
    larger float32 variable takes float32 differences and per-block sums (relative error
    about 1e-5), three times faster, as its moments do.
    """
    if previous is None:
        return float("nan")
    a = np.ascontiguousarray(current).reshape(-1)
    b = np.ascontiguousarray(previous).reshape(-1)
    fast = a.size > EXACT_LIMIT and a.dtype == b.dtype and a.dtype.kind == "f" \
        and a.itemsize == 4
    diff = np.empty(min(a.size, BLOCK), np.float32 if fast else np.float64)
    squares = 0.0
    dot = _dot_of(diff.dtype)
    for start in range(0, a.size, BLOCK):
        stop = min(start + BLOCK, a.size)
        d = diff[: stop - start]
        np.subtract(a[start:stop], b[start:stop], out=d, dtype=d.dtype)
        squares += dot(d)
    return float(np.sqrt(squares))


def update_norms(values: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """update_norm() of each of the K steps in `values` (shape (K, ...)) against the step
    before it (`previous` before the first): up to EXACT_LIMIT elements, in a few calls for
    all K steps, with float64 differences as update_norm() takes them."""
    k = values.shape[0]
    work = values.reshape(k, -1)
    if previous is None or work.shape[1] > EXACT_LIMIT:
        before = [previous, *(values[i] for i in range(k - 1))]
        return np.array([update_norm(values[i], before[i]) for i in range(k)])
    diff = np.empty(work.shape, np.float64)
    np.subtract(work[0], np.asarray(previous).reshape(-1), out=diff[0], dtype=np.float64)
    np.subtract(work[1:], work[:-1], out=diff[1:], dtype=np.float64)
    return np.sqrt(np.einsum("ki,ki->k", diff, diff))
