"""Export chosen variables at chosen steps as .npz or .csv, streamed, with numpy and h5py only.

npz: one array per variable, shaped (n, *shape), under the variable's name, plus `steps`,
     `epochs` and `batches` (n,). Written in blocks straight into the zip file.
csv: wide, one row per step: columns step, epoch, batch, then one column per element of each
     variable, named `name[i,j]` (C order; a scalar-shaped variable is one column `name`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence

import numpy as np

BLOCK_BYTES = 32 << 20
TIMELINE_KEYS = ("steps", "epochs", "batches")

Progress = Callable[[int, int], None]  # (work done, work in all)


def export_npz(rec, out: str, names: Sequence[str], rows: np.ndarray,
               progress: Progress | None = None) -> None:
    """Write the variables `names` at timeline positions `rows` to an .npz file at `out`."""
    clash = sorted(set(names) & set(TIMELINE_KEYS))
    if clash:
        raise ValueError(f"{rec.path}: variable {clash[0]!r} clashes with the npz timeline key")
    timeline = {"steps": rec.steps[rows], "epochs": rec.epochs[rows], "batches": rec.batches[rows]}
    done, total = 0, int(rows.size) * len(names)
    with _replacing(out) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        for key, values in timeline.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(values))
        for name in names:
            info = rec.variables[name]
            shape = (int(rows.size), *info.shape)
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                header = {"descr": np.lib.format.dtype_to_descr(np.dtype(info.stored_dtype)),
                          "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_2_0(fh, header)
                for block in _blocks(rec, [name], rows):
                    fh.write(np.ascontiguousarray(block[name]).tobytes())
                    done += len(block[name])
                    if progress is not None:
                        progress(done, total)


def export_csv(rec, out: str, names: Sequence[str], rows: np.ndarray,
               progress: Progress | None = None) -> None:
    """Write the variables `names` at timeline positions `rows` to a wide .csv file at `out`."""
    infos = [rec.variables[n] for n in names]
    header = ["step", "epoch", "batch"]
    header += [c for v in infos for c in element_columns(v.name, v.shape)]
    fmt = ["%d", "%d", "%d"]
    fmt += [_number_format(v.stored_dtype) for v in infos for _ in range(v.size)]
    with _replacing(out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(_csv_field(h) for h in header) + "\n")
        done = 0
        for block in _blocks(rec, names, rows):
            n = len(next(iter(block.values()))) if block else 0
            part = rows[done:done + n]
            cols = [rec.steps[part], rec.epochs[part], rec.batches[part]]
            cols += [block[v.name].reshape(n, -1) for v in infos]
            table = np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])
            np.savetxt(fh, table, fmt=fmt, delimiter=",")
            done += n
            if progress is not None:
                progress(done, rows.size)


def element_columns(name: str, shape: tuple[int, ...]) -> list[str]:
    """Column names of every element of a variable, in C order: name[0,0], name[0,1], ..."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def _blocks(rec, names: Sequence[str], rows: np.ndarray):
    """Yield {name: array (k, *shape)} for consecutive blocks of `rows`, each ~BLOCK_BYTES."""
    if rows.size == 0:
        return
    row_bytes = sum(rec.variables[n].size * np.dtype(rec.variables[n].stored_dtype).itemsize
                    for n in names)
    per_block = max(1, BLOCK_BYTES // max(row_bytes, 1))
    for lo in range(0, rows.size, per_block):
        part = rows[lo:lo + per_block]
        yield {n: rec.read_rows(n, part) for n in names}


def _number_format(dtype: str) -> str:
    kind = np.dtype(dtype)
    if kind.kind in "iub":
        return "%d"
    return {2: "%.5g", 4: "%.9g"}.get(kind.itemsize, "%.17g")


def _csv_field(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text


class _replacing:
    """Write to a temporary file next to `out`; move it over `out` only when complete."""

    def __init__(self, out: str) -> None:
        folder, base = os.path.split(os.path.abspath(out))
        self.out = out
        self.tmp = os.path.join(folder, f".{base}.partial-{os.getpid()}")

    def __enter__(self) -> str:
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.out)
            return
        try:
            os.remove(self.tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # name OUT, not the temporary file, with a short reason
            from weightreel.formats.slice import write_problem

            folder = os.path.dirname(os.path.abspath(self.out))
            raise ValueError(f"{self.out}: cannot be written: {write_problem(exc, folder)}"
                             ) from exc
