"""Requests at the same moment through a real server: the test app served by werkzeug in
threads, against the test database (SQLite by default, PostgreSQL with TEST_DATABASE_URL).

`signed_in(user)` gives a `requests` session that signed in through the login form;
`at_once(*calls)` runs the calls in threads released together by a barrier.
"""
from __future__ import annotations

import re
import threading

import pytest
import requests

from tests import factories


@pytest.fixture(scope="session")
def server(app):
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="concurrency-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


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
