"""How failures are put into words for people: one line, no library internals.

`internal_error(err)` describes an exception nobody expected (a bug, or an input a stage
cannot take) as `internal error (ExcType: short message)`; OpenCV's multi-line
assertion text is reduced to the function that failed. `printable(path)` is a file
name as one printable line, whatever bytes it holds.
"""
from __future__ import annotations

import os
import re

_CV_FUNCTION = re.compile(r"in function '([^']+)'")


def short_message(err: BaseException, limit: int = 120) -> str:
    text = str(err).strip()
    if type(err).__module__.startswith('cv2'):
        found = _CV_FUNCTION.search(text)
        return f'image operation {found.group(1)!r} failed' if found else 'image operation failed'
    if isinstance(err, MemoryError):
        return 'out of memory'
    first = text.splitlines()[0] if text else ''
    return first[:limit]


def internal_error(err: BaseException) -> str:
    message = short_message(err)
    module = type(err).__module__.split('.')[0]
    name = f'{module}.{type(err).__name__}' if module == 'cv2' else type(err).__name__
    return f'internal error ({name}: {message})' if message else f'internal error ({name})'


def printable(path: str) -> str:
    """`path` for a terminal or a log line: bytes that are not UTF-8 (kept by Python
    as surrogates) as \\xNN, control characters (a newline in a name) as escapes."""
    text = os.fsencode(path).decode('utf-8', 'backslashreplace')
    return ''.join(c if c.isprintable() or c == ' ' else repr(c)[1:-1] for c in text)


def display_name(path: str) -> str:
    """A file name as valid UTF-8 text for JSON: undecodable bytes become U+FFFD."""
    return os.fsencode(path).decode('utf-8', 'replace')
