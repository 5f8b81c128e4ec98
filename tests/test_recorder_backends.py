"""Keras 3 on the JAX and torch backends, each in its own process (KERAS_BACKEND is fixed at
import): fit with WeightRecorder and each backend's custom loop with ModelRecorder, bit-exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def run_backend(backend: str, out: Path) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run([sys.executable, str(HERE / "keras_backend_run.py"), str(out)],
                          cwd=HERE, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend, framework", [("jax", "jax"), ("torch", "torch")])
def test_keras_backend_fit_and_custom_loop_are_bit_exact(tmp_path, backend, framework):
    # On JAX this fit raised TypeError at the first batch: Keras' JAX trainer empties the
    # variables during an epoch until a callback reads `self.model` (callback._sync_live_state).
    result = run_backend(backend, tmp_path)
    assert result["backend"] == backend
    assert result["fit_rows"] == 1 + 2 * 4 and result["fit_exact"]
    assert result["loop_rows"] == 5 and result["loop_exact"] and result["loop_loss_finite"]
    if backend == "jax":  # a read that fails stops the recording, never the training
        assert result["unread_fit_done"] and result["unread_error"] == "RecordingError"
        assert len(result["unread_warnings"]) == 1 and "unread.h5" in result["unread_warnings"][0]
        assert result["unread_rows"] == 1
    versions = result["versions"]
    assert versions["keras_backend"] == backend and versions[framework]
    others = {"jax", "torch", "tensorflow"} - {framework}
    assert not others & set(versions), versions
