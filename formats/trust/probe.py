"""check_untrusted(path): the first reads of a file, made in a child process with limits."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

from .._h5 import check_path
from ..errors import CorruptRecordingError, RecordingError
from .limits import CHECK_MEMORY_BYTES, check_timeout


def _limit_memory() -> None:  # runs in the child, before it starts Python
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = CHECK_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard,
                                                                            CHECK_MEMORY_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def check_untrusted(path: str | os.PathLike) -> None:
    """Raise RecordingError (one line naming the file and the object) unless `path` passes the
    header survey, the claims check and its first reads.

    They run in a child process with a timeout (30 s, or WEIGHTREEL_CHECK_TIMEOUT seconds) and a
    3 GiB address-space limit, so that a loop or a crash inside the HDF5 library on a damaged
    file costs the caller an error message, not its shell or its viewer.
    """
    path = os.fspath(path)
    check_path(path)
    timeout = check_timeout()
    command = [sys.executable, "-m", "weightreel.formats.trust", path]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, preexec_fn=_limit_memory,
                              env=_child_env())
    except subprocess.TimeoutExpired:
        raise CorruptRecordingError(
            path, f"the HDF5 library did not finish reading it in {timeout:g} s (the file is "
                  "damaged; WEIGHTREEL_CHECK_TIMEOUT sets this limit)") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == 0 and lines[-1:] == ["OK"]:
        return
    if done.returncode in (3, 4) and lines:
        raise RecordingError(path, lines[-1].removeprefix(f"{path}: "))
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name if -done.returncode in \
            signal.valid_signals() else str(-done.returncode)
        raise CorruptRecordingError(path, f"crashed the HDF5 library ({name}) while reading it "
                                          "(the file is damaged)")
    raise CorruptRecordingError(path, f"could not be checked (the checking process exited with "
                                      f"{done.returncode})")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("HDF5_PLUGIN_PATH", None)  # filters come from the library, never from a plugin
    return env
