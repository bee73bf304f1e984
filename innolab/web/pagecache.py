"""A visitor's public page, kept in memory for a few seconds and served again from there.

Only what nothing personal touches is kept: a GET or HEAD of a view marked `@cacheable`
(the showcase, the open-data API, the feeds), asked without any session cookie, answered
200 without setting a cookie. Such a page depends on its address (path and query), the
language it was chosen in, the htmx headers (a part or the whole page), the host (the feeds
and the API print absolute links) and the date (a challenge is open until its deadline);
these make the key, and nothing else can differ between two visitors.

Invalidation: a commit in this process that changes anything a public page may show empties
the cache at once (so the next visitor sees a published pilot, an edited challenge or
profile immediately); what other instances change shows after `PAGE_CACHE_SECONDS` at the
latest. Every model counts as shown unless listed in `NOT_SHOWN` (sessions, audit, mail …),
so a new model is safe by default. `PAGE_CACHE_SECONDS` 0 turns the cache off (the default
outside production, so tests and development always see the database).

A kept page is answered with `X-Page-Cache: hit` and `Cache-Control: public, max-age=…`
(`Vary: Cookie, Accept-Language, HX-Request`), so a shared cache in front may keep it for as
long; every other page keeps `no-store` (web/security.py).
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import Response, current_app, g, request
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import (
    AuditEvent, DataExport, EditSnapshot, FormReceipt, MailSend, Notification,
    NotificationPreference, OutboxMail, RecoveryCode, RetentionNotice, SecondFactor,
    SignInThrottle, UserSession,
)

EXTENSION = "innolab.pagecache"
HEADER = "X-Page-Cache"
# What no public page shows: a commit that changes only these keeps the cache.
NOT_SHOWN = (AuditEvent, DataExport, EditSnapshot, FormReceipt, MailSend, Notification,
             NotificationPreference, OutboxMail, RecoveryCode, RetentionNotice, SecondFactor,
             SignInThrottle, UserSession)
# What a kept page is not answered with again: made anew for each answer (the request id, the
# length, the rate limit's count) or never kept at all (a cookie).
_FRESH_HEADERS = ("set-cookie", "content-length", "date", "x-request-id", "x-ratelimit-",
                  "retry-after", "server-timing", HEADER.lower())


def cacheable(view):
    """Mark a view whose answer to a visitor may be kept (it must show nothing personal)."""
    view.innolab_cacheable = True
    return view


@dataclass(frozen=True)
class _Kept:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    until: float


class PageCache:
    """A bounded LRU of pages with a lifetime, shared by the threads of a process."""

    def __init__(self, seconds: int, size: int):
        self.seconds, self.size = seconds, size
        self._pages: OrderedDict[tuple, _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> _Kept | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None or kept.until < time.monotonic():
                self._pages.pop(key, None)
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return kept

    def put(self, key: tuple, body: bytes, headers) -> None:
        with self._lock:
            self._pages[key] = _Kept(body, tuple(headers), time.monotonic() + self.seconds)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def cache_of(app) -> PageCache | None:
    return app.extensions.get(EXTENSION)


def _visitor_without_session(app) -> bool:
    names = (app.config.get("SESSION_COOKIE_NAME") or "session",
             app.config.get("REMEMBER_COOKIE_NAME") or "remember_token")
    return not any(name in request.cookies for name in names)


def _key() -> tuple:
    return (request.host_url, request.full_path, str(get_locale() or ""),
            request.headers.get("HX-Request", ""), request.headers.get("HX-Target", ""),
            date.today().isoformat())


def _public_headers(response, seconds: int) -> None:
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.vary.update(("Cookie", "Accept-Language", "HX-Request"))


def init_app(app) -> None:
    seconds = int(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds <= 0:
        return
    cache = app.extensions[EXTENSION] = PageCache(seconds,
                                                  int(app.config.get("PAGE_CACHE_SIZE", 500)))

    @app.before_request
    def _serve_kept():
        if request.method not in ("GET", "HEAD"):
            return None
        view = app.view_functions.get(request.endpoint or "")
        if not getattr(view, "innolab_cacheable", False) or not _visitor_without_session(app):
            return None
        key = _key()
        kept = cache.get(key)
        if kept is None:
            g.innolab_page_cache_key = key
            return None
        response = Response(kept.body, headers=list(kept.headers))
        response.headers[HEADER] = "hit"
        _public_headers(response, seconds)
        return response

    @app.after_request
    def _keep(response):
        key = g.pop("innolab_page_cache_key", None)
        if key is None or response.headers.get(HEADER) == "hit":
            return response
        if (response.status_code == 200 and not response.direct_passthrough
                and not response.is_streamed and "Set-Cookie" not in response.headers):
            cache.put(key, response.get_data(),
                      [(k, v) for k, v in response.headers.items()
                       if not k.lower().startswith(_FRESH_HEADERS)])
            response.headers[HEADER] = "miss"
            _public_headers(response, seconds)
        return response

    _CACHES.add(cache)


# Every cache of this process (one per app that has it on). The session events below are
# registered once for all of them: a commit's note is read once, and every cache emptied.
_CACHES: weakref.WeakSet[PageCache] = weakref.WeakSet()
_CHANGED = "innolab_public_changed"


def _shown(obj) -> bool:
    return not isinstance(obj, NOT_SHOWN)


@event.listens_for(Session, "before_flush")
def _note(session, flush_context=None, instances=None):
    if _CACHES and any(_shown(o) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state):
    # UPDATE/DELETE statements (retention, bulk changes) bypass the flush
    mapper = state.bind_mapper
    if (_CACHES and (state.is_update or state.is_delete) and mapper is not None
            and not issubclass(mapper.class_, NOT_SHOWN)):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _commit(session):
    """Empty the caches after a commit that changed what a public page may show."""
    if session.info.pop(_CHANGED, False):
        for cache in list(_CACHES):
            cache.clear()


@event.listens_for(Session, "after_soft_rollback")
def _rollback(session, previous_transaction):
    session.info.pop(_CHANGED, None)


def stats() -> tuple[int, int]:
    """(hits, misses) of this process's cache (0, 0 when it is off)."""
    cache = cache_of(current_app)
    return (cache.hits, cache.misses) if cache else (0, 0)
