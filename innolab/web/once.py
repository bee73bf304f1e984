"""A form sent twice has one effect: one-time tokens on every form that changes something.

Each form a signed-in person can send carries a hidden `_once` token, made new each time the
page is rendered (`once_field()` in templates, next to the CSRF token). The first post with a
token writes a receipt row in the same transaction as its effect; a unique index on the token
makes a second post with the same token (a double click, a resend, a reload) wait until the
first one is done. It then gets the first one's result page and messages instead of acting
again: no second timeline entry, mail or upload, and never a 500.

If the first post changed nothing (its view did not commit, or it answered with a form to
correct rather than a redirect), its receipt is gone and the second post runs as usual.
"""
from __future__ import annotations

import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import current_app, flash, g, has_request_context, request, session
from flask_login import current_user
from innolab.i18n import lazy_gettext as _l, reflash
from markupsafe import Markup
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import FormReceipt
from . import redirect_to, safe_next

FIELD = "_once"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
log = logging.getLogger("innolab.once")


def once_field() -> Markup:
    """The hidden input with a fresh one-time token (for templates)."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, secrets.token_urlsafe(18))


def init_app(app) -> None:
    app.jinja_env.globals["once_field"] = once_field
    app.before_request(_claim)
    app.after_request(_record)


@event.listens_for(Session, "after_commit")
def _note_commit(session) -> None:
    if has_request_context():
        g.innolab_committed = True


def _token() -> str | None:
    if request.method != "POST" or not getattr(current_user, "is_authenticated", False):
        return None
    token = request.form.get(FIELD, "")
    return token if _TOKEN.fullmatch(token) else None


def _claim():
    token = _token()
    if token is None:
        return None
    deadline = time.monotonic() + current_app.config.get("ONCE_WAIT_SECONDS", 15)
    for _attempt in range(5):
        db.session.add(FormReceipt(token=token, user_id=current_user.id,
                                   endpoint=request.endpoint))
        try:
            db.session.flush()
        except IntegrityError:
            # Another request with this token committed first (it waited for us on the index).
            db.session.rollback()
        else:
            g.innolab_once = token
            g.innolab_committed = False
            return None
        answer = _replay(token, deadline)
        if answer is not None:
            return answer
        # The first post ended without effect: its receipt is gone, so this one may act.
    log.warning("Could not claim the one-time token of a form post; it runs unguarded")
    return None


def _replay(token: str, deadline: float):
    """The first post's answer, once it is there; None when it is gone (no effect)."""
    while True:
        row = db.session.execute(
            select(FormReceipt.user_id, FormReceipt.location, FormReceipt.flashes)
            .where(FormReceipt.token == token)).first()
        db.session.rollback()  # hold no transaction while waiting
        if row is None:
            return None
        if row.user_id != current_user.id:
            return _answer(None, [])
        if row.location:
            return _answer(row.location, row.flashes or [])
        if time.monotonic() > deadline:
            return _answer(None, [])
        time.sleep(0.05)


def _answer(location: str | None, flashes: list):
    if location is None:
        flash(str(_l("Dieses Formular wurde bereits gesendet und wird noch bearbeitet. Bitte "
                     "laden Sie die Seite in einem Moment neu.")), "info")
        location = request.referrer if _same_site(request.referrer) else "/"
    else:
        reflash(flashes)
    return redirect_to(location)


def _same_site(url: str | None) -> bool:
    if not url:
        return False

    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return False
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path, "") == path


def _location(response) -> str | None:
    """Where a second post with the same token is sent: the first one's result page."""
    if response.headers.get("HX-Redirect"):
        return response.headers["HX-Redirect"]
    if 300 <= response.status_code < 400:
        return response.headers.get("Location")
    if 200 <= response.status_code < 300:
        # e.g. an htmx post answered with the updated part of its page: that page
        for url in (request.headers.get("HX-Current-URL"), request.referrer):
            if _same_site(url):
                return url
    return None  # a form to correct: a second post of it runs again


def _record(response):
    token = g.pop("innolab_once", None)
    if token is None or not g.get("innolab_committed"):
        return response  # nothing happened: the receipt goes with the rollback
    location = _location(response)
    stmt = (update(FormReceipt).where(FormReceipt.token == token)
            .values(location=location[:2000], flashes=session.get("_flashes", []))
            if location else delete(FormReceipt).where(FormReceipt.token == token))
    try:
        # Its own transaction: the view has committed; nothing it left open goes with this.
        with db.engine.begin() as conn:
            conn.execute(stmt)
    except Exception:  # the effect stands; a resend then waits and is told to reload
        log.exception("Could not record the result of a form post")
    return response

