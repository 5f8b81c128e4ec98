"""A corpus of hostile recordings, built with h5py: each reaches outside the file, claims more
than it holds, or carries text meant to mislead. `build(kind, folder)` makes one; EXPECTED says
how `weightreel validate` answers it: exit code and words of its one line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np

from weightreel.formats import RecordingWriter

NUM_STEPS = 40
RICH = "<h1 style='color:red;font-size:48pt'>INJECTED</h1><a href='x'>link</a><img src='x.png'>"
FORGED = "dense/x\nFILE: valid recording (12 steps)"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred"


def base(path: Path, notes: str = "a small run", names: tuple[str, ...] = ("dense/kernel",),
         scalars: tuple[str, ...] = ("loss",), layer: str = "dense") -> Path:
    """A small valid recording: NUM_STEPS steps of a 32x16 kernel and a bias."""
    with RecordingWriter(path, metadata={"notes": notes}) as w:
        for name in names:
            w.declare(name, _spec(layer))
        w.declare("dense/bias", _spec(layer, (16,)))
        for step in range(NUM_STEPS):
            arrays = {n: np.full((32, 16), step, np.float32) for n in names}
            arrays["dense/bias"] = np.linspace(-1, 1, 16, dtype=np.float32) * step
            w.append(arrays, scalars={s: 1.0 / (step + 1) for s in scalars})
    return path


def _spec(layer: str, shape: tuple[int, ...] = (32, 16)):
    from weightreel.formats import VariableSpec

    return VariableSpec(shape, "float32", layer=layer, role="kernel",
                        layer_class="Dense" if layer == "dense" else layer)


def _replace(f: h5py.File, name: str, **create) -> h5py.Dataset:
    """Put a new dataset where `name` was, with the old one's attributes."""
    attrs = dict(f[name].attrs) if name in f else {}
    del f[name]
    ds = f.create_dataset(name, **create)
    for key, value in attrs.items():
        ds.attrs[key] = value
    return ds


def _other(folder: Path) -> Path:
    other = folder / "other.h5"
    if not other.exists():
        with h5py.File(other, "w") as g:
            g["data"] = np.full((NUM_STEPS, 32, 16), 7.0, np.float32)
            g["meta"] = np.zeros(3)
            g.attrs["host"] = "elsewhere.example"
    return other


def _secret(folder: Path) -> Path:
    secret = folder / "secret.txt"
    secret.write_bytes(b"root:x:0:0:secret-content\n" * 1000)
    return secret


def _ext_link(f, folder):
    del f["variables/dense/kernel"]
    f["variables/dense/kernel"] = h5py.ExternalLink(str(_other(folder)), "data")


def _ext_link_meta(f, folder):
    del f["meta"]
    f["meta"] = h5py.ExternalLink(str(_other(folder)), "/")


def _soft_link(f, folder):
    del f["timeline/step"]
    f["timeline/step"] = h5py.SoftLink("/timeline/batch")


def _external_storage(f, folder):
    _replace(f, "committed", shape=(2,), dtype="<i8", external=[(str(_secret(folder)), 0, 16)])


def _external_variable(f, folder):
    size = NUM_STEPS * 32 * 16 * 4
    _replace(f, "variables/dense/kernel", shape=(NUM_STEPS, 32, 16), dtype="<f4",
             external=[(str(_secret(folder)), 0, size)])


def _fifo(f, folder):
    fifo = folder / "pipe"
    if not fifo.exists():
        os.mkfifo(fifo)
    _replace(f, "variables/dense/bias", shape=(NUM_STEPS, 16), dtype="<f4",
             external=[(str(fifo), 0, NUM_STEPS * 16 * 4)])


def _vds(f, folder, missing=False):
    source = folder / "missing.h5" if missing else _other(folder)
    layout = h5py.VirtualLayout(shape=(NUM_STEPS, 32, 16), dtype="<f4")
    layout[:] = h5py.VirtualSource(str(source), "data", shape=(NUM_STEPS, 32, 16))
    attrs = dict(f["variables/dense/kernel"].attrs)
    del f["variables/dense/kernel"]
    ds = f["variables/dense"].create_virtual_dataset("kernel", layout, fillvalue=0)
    for key, value in attrs.items():
        ds.attrs[key] = value


def _huge_count(f, folder):
    """10**8 committed steps over datasets whose extents say as much, their chunks unwritten."""
    f["committed"][0] = 10**8
    for group in ("timeline", "variables/dense", "summaries/dense", "scalars/step"):
        for key in list(f[group]):
            name = f"{group}/{key}"
            old = f[name][:NUM_STEPS]
            ds = _replace(f, name, shape=(10**8, *old.shape[1:]), dtype=old.dtype,
                          chunks=(1, *old.shape[1:]))
            ds[:NUM_STEPS] = old


def _huge_shape(f, folder):
    _replace(f, "variables/dense/kernel", shape=(NUM_STEPS, 10**9, 10**9), dtype="<f4",
             chunks=(1, 1, 1024))


