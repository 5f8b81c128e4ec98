"""The bounds a recording's claims must keep before any of its data is read (SPEC.md)."""

from __future__ import annotations

import os

from .._layout import MAX_DOCUMENT_BYTES  # noqa: F401 - one of the bounds

MAX_CHUNK_BYTES = 32 << 20  # one chunk is read whole: a larger one is refused
SLACK_BYTES = 1 << 20  # what small files may claim beyond their size (headers, fill values)
COMPRESSED_RATIO = 256  # a compressed dataset may claim at most this many times the file size
MAX_OBJECTS = 100_000  # links walked before the file is refused
ALLOWED_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}
COMPRESSING_FILTERS = (1, 32000)
CHECK_TIMEOUT_S = 30.0  # the child process that makes the first reads
CHECK_MEMORY_BYTES = 3 << 30  # its address-space limit


def check_timeout() -> float:
    """The child check's timeout in seconds (WEIGHTREEL_CHECK_TIMEOUT overrides it)."""
    try:
        value = float(os.environ.get("WEIGHTREEL_CHECK_TIMEOUT", CHECK_TIMEOUT_S))
    except ValueError:
        return CHECK_TIMEOUT_S
    return value if value > 0 else CHECK_TIMEOUT_S


def byte_budget(file_size: int, compressed: bool) -> int:
    """The most bytes one dataset may claim in a file of `file_size` bytes."""
    return (COMPRESSED_RATIO if compressed else 1) * file_size + SLACK_BYTES
