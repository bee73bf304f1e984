"""User text as safe HTML: Markdown through an allow-list sanitiser."""
from __future__ import annotations

import nh3
from markupsafe import Markup

from ..domain.plaintext import MARKDOWN, links_as_text

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote",
                "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr"}


def markdown(text, links: bool = True) -> Markup:
    """Markdown as sanitised HTML (a `Localized` text too). Without `links` (HTML mails) a
    link is its text with the address after it in brackets, never a link."""
    if not text:
        return Markup("")
    tokens = MARKDOWN.parse(str(text))
    if not links:
        tokens = links_as_text(tokens)
    html = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # sanitised by nh3 above

