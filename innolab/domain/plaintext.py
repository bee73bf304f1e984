"""Single-line text such as names and titles: what it may not contain, and a clean copy of it.

Names and titles end up in places that are one line by definition – the subject of a mail, a
display name, a page title. A line break there can start a new mail header; a bidi override
(U+202A–U+202E, U+2066–U+2069) makes text read differently from what it is. Forms refuse both
(`innolab.web.forms.single_line`); the mailer cleans whatever reaches a header anyway, so old
rows cannot do harm either.
"""
from __future__ import annotations

import re
import unicodedata

# Explicit direction embeddings/overrides/isolates; the marks (LRM, RLM) stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line and paragraph separators break lines for str.splitlines() too.
LINE_SEPARATORS = frozenset("\u2028\u2029")


def is_forbidden(char: str) -> bool:
    """A control character (Unicode category Cc, e.g. CR, LF, TAB, NUL), a line separator or a
    bidi override/isolate."""
    return (unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS
            or char in LINE_SEPARATORS)


def has_forbidden(text: str) -> bool:
    return any(is_forbidden(c) for c in text)


_SPACES = re.compile(r"\s+")


def single_line(text, max_length: int | None = None) -> str:
    """`text` on one line: bidi overrides are dropped, every other forbidden character becomes a
    space, runs of white space one space, no white space at either end; at most `max_length`
    characters (an ellipsis marks the cut)."""
    text = str(text if text is not None else "")
    cleaned = "".join("" if c in BIDI_CONTROLS else " " if is_forbidden(c) else c for c in text)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if max_length is not None and len(cleaned) > max_length:
        cleaned = cleaned[:max_length - 1].rstrip() + "…"
    return cleaned
