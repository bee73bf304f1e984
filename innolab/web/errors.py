"""Error pages: a clear message in the user's language, never a bare 500."""
from __future__ import annotations

import logging

from flask import g, redirect, render_template, request
from innolab.i18n import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, SecurityError

from ..extensions import db
from ..logsafe import escape
from flask_login import current_user
from ..domain import audit
from ..domain.storage import StorageUnavailable
from .input_checks import REFUSED_CHARACTER, RefusedCharacter
from . import page_of_action

log = logging.getLogger("innolab.errors")
security_log = logging.getLogger("innolab.security")

TITLES = {
    400: _l("Ungültige Anfrage"),
    403: _l("Zugriff verweigert"),
    404: _l("Seite nicht gefunden"),
    405: _l("Aktion nicht möglich"),
    409: _l("Gleichzeitig geändert"),
    413: _l("Datei zu groß"),
    429: _l("Zu viele Anfragen"),
    500: _l("Interner Fehler"),
    503: _l("Vorübergehend nicht verfügbar"),
}

TEXTS = {
    400: _l("Die Anfrage konnte nicht verarbeitet werden. Bitte versuchen Sie es erneut."),
    403: _l("Sie haben keine Berechtigung für diese Seite oder Aktion."),
    404: _l("Die Seite gibt es nicht oder sie ist nicht öffentlich."),
    405: _l("Diese Aktion ist auf diesem Weg nicht möglich."),
    409: _l("Jemand anderes hat diesen Datensatz im selben Moment geändert. Es wurde nichts "
            "gespeichert. Bitte laden Sie die Seite neu und versuchen Sie es erneut."),
    413: _l("Die hochgeladene Datei ist größer als erlaubt."),
    429: _l("Sie haben zu viele Anfragen in kurzer Zeit gesendet. Bitte warten Sie einen "
            "Moment und versuchen Sie es dann erneut."),
    500: _l("Es ist ein Fehler aufgetreten. Er wurde protokolliert; bitte versuchen Sie es "
            "später erneut."),
    503: _l("Dieser Teil der Plattform ist gerade nicht erreichbar. Bitte versuchen Sie es in "
            "einigen Minuten erneut."),
}

STORAGE_AWAY = _l("Der Dateispeicher antwortet gerade nicht, deshalb kann die Datei nicht "
                  "geladen werden. Es ist nichts verloren gegangen.")
STORAGE_RETRY_AFTER_SECONDS = 60

# More requests in progress than MAX_CONCURRENT_REQUESTS (web/shedding.py).
OVERLOADED = _l("Die Plattform ist gerade stark ausgelastet. Ihre Anfrage wurde nicht "
                "bearbeitet und nichts gespeichert. Bitte versuchen Sie es in einigen Sekunden "
                "erneut.")

# The database cancelled the statement: over DB_STATEMENT_TIMEOUT_MS (query_canceled) or
# waiting for a lock longer than DB_LOCK_TIMEOUT_MS (lock_not_available).
TIMED_OUT_SQLSTATES = frozenset({"57014", "55P03"})
TIMED_OUT = _l("Die Anfrage hat zu lange gedauert und wurde abgebrochen; es wurde nichts "
               "gespeichert. Bitte versuchen Sie es in einem Moment erneut. Wenn es wieder "
               "geschieht, wenden Sie sich bitte an uns.")
TIMED_OUT_RETRY_AFTER_SECONDS = 5


def timed_out(exc: BaseException) -> bool:
    """Did the database cancel the statement for one of its time limits?"""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TIMED_OUT_SQLSTATES


def _page(code: int, detail=None, text=None):
    return render_template("errors/error.html", code=code, title=TITLES.get(code, TITLES[500]),
                           text=text or TEXTS.get(code, TEXTS[500]), detail=detail,
                           request_id=g.get("request_id")), code


def security_event(action: str, **details) -> None:
    """Record `security.<action>` for this request in the audit log and the log.

    Called from error handlers: whatever the request changed is rolled back first (it was
    never going to be committed), the event is committed on its own. It never fails the
    answer."""


    path = escape(request.path)[:300]
    try:
        db.session.rollback()
        actor = current_user._get_current_object() if current_user.is_authenticated else None
        audit.record(actor, f"security.{action}", None, method=request.method, path=path,
                     **details)
        db.session.commit()
    except Exception:  # the page must still answer, the log still tells
        db.session.rollback()
        log.exception("Security event %s could not be recorded", action)
    security_log.warning("security.%s %s %s %s", action, request.method, path,
                         " ".join(f"{k}={v}" for k, v in details.items()))


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        security_event("csrf_failed", reason=str(exc.description)[:200])
        return _page(400, _l("Das Formular ist abgelaufen oder wurde nicht von dieser Seite "
                             "gesendet. Bitte laden Sie die Seite neu und senden Sie es "
                             "erneut."))

    @app.errorhandler(SecurityError)
    def _untrusted_host(exc):
        # The Host header is not among TRUSTED_HOSTS: no page can be built (every link would
        # need that host), so answer plainly.
        return "400 Bad Request: untrusted host", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(RefusedCharacter)
    def _refused_character(exc):
        # NUL or a lone surrogate somewhere in the request (web/input_checks.py): the page
        # says what to do; the open data API answers as its other errors (problem+json).
        if request.path.startswith("/api/"):
            body = {"type": "about:blank", "title": "Bad Request", "status": 400,
                    "detail": "The request contains a character that cannot be stored "
                              "(a NUL byte or a lone surrogate)."}
            return body, 400, {"Content-Type": "application/problem+json"}
        return _page(400, REFUSED_CHARACTER)

    @app.errorhandler(StaleDataError)
    def _overtaken(exc):
        # A versioned record changed between reading and saving, outside an edit form
        # (those show domain.editing.EditConflict), e.g. a workflow move at the same moment.
        db.session.rollback()
        log.info("Concurrent change refused on %s %s: %s", request.method, request.path, exc)
        return _page(409)

    @app.errorhandler(StorageUnavailable)
    def _storage_away(exc):
        # S3 (or the upload folder) does not answer: a page that says so, never a 500.
        db.session.rollback()
        log.error("Storage unavailable on %s %s: %s", request.method, escape(request.path),
                  exc)
        body, code = _page(503, STORAGE_AWAY)
        return body, code, {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        if code == 405 and request.method in ("GET", "HEAD"):
            # a reload of (or a link to) an action's address: to the page it belongs to
            page = page_of_action(request.path)
            if page is not None:
                return redirect(page, code=303)
        if code not in TITLES:
            return exc
        if code == 403:
            security_event("forbidden")
        elif code == 429:
            security_event("rate_limited", limit=str(getattr(exc, "description", ""))[:100])
        own = code == 403 and exc.description != type(exc).description
        detail = exc.description if own else None
        return _page(code, detail)

    @app.errorhandler(OperationalError)
    def _database(exc: OperationalError):
        if not timed_out(exc):
            return _unexpected(exc)
        db.session.rollback()
        cause = exc.orig
        log.warning("Database statement cancelled on %s %s (%s): %s", request.method,
                    request.path, getattr(cause, "sqlstate", ""),
                    (str(cause).splitlines() or [""])[0][:200])
        page, code = _page(503, text=TIMED_OUT)
        return page, code, {"Retry-After": str(TIMED_OUT_RETRY_AFTER_SECONDS)}

    @app.errorhandler(Exception)
    def _unexpected(exc):
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _page(500)
