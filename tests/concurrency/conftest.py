"""Requests at the same moment through a real server: the test app served by werkzeug in
threads, against the test database (SQLite by default, PostgreSQL with TEST_DATABASE_URL).

`signed_in(user)` gives a `requests` session that signed in through the login form;
`at_once(*calls)` runs the calls in threads released together by a barrier.
"""
from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import pytest
import requests

from tests import factories
from innolab.extensions import db
from innolab.models import Membership
from tests.client import serving


@pytest.fixture(scope="session")
def server(app):
    with serving(app, threaded=True) as url:
        yield url


@pytest.fixture
def signed_in(server, app_ctx):
    sessions = []

    def _signed_in(user) -> requests.Session:
        s = requests.Session()
        resp = s.post(server + "/login", data={"email": user.email, "password": factories.PASSWORD},
                      allow_redirects=False, timeout=30)
        assert resp.status_code in (302, 303), resp.text[:500]
        sessions.append(s)
        return s

    yield _signed_in
    for s in sessions:
        s.close()


@pytest.fixture
def at_once():
    def _at_once(*calls):
        barrier = threading.Barrier(len(calls))
        results: list = [None] * len(calls)

        def run(i, call):
            barrier.wait()
            try:
                results[i] = call()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        for r in results:
            if isinstance(r, Exception):
                raise r
        return results

    return _at_once


@pytest.fixture
def page_token(server):
    """page_token(session, path) -> the one-time token of the first form on that page."""

    def _token(session: requests.Session, path: str) -> str:
        html = session.get(server + path, timeout=30).text
        found = re.search(r'name="_once" value="([^"]+)"', html)
        assert found, f"no one-time token on {path}"
        return found.group(1)

    return _token


class _Forms(HTMLParser):
    """The forms of a page with what a browser would send for them (no button pressed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._field = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"].append((a["name"], a.get("value", "on")))
        elif tag == "textarea" and a.get("name"):
            self._field = [a["name"], ""]
            self.forms[-1]["fields"].append(self._field)
        elif tag == "select" and a.get("name"):
            self._field = None
            self.forms[-1]["fields"].append([a["name"], None])
        elif tag == "option" and self.forms[-1]["fields"] and \
                self.forms[-1]["fields"][-1][1] is None and "selected" in a:
            self.forms[-1]["fields"][-1][1] = a.get("value", "")

    def handle_data(self, data):
        if self._field is not None:
            self._field[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._field = None


@pytest.fixture
def form_of(server):
    """form_of(session, path, action_part) -> (url, fields) of the form on that page whose
    action contains `action_part`, filled as the page shows it (fields as a list of pairs)."""

    def _form(session: requests.Session, path: str, action_part: str):
        parser = _Forms()
        parser.feed(session.get(server + path, timeout=30).text)
        for form in parser.forms:
            if action_part in form["action"]:
                fields = [(k, v or "") for k, v in form["fields"] if v is not None]
                return server + form["action"], fields
        raise AssertionError(f"no form with {action_part!r} on {path}")

    return _form


@pytest.fixture
def two_owners(app_ctx):
    """An organisation with two owners, Olga and Otto: (org, olga, otto)."""

    olga, otto = factories.user(name="Olga"), factories.user(name="Otto")
    org = factories.organisation(owner=olga, name="Zwei Köpfe GmbH")
    db.session.add(Membership(organisation=org, user=otto, role="owner"))
    db.session.commit()
    return org, olga, otto
