"""With strace watching every open: validate and info open no file outside the recording,
other than Python's and the libraries' own files; a file's links lead nowhere."""

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT
from hostile import build
from trust_helpers import env

OPEN = re.compile(r'\bopen(?:at)?\((?:[^,]*, )?"([^"]*)"')
SYSTEM = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/share/locale/",
          "/usr/share/zoneinfo/", "/etc/ld.so.cache", "/etc/localtime", "/dev/null",
          "/dev/urandom", "/dev/shm/sem.", "/sys/devices/system/cpu/", "/proc/self/",
          "/etc/ld.so.preload", "/proc/sys/vm/overcommit_memory", "/sys/fs/cgroup/",
          "/proc/cpuinfo", "/proc/meminfo", "/etc/locale.alias")


def python_places() -> tuple[str, ...]:
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(ROOT),
              *sysconfig.get_paths().values()}
    return tuple(str(Path(p).resolve()) + "/" for p in places if p) + tuple(
        p + "/" for p in places if p)


def opened(args, cwd) -> tuple[set[str], set[str]]:
    """The paths the command tried to open, and those it opened, as absolute paths."""
    log = Path(cwd) / "strace.log"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", str(log),
                    sys.executable, "-m", "weightreel.viewer.cli", *args],
                   capture_output=True, timeout=120, env=env(), cwd=cwd, check=False)
    tried, done = set(), set()
    for line in log.read_text(errors="replace").splitlines():
        match = OPEN.search(line)
        if match:
            path = str((Path(cwd) / match.group(1)).resolve(strict=False))
            tried.add(path)
            if "= -1 " not in line:
                done.add(path)
    assert done, "strace saw no open: is it working?"
    return tried, done


def outside(paths: set[str], recording: Path) -> set[str]:
    allowed = python_places() + SYSTEM
    return {p for p in paths  # a folder is listed (Python's import path), no file read
            if p != str(recording.resolve()) and not p.startswith(allowed)
            and not Path(p).is_dir()
            and "site-packages" not in p and "dist-packages" not in p}


@pytest.mark.parametrize("command", ["validate", "info"])
def test_a_recording_is_the_only_file_opened(samples_dir, tmp_path, command):
    recording = tmp_path / "golden.h5"
    shutil.copy(samples_dir / "golden-v1.0.h5", recording)
    _, done = opened([command, str(recording)], tmp_path)
    assert outside(done, recording) == set()


@pytest.mark.parametrize("kind", ["ext_link", "external_storage", "vds", "fifo"])
def test_links_and_external_storage_are_never_followed(tmp_path, kind):
    recording = build(kind, tmp_path)
    tried, done = opened(["validate", str(recording)], tmp_path)
    never = {str((tmp_path / n).resolve()) for n in ("other.h5", "secret.txt", "pipe")}
    assert tried & never == set()
    assert outside(done, recording) == set()
