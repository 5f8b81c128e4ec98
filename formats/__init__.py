"""The weightreel recording format: writer, lazy reader and validator (see SPEC.md).

This package imports only numpy and h5py: it is the contract between recorder and viewer.
"""

from ._float16 import Float16OverflowWarning
from ._layout import FORMAT_VERSION, QUANTILES, SUMMARY_COLUMNS
from ._text import printable
from .errors import (
    CorruptRecordingError,
    MissingColumnError,
    NotARecordingError,
    RecordingError,
    RecordingIndexError,
    UnknownVariableError,
    UnsafeRecordingError,
    UnsupportedVersionError,
    WriterLockedError,
)
from .reader import Recording, VariableInfo, open_recording
from .trust import check_untrusted
from .validate import validate
from .writer import RecordingWriter, VariableSpec

__all__ = [
    "FORMAT_VERSION",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "CorruptRecordingError",
    "Float16OverflowWarning",
    "MissingColumnError",
    "NotARecordingError",
    "Recording",
    "RecordingError",
    "RecordingIndexError",
    "RecordingWriter",
    "UnknownVariableError",
    "UnsafeRecordingError",
    "UnsupportedVersionError",
    "VariableInfo",
    "VariableSpec",
    "WriterLockedError",
    "check_untrusted",
    "open_recording",
    "printable",
    "validate",
]
