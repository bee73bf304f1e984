"""Links for outside the request: in mails, feeds, the open data API and the sign-in provider.

The one rule: a link starts with BASE_URL. Only in development and in the tests
(INNOLAB_ENV development or testing) may it start with the host of the current request
instead, or, without a request, with DEV_BASE_URL (what `make run` serves). In production a
missing BASE_URL is a configuration error (`NoBaseURL`): a link is never built from a Host
header someone sent.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request, url_for

DEV_BASE_URL = "http://127.0.0.1:5000"
DEV_ENVIRONMENTS = ("development", "testing")


class NoBaseURL(RuntimeError):
    """Production without BASE_URL: no link for outside the request can be built."""


def base_url() -> str:
    """Scheme and host every external link starts with (no trailing slash)."""
    config = current_app.config
    base = (config.get("BASE_URL") or "").rstrip("/")
    if base:
        return base
    if config.get("INNOLAB_ENV", "development") not in DEV_ENVIRONMENTS:
        raise NoBaseURL("BASE_URL must be set outside development (INNOLAB_ENV="
                        f"{config.get('INNOLAB_ENV')!r}): links in mails and for the sign-in "
                        "provider are built from it. See docs/configuration.md.")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEV_BASE_URL


def command_context(app):
    """A request context for commands, the worker and the delivery thread, so url_for works:
    its host is BASE_URL, in development without it DEV_BASE_URL (in production without
    BASE_URL the links themselves refuse)."""
    return app.test_request_context(base_url=app.config.get("BASE_URL") or DEV_BASE_URL)


def absolute(path: str | None) -> str | None:
    """A path on this site (as url_for gives it) as a link for outside; None stays None."""
    if not path:
        return None
    return base_url() + path


def external_url(endpoint: str, **values) -> str:
    """The absolute link to `endpoint` (url_for's arguments)."""
    return base_url() + url_for(endpoint, **values)
