"""A reader written from the format description alone (SPEC.md), with only h5py and numpy.

This module imports nothing from weightreel: the recordings are written by RecordingWriter in a
subprocess, and read back here by following the layout, to prove that a teammate with only
h5py can read a recording.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

WRITE = textwrap.dedent("""
    import os, sys
    import numpy as np
    from weightreel.formats import RecordingWriter, VariableSpec
    path, crash = sys.argv[1], sys.argv[2] == "crash"
    host = "h" * 63 + "\u00e9" + "y" * 7  # 71 characters; byte 64 falls inside the e-acute
    w = RecordingWriter(path, metadata={"framework": "tensorflow", "model_name": "spec_net",
                                        "notes": "read me", "hyperparameters": {"lr": 0.5},
                                        "host": host},
                        float16=crash)
    w.declare("block/dense/kernel", VariableSpec((3, 2), "float32", "dense", "Dense", "kernel"))
    w.declare("block/dense/bias", VariableSpec((2,), "float32", "dense", "Dense", "bias"))
    w.declare("bn/moving_mean", VariableSpec((2,), "float32", "bn", "BatchNormalization",
                                             "moving_mean", trainable=False))
    w.declare("counts", VariableSpec((3,), "int32", "", "", "count"))  # never converted
    w.declare("mask", VariableSpec((2,), "bool", "", "", "mask", trainable=False))
    w.declare("big", VariableSpec((2,), "float32", "", "", "big"))  # overflows float16 at row 5
    for row in range(7):
        kernel = np.full((3, 2), row, np.float32) + np.arange(6).reshape(3, 2)
        arrays = {"block/dense/kernel": kernel,
                  "block/dense/bias": np.array([row, -row], np.float32),
                  "bn/moving_mean": np.array([0.5 * row, 1.0], np.float32),
                  "counts": np.array([row, 2**20 + row, -row], np.int32),
                  "mask": np.array([row % 2 == 0, True]),
                  "big": np.array([1e10 if row == 5 else row, -1.0], np.float32)}
        scalars = {"loss": 1.0 / (row + 1), "train/acc": row / 10}
        if row >= 3:
            scalars["lr"] = 0.1
        w.append(arrays, step=100 + 2 * row, epoch=row // 4, batch=row % 4, scalars=scalars,
                 wall_time=1000.0 + row)
        if row == 3:
            w.append_epoch(0, {"val_loss": 0.25})
    w.commit()
    if crash:
        import warnings
        warnings.simplefilter("ignore")
        os._exit(0)  # killed: never closed, datasets keep their spare rows
    w.append_epoch(1, {"val_loss": 0.125})
    w.close()
