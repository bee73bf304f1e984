"""Load shedding on a real threaded server: beyond MAX_CONCURRENT_REQUESTS in progress a
request is refused at once with 503, Retry-After and a page in the person's language; the
probes and /metrics still answer; once the held request is done, requests go through again."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from innolab import create_app
from innolab.config import default_max_concurrent_requests
from innolab.extensions import db
from tests.client import serving


@pytest.fixture
def held(app):
    """A second app on the suite's database with a bound of one request in progress and a
    test-only view that stays in progress until the test lets it go; served by a threaded
    werkzeug server (a thread per request, as gunicorn's threads)."""
    entered, release = threading.Event(), threading.Event()
    bounded = create_app({
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "MAX_CONCURRENT_REQUESTS": 1,
    })

    @bounded.get("/_test/hold")
    def _hold():
        entered.set()
        release.wait(20)
        return "fertig"

    with serving(bounded, threaded=True) as url:
        yield url, entered, release
        release.set()
    with bounded.app_context():
        db.engine.dispose()


def _hold_one(url, entered):
    answers = {}
    thread = threading.Thread(
        target=lambda: answers.setdefault("held", requests.get(f"{url}/_test/hold", timeout=30)))
    thread.start()
    assert entered.wait(10), "the held request never started"
    return thread, answers


def _wait_for_metric(url, line, seconds=5.0):
    deadline = time.monotonic() + seconds
    while line not in requests.get(f"{url}/metrics", timeout=10).text:
        assert time.monotonic() < deadline, f"/metrics never showed {line!r}"
        time.sleep(0.05)


def test_beyond_the_bound_a_request_is_refused_at_once_in_the_users_language(held):
    url, entered, release = held
    thread, answers = _hold_one(url, entered)

    started = time.monotonic()
    refused = requests.get(f"{url}/", timeout=10)
    took = time.monotonic() - started
    assert refused.status_code == 503
    assert took < 1.0, f"a refusal must not wait (took {took:.2f} s)"
    assert refused.headers["Retry-After"] == "5"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Content-Language"] == "de"
    assert "default-src" in refused.headers["Content-Security-Policy"]
    assert len(refused.headers["X-Request-ID"]) >= 8
    assert "Set-Cookie" not in refused.headers
    page = refused.text
    assert '<html lang="de">' in page
    assert "<h1 class=\"kern-heading-large\">Vorübergehend nicht verfügbar</h1>" in page
    assert "Die Plattform ist gerade stark ausgelastet" in page
    assert "nichts gespeichert" in page

    english = requests.get(f"{url}/challenges", headers={"Accept-Language": "en-GB,en;q=0.9"},
                           timeout=10)
    assert english.status_code == 503 and english.headers["Content-Language"] == "en"
    assert '<html lang="en">' in english.text
    assert "The platform is very busy right now" in english.text
    by_cookie = requests.get(f"{url}/", cookies={"lang": "en"},
                             headers={"Accept-Language": "de"}, timeout=10)
    assert "The platform is very busy right now" in by_cookie.text

    # a form sent now is refused the same way (nothing of it is read or saved)
    posted = requests.post(f"{url}/login", data={"email": "a@example.org"}, timeout=10)
    assert posted.status_code == 503 and "nichts gespeichert" in posted.text

    api = requests.get(f"{url}/api/v1/pilots", timeout=10)
    assert api.status_code == 503
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 503

    # the probes and the metrics are never refused
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    ready = requests.get(f"{url}/readyz", timeout=10)
    assert ready.headers["Content-Type"].startswith("application/json")  # its own answer
    metrics = requests.get(f"{url}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert "innolab_http_requests_shed_total 5.0" in metrics.text
    assert "innolab_http_requests_in_progress 1.0" in metrics.text
    assert "innolab_http_requests_in_progress_limit 1.0" in metrics.text

    release.set()
    thread.join(10)
    assert answers["held"].status_code == 200 and answers["held"].text == "fertig"
    # the held request counts until the server has closed its response, which may come a
    # moment after the client has read it: wait (at most 5 s) until the slot is free
    _wait_for_metric(url, "innolab_http_requests_in_progress 0.0")
    again = requests.get(f"{url}/", timeout=10)
    assert again.status_code == 200 and "Retry-After" not in again.headers
    after = requests.get(f"{url}/metrics", timeout=10).text
    assert "innolab_http_requests_in_progress 0.0" in after
    assert "innolab_http_requests_shed_total 5.0" in after


def test_without_a_bound_nothing_is_refused(app):
    # the suite's app: not run by gunicorn, so no thread count and no bound
    assert app.config["MAX_CONCURRENT_REQUESTS"] == 0
    entered = [threading.Event(), threading.Event()]
    release = threading.Event()
    unbounded = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": False, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]})

    @unbounded.get("/_test/hold/<int:n>")
    def _hold(n):
        entered[n].set()
        release.wait(20)
        return "fertig"

    with serving(unbounded, threaded=True) as url:
        threads = [threading.Thread(target=requests.get, args=(f"{url}/_test/hold/{n}",),
                                    kwargs={"timeout": 30}) for n in (0, 1)]
        for t in threads:
            t.start()
        try:
            assert entered[0].wait(10) and entered[1].wait(10)
            assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        finally:
            release.set()
            for t in threads:
                t.join(10)
    with unbounded.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("threads", "bound"), [
    (None, 0), ("1", 0), ("2", 1), ("4", 3), ("8", 6), ("16", 12)])
def test_the_default_bound_keeps_a_quarter_of_the_threads_free(monkeypatch, threads, bound):
    if threads is None:
        monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_THREADS", threads)
    assert default_max_concurrent_requests() == bound
