"""Text from a file, made safe to print: a recording is untrusted input."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: any of them can move
# the cursor, set a terminal's title, clear the screen or start a forged line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}.get(match.group())
    return named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object) -> str:
    """`text` as one line: control characters (newlines included) shown as escapes."""
    return _CONTROL.sub(_escape, str(text))


def printable_lines(text: str) -> str:
    """Several lines of our own making: each line's file text escaped, newlines kept."""
    return "\n".join(printable(line) for line in text.split("\n"))
