"""Where a new recording lives before it has its name, and how it gets it.

A new recording is created unnamed (O_TMPFILE) in its target folder and linked into place at
its first commit: a writer killed before then leaves nothing behind, and an old recording is
replaced only by one that holds committed steps. Where the file system has no O_TMPFILE, the
file is created as `<target>.<pid>-<n>.tmp`; such leftovers of dead processes are removed
when the next recording is created beside them.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re

_TMP_NUMBERS = itertools.count()
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}


def open_new(target: str) -> tuple[int, str | None]:
    """A descriptor for a new, empty file in `target`'s folder, and its temporary name (None
    for an unnamed file). Raises OSError."""
    folder = os.path.dirname(target) or "."
    remove_leftovers(target)
    flag = getattr(os, "O_TMPFILE", 0)
    if flag:
        try:
            return os.open(folder, flag | os.O_RDWR, 0o666), None
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
    tmp = _side_name(target)
    return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), tmp


def give_name(fd: int, tmp: str | None, target: str) -> None:
    """Put the new file at `target`, replacing what is there, in one atomic step."""
    if tmp is not None:
        os.replace(tmp, target)
        return
    try:
        _link(fd, target)
    except FileExistsError:
        side = _side_name(target)
        _link(fd, side)
        try:
            os.replace(side, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(side)
            raise


def discard(tmp: str | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def remove_leftovers(target: str) -> None:
    """Remove `<target>.<pid>-<n>.tmp` files whose process no longer runs."""
    folder, base = os.path.split(target)
    pattern = re.compile(re.escape(base) + r"\.(\d+)-\d+\.tmp")
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for name in names:
        found = pattern.fullmatch(name)
        if found and not _alive(int(found.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _side_name(target: str) -> str:
    return f"{target}.{os.getpid()}-{next(_TMP_NUMBERS)}.tmp"


def _link(fd: int, path: str) -> None:
    # os.link(src, dst) without dir fds calls link(2), which does not follow the /proc
    # symlink; with src_dir_fd it calls linkat(2) with AT_SYMLINK_FOLLOW.
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)
