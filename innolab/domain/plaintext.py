"""Single-line text such as names and titles: what it may not contain, and a clean copy of it.

Names and titles end up in places that are one line by definition – the subject of a mail, a
display name, a page title. A line break there can start a new mail header; a bidi override
(U+202A–U+202E, U+2066–U+2069) makes text read differently from what it is. Forms refuse both
(`innolab.web.forms.single_line`); the mailer cleans whatever reaches a header anyway, so old
rows cannot do harm either.

A name or title is also never an address: text someone typed as their name ends up in a mail
the platform sends to somebody else ("bestätigen Sie sofort unter https://…"), and a mail
program makes any address in it a link. `has_address` finds web addresses (`https://…`,
`www.…`) and domain-like words (`beispiel.de`, also with look-alike dots and full-width
letters); forms refuse them (`innolab.web.forms.plain_name`), `clean_name` drops them from a
name that comes from elsewhere (an identity provider), and `without_addresses` replaces them
in old rows before they are mailed.
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

# Full stops a mail program or a browser may take for the dot of a domain.
_DOT = "[.\u3002\uff0e\uff61]"
# The rest of an address: up to white space, a quotation mark or a bracket, and without the
# punctuation that ends the sentence around it.
_STOP = "\\s<>\"'„“”‚‘’«»‹›()\\[\\]{}"
_REST = f"(?:[^{_STOP}]*[^{_STOP}.,;:!?])?"
ADDRESS = re.compile(
    rf"[a-z][a-z0-9+.-]*:/+{_REST}"                   # https://…, ftp:/…
    rf"|\bwww{_DOT}{_REST}"                          # www.…
    rf"|(?<![\w-])(?:[^\W_](?:[\w-]*[^\W_])?{_DOT})+"  # labels and their dots …
    r"(?:[a-z]{2,24}|xn--[a-z0-9-]+)(?![\w-])"       # … and a top-level domain
    rf"(?:[:/?#]{_REST})?",                           # a port, path or query after it
    re.IGNORECASE)


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


def _comparable(text: str) -> str:
    """What an address check looks at: full-width and other compatibility forms as their plain
    letters, invisible format characters (zero-width space, soft hyphen …) gone."""
    text = unicodedata.normalize("NFKC", str(text))
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def has_address(text) -> bool:
    """Whether `text` holds a web address or a domain-like word (see ADDRESS)."""
    return bool(ADDRESS.search(_comparable(text or "")))


def without_addresses(text, marker: str) -> str:
    """`text` on one line with every web address and domain-like word replaced by `marker`."""
    return single_line(ADDRESS.sub(marker, _comparable(single_line(text))))


_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}|<\s*>")


def clean_name(text, max_length: int | None = None) -> str:
    """A name from elsewhere (an identity provider) made fit for a name field: one line,
    without control characters, bidi overrides, addresses; "" when nothing is left."""
    return single_line(_EMPTY_BRACKETS.sub(" ", without_addresses(text, " ")), max_length)

