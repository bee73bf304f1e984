"""Load shedding: a bound on the requests one process works on at once.

Beyond MAX_CONCURRENT_REQUESTS requests in progress in this process, a further request is
refused at once – never queued – with `503`, `Retry-After` and a short page in the person's
language ("stark ausgelastet … nichts gespeichert"). A person then waits a few seconds
instead of a minute for a timeout, and the requests already admitted finish in their normal
time instead of all slowing down together. The probes (`/healthz`, `/readyz`) and
`/metrics` always pass: a busy process is not a dead one, and its numbers matter most then.

It is WSGI middleware around the whole app, so a refused request costs no session lookup,
no database and no template (each language's page is rendered once and kept). The request
counts as in progress until its response is sent to the end (its iterable closed), which is
when the thread serving it is free again. Each refusal counts in
`innolab_http_requests_shed_total`; `innolab_http_requests_in_progress` shows how many are
being worked on (docs/operations.md).

For the bound to refuse anything, the process must have more threads than the bound: with
gunicorn's threaded workers a request waits for a free thread before any Python code sees
it. gunicorn.conf.py gives each worker GUNICORN_THREADS threads, and the default bound
keeps a quarter of them free (config.default_max_concurrent_requests).
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time

from flask import Flask, render_template
from flask_babel import force_locale
from prometheus_client import Counter, Gauge
from werkzeug.wrappers import Request
from werkzeug.wsgi import ClosingIterator

from .errors import OVERLOADED, TITLES
from .observability import REGISTRY_KEY, REQUEST_ID_HEADER
from .security import CSP

log = logging.getLogger("innolab.shedding")

# Never refused: the probes and the metrics.
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 5
LOG_EVERY_SECONDS = 10  # one warning line at most this often, with the count since the last
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class LoadShedder:
    """WSGI middleware: admit at most `limit` requests at once (0: all), refuse the rest."""

    def __init__(self, app: Flask, wsgi_app, limit: int) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.limit = max(0, int(limit))
        self.in_progress = 0
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str], bytes] = {}
        self._unlogged = 0
        self._logged_at = float("-inf")
        registry = app.extensions[REGISTRY_KEY]
        self.shed = Counter(
            "innolab_http_requests_shed_total",
            "Requests refused at once (503) because MAX_CONCURRENT_REQUESTS were in progress",
            registry=registry)
        Gauge("innolab_http_requests_in_progress", "Requests this process is working on",
              registry=registry).set_function(lambda: self.in_progress)
        Gauge("innolab_http_requests_in_progress_limit",
              "MAX_CONCURRENT_REQUESTS of this process (0: no bound)",
              registry=registry).set(self.limit)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in EXEMPT:
            return self.wsgi_app(environ, start_response)
        with self._lock:
            admitted = not self.limit or self.in_progress < self.limit
            if admitted:
                self.in_progress += 1
        if not admitted:
            return self._refuse(environ, start_response)
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            self._release()
            raise
        return ClosingIterator(body, self._release)

    def _release(self) -> None:
        with self._lock:
            self.in_progress -= 1

    # ------------------------------------------------------------ the refusal

    def _refuse(self, environ, start_response):
        self.shed.inc()
        self._note()
        request = Request(environ)
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else secrets.token_hex(8)
        locale = self._locale(request)
        if request.path.startswith("/api/"):
            body = json.dumps({"type": "about:blank", "title": "Service Unavailable",
                               "status": 503, "detail": "Too many requests in progress; "
                               f"try again in {RETRY_AFTER_SECONDS} seconds."}).encode()
            content_type = "application/problem+json"
        else:
            body = self._page(locale, environ)
            content_type = "text/html; charset=utf-8"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ("Cache-Control", "no-store"),
            ("Content-Language", locale),
            ("Vary", "Accept-Language, Cookie"),
            (REQUEST_ID_HEADER, request_id),
            # as web/security.py sets them on every answer of the app
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
        ]
        if self.app.config.get("SESSION_COOKIE_SECURE"):
            headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
        start_response("503 SERVICE UNAVAILABLE", headers)
        return [body]

    def _locale(self, request: Request) -> str:
        """The language as the app chooses it (innolab._select_locale), without what needs
        the database (the signed-in account's language; its sign-in set the `lang` cookie)."""
        languages = self.app.config["LANGUAGES"]
        for chosen in (request.args.get("lang"), request.cookies.get("lang")):
            if chosen in languages:
                return str(chosen)
        return str(request.accept_languages.best_match(languages)
                    or self.app.config["BABEL_DEFAULT_LOCALE"])

    def _page(self, locale: str, environ) -> bytes:
        key = (locale, environ.get("SCRIPT_NAME", ""))
        page = self._pages.get(key)
        if page is not None:
            return page
        try:
            with self.app.request_context(environ), force_locale(locale):
                page = render_template("errors/overloaded.html", locale=locale,
                                       title=TITLES[503], text=OVERLOADED).encode()
        except Exception:  # noqa: BLE001 - e.g. a Host not among TRUSTED_HOSTS: plain text
            return (f"503 Service Unavailable: try again in {RETRY_AFTER_SECONDS} seconds.\n"
                    .encode())
        self._pages[key] = page
        return page

    def _note(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._unlogged += 1
            if now - self._logged_at < LOG_EVERY_SECONDS:
                return
            count, self._unlogged, self._logged_at = self._unlogged, 0, now
            in_progress = self.in_progress
        log.warning("Load shedding: %d request(s) refused with 503 since the last such line; "
                    "%d of at most %d in progress (MAX_CONCURRENT_REQUESTS)",
                    count, in_progress, self.limit)


def init_app(app: Flask) -> None:
    """Wrap the app (outside every other middleware, so a refusal costs the least)."""
    app.wsgi_app = LoadShedder(  # type: ignore[method-assign]
        app, app.wsgi_app, app.config.get("MAX_CONCURRENT_REQUESTS") or 0)
