"""The `weightreel` command: info, validate, view wiring, help, usage and bad-input handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_cli_support import (
    EPOCHS,
    NUM_ROWS,
    assert_one_line_error,
    make_recording,
    run_cli,
)

from weightreel.formats import FORMAT_VERSION
from weightreel.viewer.cli import main

COMMANDS = ("info", "validate", "view", "slice", "export", "plot")


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_recording(tmp_path_factory.mktemp("rec") / "run.h5")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    (root / "empty.h5").write_bytes(b"")
    (root / "random.h5").write_bytes(np.random.default_rng(0).bytes(4096))
    with h5py.File(root / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    (root / "folder.h5").mkdir()
    return {"missing": root / "missing.h5", "directory": root / "folder.h5",
            "empty": root / "empty.h5", "random bytes": root / "random.h5",
            "plain HDF5": root / "plain.h5"}


EXPECTED = {"missing": "no such file", "directory": "directory", "empty": "empty",
            "random bytes": "not an HDF5 file", "plain HDF5": "not a weightreel recording"}


def test_info_describes_run_model_variables_steps_and_scalars(recording: Path) -> None:
    result = run_cli("info", recording)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in (f"format      weightreel {FORMAT_VERSION}", "tensorflow 2.16.1", "testhost",
                 "finished",
                 "Model tiny_convnet", "Conv2D", "filters=4", "units=3", "class_name=SGD",
                 "batch_size=8", "synthetic recording for CLI tests", "second line",
                 "dense/kernel", "4x3", "3x3x2x4", "float32", "bias", "python=3.11",
                 f"Steps {NUM_ROWS} (global steps 10..22)", f"{EPOCHS} with epoch logs",
                 "per step", "12.0 s", "loss", "val_loss", "file size"):
        assert text in out, text
    assert result.stderr == ""


def test_info_reports_an_unfinished_recording(tmp_path: Path) -> None:
    from weightreel.formats import RecordingWriter

    w = RecordingWriter(tmp_path / "live.h5")
    w.append({"w": np.zeros(3, np.float32)})
    w.commit()
    try:
        result = run_cli("info", tmp_path / "live.h5")
    finally:
        w.close()
    assert result.returncode == 0, result.stderr
    assert "not finished" in result.stdout and "Steps 1" in result.stdout


@pytest.mark.parametrize("argv", [["info"], ["validate"], ["slice", "{tmp}/s.h5"],
                                  ["export", "-o", "{tmp}/e.npz"], ["export", "-o", "{tmp}/e.csv"]])
def test_core_commands_import_neither_matplotlib_nor_qt(recording: Path, tmp_path: Path,
                                                        argv: list[str]) -> None:
    argv = [argv[0], str(recording), *(a.format(tmp=tmp_path) for a in argv[1:])]
    code = ("import sys; from weightreel.viewer.cli import main; rc = main(sys.argv[1:]);"
            "heavy = [m for m in ('matplotlib', 'PyQt5', 'pyqtgraph', 'PIL', 'tensorflow', "
            "'weightreel.recorder') if m in sys.modules]; print('HEAVY', heavy); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, *argv],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_validate_valid_file_exits_0(recording: Path) -> None:
    result = run_cli("validate", recording)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{recording}: valid recording ({NUM_ROWS} steps)"


def test_validate_problems_exit_1_one_per_line(tmp_path: Path) -> None:
    path = make_recording(tmp_path / "broken.h5")
    with h5py.File(path, "r+") as f:
        f["timeline/step"][3] = f["timeline/step"][2]  # steps no longer strictly increase
        del f["variables/dense/bias"].attrs["role"]
    result = run_cli("validate", path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert any("not strictly increasing" in line for line in lines)
    assert any("dense/bias" in line and "role" in line for line in lines)
    assert all(line.startswith(str(path)) for line in lines)


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_bad_files_fail_in_one_line_through_the_console_script(bad_files, kind: str) -> None:
    path = bad_files[kind]
    result = subprocess.run([str(Path(sys.executable).with_name("weightreel")), "info", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert_one_line_error(result, 2, str(path), EXPECTED[kind])


@pytest.mark.parametrize("command", ["validate", "view", "slice", "export", "plot"])
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_command_rejects_bad_files_with_exit_2(bad_files, tmp_path, capsys, command,
                                                      kind) -> None:
    path = str(bad_files[kind])
    argv = {"validate": [path], "view": [path], "slice": [path, str(tmp_path / "o.h5")],
            "export": [path, "-o", str(tmp_path / "o.npz")],
            "plot": [path, "--out", str(tmp_path / "o.png")]}[command]
    assert main([command, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"weightreel: {path}: "), err
    assert EXPECTED[kind] in err[0]
    assert not (tmp_path / "o.h5").exists() and not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: weightreel {command}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([], "required: COMMAND"),
    (["frobnicate"], "invalid choice"),
    (["info"], "required: FILE"),
    (["slice", "{rec}", "{tmp}/o.h5", "--steps", "5"], "not a step range"),
    (["slice", "{rec}", "{tmp}/o.h5", "--steps", "a:b"], "whole numbers"),
    (["slice", "{rec}", "{tmp}/o.h5", "--steps", "20:10"], "B must be greater than A"),
    (["slice", "{rec}", "{tmp}/o.h5", "--every", "0"], "must be 1 or more"),
    (["export", "{rec}", "-o", "{tmp}/o.npz", "--to", "bmp"], "invalid choice: 'bmp'"),
    (["export", "{rec}", "-o", "{tmp}/o.npz", "--step", "1", "--steps", "1:2"], "not allowed"),
])
def test_usage_errors_are_one_line_exit_2(recording, tmp_path, capsys, argv, message) -> None:
    argv = [a.format(rec=recording, tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("weightreel: ") and message in err[0], err


@pytest.mark.parametrize("argv, message", [
    (["export", "{rec}", "-o", "{tmp}/o.npz", "--variable", "nope"], "no variable 'nope'"),
    (["export", "{rec}", "-o", "{tmp}/o.txt"], "cannot tell the format"),
    (["export", "{rec}", "-o", "{tmp}/o.npz", "--step", "11"], None),
    (["export", "{rec}", "-o", "{tmp}/o.png", "--variable", "dense/bias", "--step", "99"],
     "step 99 is not recorded"),
    (["export", "{rec}", "-o", "{tmp}/o.png"], "exactly one variable"),
    (["export", "{rec}", "-o", "{tmp}/o.gif", "--variable", "dense/bias", "--step", "12"],
     "use --steps"),
    (["export", "{rec}", "-o", "{tmp}/o.csv", "--steps", "100:200"], "keeps no steps"),
    (["export", "{rec}", "-o", "{tmp}/missing/o.csv"], "does not exist"),
    (["export", "{rec}", "-o", "{rec}", "--to", "npz"], "is the input recording"),
    (["slice", "{rec}", "{rec}"], "is the input file"),
    (["slice", "{rec}", "{tmp}/o.h5", "--include", "zzz*"], "matches no variable"),
    (["plot", "{rec}", "--out", "{tmp}/o.png", "--variable", "nope"], "no variable 'nope'"),
    (["plot", "{rec}", "--out", "{tmp}"], "is a directory"),
])
def test_bad_arguments_fail_in_one_line(recording, tmp_path, argv, message) -> None:
    argv = [a.format(rec=recording, tmp=tmp_path) for a in argv]
    result = run_cli(*argv)
    if message is None:  # the control case: the same command with good arguments works
        assert result.returncode == 0, result.stderr
        return
    assert_one_line_error(result, 2, message)


def test_view_wiring_fails_cleanly_on_bad_input(tmp_path: Path) -> None:
    result = run_cli("view", tmp_path / "nope.h5")
    assert_one_line_error(result, 2, "nope.h5", "no such file")
    result = run_cli("view", "--step", "x")
    assert_one_line_error(result, 2, "invalid int value")


def test_interrupt_exits_130_without_traceback(recording: Path) -> None:
    code = ("import sys, weightreel.viewer._cli_commands as c\n"
            "def boom(args): raise KeyboardInterrupt\n"
            "c.run_info = boom\n"
            "from weightreel.viewer.cli import main\n"
            "sys.exit(main(['info', sys.argv[1]]))\n")
    result = subprocess.run([sys.executable, "-c", code, str(recording)],
                            capture_output=True, text=True, timeout=60)
    assert_one_line_error(result, 130, "interrupted")


def test_view_without_a_display_says_so_in_one_line(recording: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "weightreel.viewer.cli", "view", str(recording)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert_one_line_error(result, 2, "no display", "--screenshot")


def test_view_screenshot_is_wired_to_the_viewer(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = run_cli("view", recording, "--step", "15", "--variable", "conv/kernel",
                     "--screenshot", out)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 100


SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "golden-v1.0.h5"


def test_commands_on_the_golden_sample(tmp_path: Path) -> None:
    info = run_cli("info", SAMPLE)
    assert info.returncode == 0, info.stderr
    assert "Model golden" in info.stdout and "non-trainable" in info.stdout
    assert run_cli("validate", SAMPLE).returncode == 0
    cut = tmp_path / "cut.h5"
    result = run_cli("slice", SAMPLE, cut, "--every", "2", "--include", "*/kernel", "--compress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{cut}: 6 steps, 2 variables")
    assert run_cli("validate", cut).returncode == 0
    out = tmp_path / "g.npz"
    assert run_cli("export", cut, "-o", out).returncode == 0
    with np.load(out) as z:
        assert z["steps"].tolist() == [0, 2, 4, 6, 8, 10]
        assert z["conv/kernel"].shape == (6, 3, 3, 1, 4)
