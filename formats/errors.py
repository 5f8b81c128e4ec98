"""Errors raised for files that cannot be read or written as weightreel recordings."""

from __future__ import annotations

import os


class RecordingError(Exception):
    """A file could not be read or written as a recording.

    The message is one line that names the file and what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{self.path}: {problem}")


class NotARecordingError(RecordingError):
    """The file is readable but is not a weightreel recording."""


class UnsupportedVersionError(RecordingError):
    """The recording's major format version is newer than this weightreel reads."""


class CorruptRecordingError(RecordingError):
    """The file is truncated, damaged, or misses datasets that the format requires."""


class WriterLockedError(RecordingError):
    """Another writer holds the file."""


class MissingColumnError(RecordingError):
    """The recording has no such summary column (e.g. `update_norm` in a format 1.0 file)."""
