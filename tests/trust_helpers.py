"""Running weightreel on untrusted files in child processes with limits, for the trust tests."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

MEMORY_LIMIT = 2 << 30  # address space of the command under test (the check child gets less)
TIMEOUT = 120  # a hang guard only: a command that needs it has hung


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("QT_QPA_PLATFORM", "offscreen")
    return e


def run_cli(*args: str, limits: bool = True) -> subprocess.CompletedProcess:
    """`weightreel ARGS` in a child process under the memory limit and the hang guard."""
    command = [sys.executable, "-m", "weightreel.viewer.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env(),
                          preexec_fn=_limits if limits else None, stdin=subprocess.DEVNULL,
                          errors="replace")


def run_python(code: str, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=env(), preexec_fn=_limits,
                          stdin=subprocess.DEVNULL, errors="replace")


def assert_one_named_line(text: str, path: Path) -> str:
    """The output is one line, naming the file; no traceback, no 'unexpected error'."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert str(path) in lines[0], text
    assert "Traceback" not in text and "unexpected error" not in text, text
    return lines[0]
