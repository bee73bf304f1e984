"""Helpers of the auth tests: links in mails, the visible text of a page, signing in."""
from __future__ import annotations

import re
from urllib.parse import urlsplit


URL = re.compile(r"https?://\S+")


def link_in(mail, path_prefix: str) -> str:
    """The path (and query) of the link in `mail` that starts with `path_prefix`."""
    for url in URL.findall(mail.body_text):
        parts = urlsplit(url)
        if parts.path.startswith(path_prefix):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link to {path_prefix} in:\n{mail.body_text}")


def page_text(response) -> str:
    """The visible text of <main>, whitespace collapsed (no tokens, no markup)."""
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)
    return re.sub(r"\s+", " ", text).strip()


def csrf_token_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})
