"""Log lines that cannot be forged: control characters from a request are escaped.

A path such as ``/x%0d%0a2026-01-01 INFO innolab: Anmeldung erfolgreich`` would otherwise
put a second, made-up line into the application log. Every log record of the process is
cleaned when it is made (a log record factory), so the escaping holds for every handler,
gunicorn's and the test's included: CR, LF and the other control characters (also DEL, the
C1 range and the Unicode line and paragraph separators and bidi controls) become ``\\r``,
``\\n`` or ``\\xNN``/``\\uNNNN``. Tracebacks (``exc_info``) keep their lines.
"""
from __future__ import annotations

import logging
import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def escape(text: str) -> str:
    """`text` with every control character written as an escape sequence."""
    def _one(match: re.Match) -> str:
        char = match.group(0)
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(_one, text)


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging's own error report
        return record
    if _UNSAFE.search(message):
        record.msg, record.args = escape(message), None
    return record


_installed = False


def install() -> None:
    """Clean every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _clean(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