def _deflate_bomb(f, folder):
    ds = _replace(f, "variables/dense/kernel", shape=(NUM_STEPS, 1024, 4096), dtype="<f4",
                  chunks=(1, 1024, 4096), compression="gzip", compression_opts=9)
    ds[0] = 0.0  # 16 MiB that deflate to a few kB; the other rows claim as much


def _big_chunk(f, folder):
    _replace(f, "variables/dense/bias", shape=(NUM_STEPS, 16), maxshape=(None, None),
             dtype="<f4", chunks=(64, 1 << 20))


def _unknown_filter(f, folder):
    _replace(f, "variables/dense/bias", shape=(NUM_STEPS, 16), dtype="<f4", chunks=(1, 16),
             scaleoffset=2)


def _string_variable(f, folder):
    _replace(f, "variables/dense/bias", shape=(NUM_STEPS,), dtype=h5py.string_dtype())


def _complex_variable(f, folder):
    _replace(f, "variables/dense/bias", data=np.zeros((NUM_STEPS, 16), np.complex64))


def _group_for_dataset(f, folder):
    del f["timeline/step"]
    f.create_group("timeline/step")


def _deep_json(f, folder):
    f["meta"].create_dataset("extra", data="[" * 100_000 + "]" * 100_000,
                             dtype=h5py.string_dtype())


def _big_json(f, folder):
    f["meta"].create_dataset("extra", data=json.dumps(list(range(1_500_000))),
                             dtype=h5py.string_dtype())


def _nan_wall_time(f, folder):
    f["timeline/wall_time"][3] = np.nan


def _steps_near_max(f, folder):
    f["timeline/step"][:NUM_STEPS] = np.arange(NUM_STEPS, dtype=np.int64) + (2**63 - 100)


def _steps_down(f, folder):  # np.diff overflows int64 here and reads as increasing
    steps = np.arange(NUM_STEPS, dtype=np.int64)
    steps[5] = 2**62
    steps[6] = -(2**62)
    f["timeline/step"][:NUM_STEPS] = steps


def _steps_repeat(f, folder):
    f["timeline/step"][6] = 3


def _corrupt_value(f, folder):
    f["variables/dense/kernel"][7, 3, 3] = 1e6  # the summaries still say max 7


BUILDERS = {
    "ext_link": _ext_link, "ext_link_meta": _ext_link_meta, "soft_link": _soft_link,
    "external_storage": _external_storage, "external_variable": _external_variable,
    "fifo": _fifo, "vds": _vds, "vds_missing": lambda f, d: _vds(f, d, missing=True),
    "huge_count": _huge_count, "huge_shape": _huge_shape, "deflate_bomb": _deflate_bomb,
    "big_chunk": _big_chunk, "unknown_filter": _unknown_filter,
    "string_variable": _string_variable, "complex_variable": _complex_variable,
    "group_for_dataset": _group_for_dataset, "deep_json": _deep_json, "big_json": _big_json,
    "nan_wall_time": _nan_wall_time, "steps_near_max": _steps_near_max,
    "steps_down": _steps_down, "steps_repeat": _steps_repeat, "corrupt_value": _corrupt_value,
}

# kind -> (exit code of `weightreel validate`, words its one line holds)
EXPECTED = {
    "ext_link": (2, "external link"), "ext_link_meta": (2, "external link"),
    "soft_link": (2, "soft link"), "external_storage": (2, "external file"),
    "external_variable": (2, "external file"), "fifo": (2, "external file"),
    "vds": (2, "virtual dataset"), "vds_missing": (2, "virtual dataset"),
    "huge_count": (2, "claims"), "huge_shape": (2, "claims"), "deflate_bomb": (2, "claims"),
    "big_chunk": (2, "chunks of"), "unknown_filter": (2, "filter"),
    "string_variable": (2, "non-numeric"), "complex_variable": (2, "non-numeric"),
    "group_for_dataset": (2, "/timeline/step"), "deep_json": (0, "valid recording"),
    "big_json": (0, "valid recording"), "nan_wall_time": (1, "non-finite"),
    "steps_near_max": (2, "outside 0..2**53-1"), "steps_down": (2, "outside 0..2**53-1"),
    "steps_repeat": (1, "not strictly increasing"),
    "corrupt_value": (1, "does not match its summaries"),
}


def build(kind: str, folder: Path) -> Path:
    """The hostile file `kind` (see BUILDERS), made in `folder` from a fresh base recording."""
    path = folder / f"{kind}.h5"
    template = folder / "base.h5"
    if not template.exists():
        base(template)
    shutil.copy(template, path)
    with h5py.File(path, "r+") as f:
        BUILDERS[kind](f, folder)
    return path


def build_text(folder: Path) -> Path:
    """A valid recording whose names, metadata and attributes hold HTML, escapes, newlines."""
    path = folder / "text.h5"
    base(path, notes=f"{ESCAPES}\nsecond line {RICH}", names=("dense/kernel", FORGED),
         scalars=("loss", f"<i>{RICH}</i>"), layer=RICH)
    return path
