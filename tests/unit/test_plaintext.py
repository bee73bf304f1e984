"""Single-line text: which characters a name or title may not hold, and the clean copy."""
from __future__ import annotations

import pytest

from innolab.domain.plaintext import excerpt, from_markdown, has_forbidden, single_line


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


# ---------------------------------------------------------------- Markdown as plain text

MARKDOWN = """# Worum es geht

Ein **fetter** und *schräger* Text mit [einem Link](https://example.org/a) und `Code`.
Die zweite Zeile.

- erstens
- zweitens
  1. a
  2. b

| Ziel | Wert |
|------|------|
| Zeit | 7 Tage |

> Zitat &amp; mehr ![Bild](https://example.org/b.png)

```
x = 1
```"""


def test_markdown_becomes_readable_text_without_its_marks():
    text = from_markdown(MARKDOWN)
    assert text == ("Worum es geht\n\n"
                    "Ein fetter und schräger Text mit einem Link und Code.\nDie zweite Zeile.\n\n"
                    "- erstens\n- zweitens\n  1. a\n  2. b\n\n"
                    "Ziel | Wert\nZeit | 7 Tage\n\n"
                    "Zitat & mehr Bild\n\n"
                    "x = 1")
    for mark in ("**", "#", "](", "`", "|---", "&amp;"):
        assert mark not in text


def test_markdown_for_mails_keeps_the_addresses_of_links():
    text = from_markdown("Siehe [die Seite](https://example.org/a), <https://example.org/b> "
                         "und [Post](mailto:a@example.org).", links=True)
    assert text == ("Siehe die Seite (https://example.org/a), https://example.org/b "
                    "und Post (a@example.org).")


@pytest.mark.parametrize("value", [None, ""])
def test_no_markdown_is_no_text(value):
    assert from_markdown(value) == ""


@pytest.mark.parametrize("text, limit, cut", [
    ("eins zwei drei", 20, "eins zwei drei"),
    ("eins zwei drei", 9, "eins zwei …"),
    ("eins zwei drei", 11, "eins zwei …"),
    ("einWortOhneEnde", 5, "einWo …"),
    ("eins\nzwei drei", 7, "eins …"),
])
def test_excerpt_cuts_at_a_word(text, limit, cut):
    assert excerpt(text, limit) == cut
