"""Treating a recording as untrusted input: it may not reach outside itself, claim more than
its size holds, or take the caller down with the HDF5 library (see SPEC.md, "Self-contained").

Modules: limits (the bounds), survey (every object from its headers), claims (counts against
extents and sizes), first_reads (what the child process reads), probe (check_untrusted).
"""

from .._layout import MAX_DOCUMENT_BYTES
from .claims import check_claims
from .probe import check_untrusted
from .survey import DatasetFacts, survey

__all__ = ["MAX_DOCUMENT_BYTES", "DatasetFacts", "check_claims", "check_untrusted", "survey"]
