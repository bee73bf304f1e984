"""A visitor's public page, kept in memory for a few seconds and served again from there.

Only what nothing personal touches is kept: a GET or HEAD of a view marked `@cacheable`
(the showcase, the open-data API, the feeds), asked without any session cookie, answered
200 without setting a cookie. Such a page depends on its address (path and query), the
language it was chosen in, the htmx headers (a part or the whole page), the host (the feeds
and the API print absolute links) and the date (a challenge is open until its deadline);
these make the key, and nothing else can differ between two visitors.

Invalidation: a commit in this process that changes anything a page may show
(`domain/changes.py`: every model but the QUIET ones, sessions, audit, mail …) empties the
cache at once (so the next visitor sees a published pilot, an edited challenge or profile
immediately); what other instances change shows after `PAGE_CACHE_SECONDS` at the latest
(a hit reads no database, not even the change marker). `PAGE_CACHE_SECONDS` 0 turns the
cache off (the default outside production, so tests and development always see the database).

A kept page is answered with `X-Page-Cache: hit` and `Cache-Control: public, max-age=…`
(`Vary: Cookie, Accept-Language, HX-Request`), so a shared cache in front may keep it for as
long; every other page keeps `no-store` (web/security.py).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date

from flask import Response, g, request
from flask_babel import get_locale

from ..domain import changes

EXTENSION = "innolab.pagecache"
HEADER = "X-Page-Cache"
# What a kept page is not answered with again: made anew for each answer (the request id, the
# length, the rate limit's count) or never kept at all (a cookie).
_FRESH_HEADERS = ("set-cookie", "content-length", "date", "x-request-id", "x-ratelimit-",
                  "retry-after", "server-timing", HEADER.lower())


def cacheable(view):
    """Mark a view whose answer to a visitor may be kept (it must show nothing personal)."""
    view.innolab_cacheable = True
    return view


@dataclass(frozen=True)
class _Page:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache(changes.Kept[_Page]):
    """Pages kept for `seconds`, at most `size` of them."""


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
            cache.put(key, _Page(response.get_data(), tuple(
                (k, v) for k, v in response.headers.items()
                if not k.lower().startswith(_FRESH_HEADERS))))
            response.headers[HEADER] = "miss"
            _public_headers(response, seconds)
        return response

    _CACHES.add(cache)


# Every cache of this process (one per app that has it on), all emptied after a change.
_CACHES: weakref.WeakSet[PageCache] = weakref.WeakSet()


def _clear_all() -> None:
    for cache in list(_CACHES):
        cache.clear()


changes.on_change(_clear_all)
