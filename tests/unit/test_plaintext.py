"""Single-line text: which characters a name or title may not hold, and the clean copy."""
from __future__ import annotations

import pytest

from innolab.domain.plaintext import has_forbidden, single_line


@pytest.mark.parametrize("text", ["a\rb", "a\nb", "a\x00b", "a\tb", "a\x1bb", "a\x7fb", "a\x85b",
                                  "a\u2028b", *(f"a{chr(c)}b" for c in range(0x202A, 0x202F)),
                                  *(f"a{chr(c)}b" for c in range(0x2066, 0x206A))])
def test_control_characters_and_bidi_overrides_are_forbidden(text):
    assert has_forbidden(text)


@pytest.mark.parametrize("text", ["Müller-Lüdenscheidt & Söhne „Nord“ e. V.", "Ærø ß – €",
                                  "مرحبا", "a\u200fb", "Institut für digitale Verwaltung"])
def test_ordinary_names_in_any_script_are_allowed(text):
    assert not has_forbidden(text)


def test_single_line_joins_lines_drops_overrides_and_shortens():
    assert single_line("Meilenstein\r\nBcc: x@example.org\x00 ") == \
        "Meilenstein Bcc: x@example.org"
    assert single_line("Nord\u202elicht") == "Nordlicht"
    assert single_line("a" * 10, 5) == "aaaa…"
    assert single_line(None) == ""
