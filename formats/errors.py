"""Errors raised for files that cannot be read or written as weightreel recordings."""

from __future__ import annotations

import os

from ._text import printable


class RecordingError(Exception):
    """A file could not be read or written as a recording.

    The message is one line that names the file and what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = printable(problem)  # file text may hold newlines or escape sequences
        shown = self.problem if path is None else f"{printable(self.path)}: {self.problem}"
        super().__init__(shown)


class NotARecordingError(RecordingError):
    """The file is readable but is not a weightreel recording."""


class UnsupportedVersionError(RecordingError):
    """The recording's major format version is newer than this weightreel reads."""


class CorruptRecordingError(RecordingError):
    """The file is truncated, damaged, or misses datasets that the format requires."""


class WriterLockedError(RecordingError):
    """Another writer holds the file."""


class UnsafeRecordingError(CorruptRecordingError):
    """The file reaches outside itself (links, external storage, virtual datasets), uses a filter
    the format does not allow, or claims more data than its size can hold."""


class RecordingIndexError(RecordingError, IndexError):
    """A timeline position or element index out of range."""


class UnknownVariableError(RecordingError, KeyError):
    """No variable or scalar of that name in the recording."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class MissingColumnError(RecordingError):
    """The recording has no such summary column (e.g. `update_norm` in a format 1.0 file)."""
