"""Hostile recordings (tests/hostile.py): each gets its one-line answer naming the file, in
bounded memory (the command runs under a 2 GiB address-space limit) and without hanging."""

import os

import h5py
import numpy as np
import pytest
from hostile import ESCAPES, EXPECTED, FORGED, build, build_text
from trust_helpers import assert_one_named_line, run_cli

from weightreel.formats import (
    RecordingError,
    check_untrusted,
    open_recording,
)

# Refused by the header survey itself, so the API refuses them on open.
SURVEYED = ("ext_link", "ext_link_meta", "soft_link", "external_storage", "external_variable",
            "fifo", "vds", "vds_missing", "huge_count", "huge_shape", "deflate_bomb",
            "big_chunk", "unknown_filter", "string_variable", "complex_variable")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, {kind: build(kind, folder) for kind in EXPECTED}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_validate_answers_each_hostile_file_in_one_line(corpus, kind):
    _, files = corpus
    path = files[kind]
    code, words = EXPECTED[kind]
    result = run_cli("validate", str(path))
    assert result.returncode == code, result.stderr + result.stdout
    line = assert_one_named_line(result.stderr if code == 2 else result.stdout, path)
    assert words in line


@pytest.mark.parametrize("kind", SURVEYED)
def test_the_api_refuses_what_reaches_outside_or_claims_too_much(corpus, kind):
    _, files = corpus
    with pytest.raises(RecordingError) as info:
        open_recording(files[kind])
    assert str(files[kind]) in str(info.value) and "\n" not in str(info.value)
    assert EXPECTED[kind][1] in str(info.value)


def test_nothing_is_read_from_the_files_links_point_to(corpus):
    folder, files = corpus
    for kind in ("external_storage", "external_variable"):
        with pytest.raises(RecordingError) as info:
            check_untrusted(files[kind])
        assert "secret-content" not in str(info.value)
    assert (folder / "pipe").exists()  # the fifo was never opened: nothing blocked above


def test_info_prints_file_text_escaped_on_its_own_lines(tmp_path):
    path = build_text(tmp_path)
    result = run_cli("info", str(path))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\e]0;pwned" in result.stdout
    assert not any(line.startswith("FILE: valid") for line in result.stdout.splitlines())
    assert FORGED.replace("\n", "\\n") in result.stdout
    assert ESCAPES not in result.stdout


def test_forged_lines_cannot_appear_in_validate_output(tmp_path):
    path = build_text(tmp_path)
    with h5py.File(path, "r+") as f:  # make the forged variable's summaries disagree
        f[f"summaries/{FORGED}"][3, 1] = 1e9
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    line = assert_one_named_line(result.stdout, path)
    assert "\\nFILE: valid recording" in line


@pytest.mark.parametrize("kind,words", [("deep_json", "not valid JSON"),
                                        ("big_json", "over 1 MiB")])
def test_info_shows_huge_or_deep_documents_briefly(corpus, kind, words):
    _, files = corpus
    result = run_cli("info", str(files[kind]))
    assert result.returncode == 0, result.stderr
    assert words in result.stdout
    assert len(result.stdout) < 10_000


def test_nan_wall_time_is_shown_as_unknown(corpus):
    _, files = corpus
    result = run_cli("info", str(files["nan_wall_time"]))
    assert result.returncode == 0, result.stderr
    assert "time span" in result.stdout


def test_a_check_that_does_not_finish_is_an_error_naming_the_file(corpus, monkeypatch):
    _, files = corpus
    monkeypatch.setenv("WEIGHTREEL_CHECK_TIMEOUT", "0.001")  # no Python starts that fast
    with pytest.raises(RecordingError, match="did not finish reading it in 0.001 s") as info:
        check_untrusted(files["nan_wall_time"])
    assert str(files["nan_wall_time"]) in str(info.value)


def test_api_errors_are_recording_errors_naming_the_file(corpus):
    folder, files = corpus
    path = folder / "odd.h5"
    path.write_bytes(files["nan_wall_time"].read_bytes())
    with h5py.File(path, "r+") as f:
        f["variables/dense/bias"].attrs["order"] = np.inf
    with open_recording(path) as rec:
        for call in (lambda: rec.read("dense/bias", float("inf")), lambda: rec.read("x", 1.5),
                     lambda: rec.read("nope", 0), lambda: rec.scalar("nope"),
                     lambda: rec.read_element("dense/kernel", 10**9),
                     lambda: rec.read_rows("dense/bias", np.array([], int)),
                     lambda: rec.summary_column("dense/bias", "nope")):
            with pytest.raises(RecordingError) as info:
                call()
            assert str(path) in str(info.value)
        assert rec.variable_names[-1] == "dense/bias"  # an unusable order sorts last
    with h5py.File(path, "r+") as f:  # a 0-d dataset where a variable's rows should be
        f.create_dataset("variables/zero_d", data=1.0)
        f.create_dataset("summaries/zero_d", data=np.zeros((40, 18)))
    with pytest.raises(RecordingError, match="/variables/zero_d") as info:
        open_recording(path)
    assert str(path) in str(info.value)


def test_a_corrupted_value_is_caught_and_quick_skips_the_data(corpus):
    _, files = corpus
    path = files["corrupt_value"]
    assert run_cli("validate", "--quick", str(path)).returncode == 0
    result = run_cli("validate", str(path))
    assert result.returncode == 1 and "at step 7" in result.stdout


def test_check_untrusted_passes_every_sample(samples_dir):
    for path in sorted(samples_dir.glob("*.h5")):
        check_untrusted(path)
    assert os.path.getsize(samples_dir / "golden-v1.0.h5") > 0
