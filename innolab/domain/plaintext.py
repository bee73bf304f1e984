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

Texts that are Markdown (descriptions, summaries, messages) are shown as HTML through
`innolab.web.text.markdown`; where HTML cannot go or would be too much (cards, the summaries of
the Atom feeds, plain-text mails) `from_markdown` gives the same text readable without markup.
Both read Markdown with the one parser, `MARKDOWN`.
"""
from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt
from markdown_it.token import Token

# The Markdown users write: CommonMark with tables, no raw HTML, no bare links turned into links.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

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



# ---------------------------------------------------------------- Markdown as plain text


def link_as_text(href: str, label: str) -> str:
    """What follows a link's text where the link cannot be one: " (address)", or "" when the
    text is the address already (a mailto: link shows the address alone)."""
    shown = href[len("mailto:"):] if href.startswith("mailto:") else href
    return f" ({shown})" if shown and shown != label else ""


def links_as_text(tokens: list[Token]) -> list[Token]:
    """Parsed Markdown with every link replaced by its text and `link_as_text` (for HTML that
    must not link to what users typed: mails)."""
    for tok in tokens:
        if tok.type != "inline" or not tok.children:
            continue
        children: list[Token] = []
        hrefs: list[tuple[str, int]] = []
        for child in tok.children:
            if child.type == "link_open":
                hrefs.append((str(child.attrGet("href") or ""), len(children)))
            elif child.type == "link_close" and hrefs:
                href, start = hrefs.pop()
                label = "".join(c.content for c in children[start:])
                children.append(Token("text", "", 0, content=link_as_text(href, label)))
            else:
                children.append(child)
        tok.children = children
    return tokens


def _inline(children: list[Token] | None, links: bool) -> str:
    """The text of a paragraph, heading or cell: emphasis, code marks and link syntax gone;
    with `links`, a link's address after its text in brackets (unless it is the text)."""
    out: list[str] = []
    hrefs: list[tuple[str, int]] = []
    for tok in children or ():
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif tok.type == "image":
            out.append(tok.content)  # the alternative text
        elif tok.type == "link_open":
            hrefs.append((str(tok.attrGet("href") or ""), len(out)))
        elif tok.type == "link_close" and hrefs:
            href, start = hrefs.pop()
            if links:
                out.append(link_as_text(href, "".join(out[start:])))
    return "".join(out)


def from_markdown(text, *, links: bool = False) -> str:
    """Markdown as readable plain text: paragraphs and headings as lines with a blank line
    between them, list items with "-" or their number, table rows with " | " between the
    cells, code as it is; no `**`, `#`, `[…](…)` left. With `links` (mails) a link keeps its
    address: "Text (https://…)". Empty for None or ""."""
    if not text:
        return ""
    blocks: list[tuple[str, str]] = []    # (text, "list" | "row" | "block")
    lists: list[list] = []                # per open list: [ordered, next number]
    marker = ""
    row: list[str] | None = None
    for tok in MARKDOWN.parse(str(text)):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(tok.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open" and lists:
            ordered, number = lists[-1]
            lists[-1][1] = number + 1
            marker = "  " * (len(lists) - 1) + (f"{number}. " if ordered else "- ")
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            blocks.append((" | ".join(row), "row"))
            row = None
        elif kind == "inline":
            content = _inline(tok.children, links)
            if row is not None:
                row.append(content)
            else:
                blocks.append((marker + content, "list" if lists else "block"))
                marker = ""
        elif kind in ("code_block", "fence"):
            blocks.append((tok.content.rstrip("\n"), "list" if lists else "block"))
    out: list[str] = []
    for i, (block, group) in enumerate(blocks):
        if i:
            out.append("\n" if group != "block" and group == blocks[i - 1][1] else "\n\n")
        out.append(block)
    return "".join(out).strip()


def excerpt(text: str, max_chars: int) -> str:
    """`text` (plain) cut to at most `max_chars` characters at a word, with " …" after it."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars + 1]
    if head[-1].isspace():            # the cut falls between two words
        cut = head
    else:                             # drop the word cut through, unless it is the only one
        words = head.rsplit(None, 1)
        cut = words[0] if len(words) > 1 else head[:max_chars]
    return cut.rstrip() + " …"
