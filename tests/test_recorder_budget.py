"""WeightRecorder(max_bytes=...): the recording frequency is chosen so that the file fits."""

from __future__ import annotations

import logging
import os
import warnings

import keras
import numpy as np
import pytest
from recorder_helpers import classification_data

from weightreel.formats import RecordingError, open_recording
from weightreel.recorder import RecordingWarning, WeightRecorder
from weightreel.recorder._budget import (
    FIXED_OVERHEAD,
    RELATIVE_OVERHEAD,
    parse_bytes,
    plan_budget,
)


def wide_model() -> keras.Model:
    """About 33 KB per step: big enough for small budgets to force every-N recording."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(512, name="wide"),
                              keras.layers.Dense(3, name="head")], name="budget")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def fit(model, callbacks, epochs=3, n=320):
    x, y = classification_data(n)  # 10 batches of 32 per epoch
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, shuffle=False, callbacks=callbacks)


@pytest.mark.parametrize("text, expected", [
    ("5GB", 5 * 10**9), ("500 MB", 5 * 10**8), ("1.5GiB", int(1.5 * 2**30)), ("64kb", 64000),
    (123456, 123456), ("7", 7)])
def test_sizes_are_read_with_their_units(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("bad", ["5 parsecs", "", "-1GB", 0, -5, True, "GB"])
def test_a_size_that_is_not_one_is_refused(bad):
    with pytest.raises(ValueError, match="max_bytes"):
        parse_bytes(bad)


def test_the_plan_is_the_smallest_interval_that_fits():
    for batches in (1, 7, 30, 1000, 12345):
        for budget_rows in (2, 3, 10, 100, 5000):
            per_step = 10_000
            budget = int(budget_rows * per_step * (1 + RELATIVE_OVERHEAD)) + FIXED_OVERHEAD + 1
            plan = plan_budget(budget + 5000, per_step, batches, slack=5000)
            assert plan is not None and plan.rows <= budget_rows
            if plan.every > 1:  # one batch less often would not fit
                tighter = 1 + batches // (plan.every - 1) + bool(batches % (plan.every - 1))
                assert tighter > budget_rows
    assert plan_budget(256 * 1024 + 15_000, 10_000, 50) is None  # not even two rows
    assert plan_budget(10**6, 10_000, 50, slack=10**6) is None  # the chunks' tails count


def test_a_fit_with_a_budget_records_every_n_batches_and_fits(tmp_path, caplog):
    path = tmp_path / "budget.h5"
    budget = 2_600_000
    with caplog.at_level(logging.INFO, logger="weightreel.recorder"):
        fit(wide_model(), [WeightRecorder(path, max_bytes=budget)])
    rec = open_recording(path)
    every = int(np.diff(rec.steps[:-1]).min())
    assert every > 1 and set(np.diff(rec.steps[:-1])) == {every}
    assert rec.steps[0] == 0 and rec.steps[-1] == 30  # the initial and the final state
    assert os.path.getsize(path) <= budget
    said = [r.getMessage() for r in caplog.records if "max_bytes" in r.getMessage()]
    assert said and f"every {every} batches" in said[0] and f"{rec.num_steps} steps" in said[0]


def test_a_generous_budget_records_every_batch(tmp_path):
    path = tmp_path / "roomy.h5"
    fit(wide_model(), [WeightRecorder(path, max_bytes="50MB")], epochs=1)
    assert list(open_recording(path).steps) == list(range(11))


def test_save_freq_and_max_bytes_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="save_freq or max_bytes"):
        WeightRecorder(tmp_path / "x.h5", save_freq=5, max_bytes="1GB")


def test_a_budget_too_small_for_two_rows_warns_and_training_goes_on(tmp_path):
    path = tmp_path / "tiny.h5"
    model = wide_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, [WeightRecorder(path, max_bytes="100KB")], epochs=1)
    messages = [str(w.message) for w in caught if issubclass(w.category, RecordingWarning)]
    assert any("cannot hold the initial and final states" in m for m in messages)
    assert not path.exists()
    with pytest.raises(RecordingError, match="max_bytes"):
        fit(model, [WeightRecorder(path, max_bytes="100KB", strict=True)], epochs=1)
