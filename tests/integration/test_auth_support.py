"""Helpers for the auth tests (no tests in here).

`client` is replaced by one whose every request runs in a context of its own, as on a real
server. With the shared test client, a request reuses the app context the test pushed
(`app_ctx`), so `g` – where Flask-Login caches the signed-in user and Flask-Babel the
locale – would survive from one request to the next, and a replayed or missing cookie could
not be tested honestly.
"""
from __future__ import annotations

import contextvars
import re
from urllib.parse import urlsplit

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

from innolab.extensions import db


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters: real ones cost most of a second per hash on a busy machine.

    The code paths stay the same (argon2 hash, verify, dummy hash for unknown users).
    """
    from argon2 import PasswordHasher

    from innolab.domain import accounts
    from tests import factories

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))
    monkeypatch.setattr(factories, "_HASH", cheap.hash(factories.PASSWORD))


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test sees what the request committed
        return response


@pytest.fixture
def client(app):
    return IsolatedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def new_client(app):
    """Another browser."""
    return lambda: IsolatedClient(app, app.response_class, use_cookies=True)


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
