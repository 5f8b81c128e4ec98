"""The weightreel recording format: writer, lazy reader and validator (see SPEC.md).

This package imports only numpy and h5py: it is the contract between recorder and viewer.
"""

from ._layout import FORMAT_VERSION, QUANTILES, SUMMARY_COLUMNS
from .errors import (
    CorruptRecordingError,
    MissingColumnError,
    NotARecordingError,
    RecordingError,
    UnsupportedVersionError,
    WriterLockedError,
)
from .reader import Recording, VariableInfo, open_recording
from .validate import validate
from .writer import RecordingWriter, VariableSpec

__all__ = [
    "FORMAT_VERSION",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "CorruptRecordingError",
    "MissingColumnError",
    "NotARecordingError",
    "Recording",
    "RecordingError",
    "RecordingWriter",
    "UnsupportedVersionError",
    "VariableInfo",
    "VariableSpec",
    "WriterLockedError",
    "open_recording",
    "validate",
]