""")


def kernel(row: int) -> np.ndarray:
    return np.full((3, 2), row, np.float32) + np.arange(6).reshape(3, 2)


def read_spec(path: Path) -> dict:
    """Everything in a recording, read by the layout rules of SPEC.md."""
    out: dict = {}
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] in ("weightreel", b"weightreel")
        out["version"] = _text(f.attrs["format_version"])
        assert int(out["version"].split(".")[0]) == 1
        steps, epochs = (int(x) for x in f["committed"][:2])  # always cut to these counts
        out["timeline"] = {c: f["timeline"][c][:steps] for c in ("step", "epoch", "batch",
                                                                 "wall_time")}
        out["variables"], out["attrs"], out["summaries"], out["types"] = {}, {}, {}, {}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["variables"][name] = obj[:steps]
                out["attrs"][name] = {k: _text(v) for k, v in obj.attrs.items()}
                out["types"][name] = {k: _on_disk(obj.attrs.get_id(k).get_type())
                                      for k in obj.attrs}
                out["types"][name][""] = _on_disk(obj.id.get_type())
                summary = f["summaries"][name]
                columns = [_text(c) for c in summary.attrs["columns"]]  # by name, any count
                assert summary.shape[1:] == (len(columns),)
                out["summaries"][name] = dict(zip(columns, summary[:steps].T, strict=True))

        f["variables"].visititems(visit)
        # the listing order: by `order`, then name
        out["order"] = sorted(out["attrs"], key=lambda n: (out["attrs"][n]["order"], n))
        out["scalars"] = _columns(f["scalars/step"], steps)
        out["epoch"] = _columns(f["scalars/epoch"], epochs)
        out["overflow_step"] = f.attrs.get("float16_overflow_step")
        meta = f["meta"]
        out["meta_types"] = {k: meta.attrs.get_id(k).dtype for k in meta.attrs}
        out["meta"] = {k: _text(v) for k, v in meta.attrs.items()}
        for key, ds in meta.items():
            text = ds.asstr()[()]
            out["meta"][key] = json.loads(text) if key in ("model_config", "optimizer_config",
                                                           "hyperparameters", "versions",
                                                           "source", "extra") else text
        out["lengths"] = {n: f["variables"][n].shape[0] for n in out["variables"]}
    return out


def _columns(group: h5py.Group, rows: int) -> dict:
    """Every dataset under a scalars group, by its path ('/' in a name makes groups)."""
    found: dict = {}
    group.visititems(lambda name, obj: found.__setitem__(name, obj[:rows])
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def _on_disk(tid) -> tuple:
    """An HDF5 type as the spec names it: ("enum", members, base bytes), ("vlen-utf8",),
    or ("plain", numpy dtype)."""
    if isinstance(tid, h5py.h5t.TypeEnumID):
        members = {tid.get_member_name(i).decode(): tid.get_member_value(i)
                   for i in range(tid.get_nmembers())}
        return ("enum", members, tid.get_super().get_size())
    if isinstance(tid, h5py.h5t.TypeStringID) and tid.is_variable_str():
        assert tid.get_cset() == h5py.h5t.CSET_UTF8
        return ("vlen-utf8",)
    return ("plain", tid.dtype)


def epochs_of_rows(data: dict) -> dict:
    """Join epoch rows to timeline rows by the epoch value (SPEC.md, Scalars)."""
    timeline = data["timeline"]["epoch"]
    return {int(e): np.flatnonzero(timeline == e).tolist() for e in data["epoch"]["epoch"]}


def _text(value):
    if isinstance(value, (bytes, np.bytes_)):
        return value.rstrip(b"\0").decode("utf-8")
    return value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize("crash", [False, True])
def test_spec_reader_reads_what_the_writer_wrote(tmp_path: Path, crash: bool) -> None:
    path = tmp_path / "spec.h5"
    result = subprocess.run([sys.executable, "-c", WRITE, str(path), "crash" if crash else "ok"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = read_spec(path)
    assert data["version"] == "1.1"  # what this writer writes
    t = data["timeline"]
    assert t["step"].tolist() == [100 + 2 * r for r in range(7)]
    assert t["epoch"].tolist() == [r // 4 for r in range(7)]
    assert t["batch"].tolist() == [r % 4 for r in range(7)]
    assert t["wall_time"].tolist() == [1000.0 + r for r in range(7)]
    variables = data["variables"]
    assert sorted(variables) == ["big", "block/dense/bias", "block/dense/kernel",
                                 "bn/moving_mean", "counts", "mask"]
    assert data["order"] == ["block/dense/kernel", "block/dense/bias", "bn/moving_mean",
                             "counts", "mask", "big"]
    np.testing.assert_array_equal(variables["block/dense/kernel"], np.stack(
        [kernel(r) for r in range(7)]))
    np.testing.assert_array_equal(variables["block/dense/bias"],
                                  [[r, -r] for r in range(7)])
    assert variables["bn/moving_mean"].dtype == (np.float16 if crash else np.float32)
    attrs = data["attrs"]
    assert attrs["block/dense/kernel"]["role"] == "kernel"
    assert attrs["block/dense/kernel"]["layer_class"] == "Dense"
    assert attrs["block/dense/kernel"]["dtype"] == "float32"
    assert attrs["bn/moving_mean"]["trainable"] in (False, 0)
    assert sorted(a["order"] for a in attrs.values()) == [0, 1, 2, 3, 4, 5]
    # non-float variables are stored unchanged, also when floats are stored as float16
    assert variables["counts"].dtype == np.int32 and attrs["counts"]["dtype"] == "int32"
    np.testing.assert_array_equal(variables["counts"][:, 1], [2**20 + r for r in range(7)])
    assert variables["mask"].dtype == np.bool_ and variables["mask"][:, 0].tolist() == [
        r % 2 == 0 for r in range(7)]
    types = data["types"]
    enum = ("enum", {"FALSE": 0, "TRUE": 1}, 1)
    for name in variables:  # `trainable` is an enum on int8; strings are vlen UTF-8
        assert types[name]["trainable"] == enum
        assert types[name]["role"] == types[name]["layer"] == ("vlen-utf8",)
        assert types[name]["order"] == ("plain", np.int64)
    assert types["mask"][""] == enum  # bool variables: the same enum
    s = data["summaries"]["block/dense/kernel"]
    np.testing.assert_allclose(s["min"], range(7))
    np.testing.assert_allclose(s["max"], [r + 5 for r in range(7)])
    np.testing.assert_allclose(s["mean"], [r + 2.5 for r in range(7)])
    np.testing.assert_allclose(s["q0.5"], [r + 2.5 for r in range(7)])
    # 1.1: every one of the 6 weights grows by 1 a row, so each update is sqrt(6) long
    np.testing.assert_allclose(s["update_norm"], [np.nan] + [np.sqrt(6)] * 6)
    big = data["summaries"]["big"]  # summaries describe the stored values
    if crash:  # float16: 1e10 is stored as inf, and counted as such
        assert variables["big"][5, 0] == np.inf and big["inf_count"][5] == 1
        assert big["max"][5] == -1.0 and data["overflow_step"] == 110
    else:
        assert big["max"][5] == np.float32(1e10) and big["inf_count"][5] == 0
        assert data["overflow_step"] is None
    np.testing.assert_allclose(data["scalars"]["loss"], [1 / (r + 1) for r in range(7)])
    np.testing.assert_allclose(data["scalars"]["train/acc"], [r / 10 for r in range(7)])
    lr = data["scalars"]["lr"]
    assert np.isnan(lr[:3]).all() and (lr[3:] == 0.1).all()  # NaN where a scalar is missing
    assert data["epoch"]["epoch"].tolist() == ([0] if crash else [0, 1])
    assert data["epoch"]["val_loss"].tolist() == ([0.25] if crash else [0.25, 0.125])
    joined = epochs_of_rows(data)  # epoch rows join timeline rows by epoch value
    assert joined[0] == [0, 1, 2, 3] and (crash or joined[1] == [4, 5, 6])
    meta = data["meta"]
    assert set(data["meta_types"]) >= {"framework", "framework_version", "host", "started",
                                        "ended", "finished"}  # always present
    assert data["meta_types"]["host"] == np.dtype("S64")
    assert data["meta_types"]["finished"] == np.int8
    assert meta["host"] == "h" * 63  # cut at 64 bytes, at a character boundary
    assert meta["framework"] == "tensorflow" and meta["model_name"] == "spec_net"
    assert meta["notes"] == "read me" and meta["hyperparameters"] == {"lr": 0.5}
    assert meta["finished"] in ((0, False) if crash else (1, True))
    if crash:  # the killed writer left spare rows: the committed count is what counts
        assert all(n > 7 for n in data["lengths"].values())


def test_this_reader_imports_only_h5py_and_numpy() -> None:
    tree = ast.parse(Path(__file__).read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "weightreel" not in modules
    assert modules - {"__future__", "ast", "json", "subprocess", "sys", "textwrap", "pathlib",
                      "h5py", "numpy", "pytest"} == set()
