"""Shared test set-up: headless Qt, quiet TensorFlow, and small helpers."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def diverging_run(tmp_path_factory) -> Path:
    """A real Keras run whose learning rate grows until its weights turn NaN (see
    diverging_run.py), recorded by WeightRecorder once per test session."""
    from diverging_run import record_diverging_run

    return Path(record_diverging_run(str(tmp_path_factory.mktemp("diverging") / "div.h5")))
