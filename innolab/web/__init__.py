"""What every blueprint shares: rendering (full page or htmx block), refusals, redirects."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import abort, make_response, redirect, request
from jinja2_fragments.flask import render_block

from ..extensions import htmx


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the page, or only `block` of it for an htmx request (same route, same data).

    When htmx restores a page from history (back button) it needs the whole page.
    """
    from flask import render_template

    if block and htmx and not htmx.history_restore_request:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, code: int = 303):
    """A redirect that also works for htmx requests (HX-Redirect)."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=code)


def require(permission) -> None:
    """Abort with 404 (hidden) or 403 (with the reason shown) unless allowed."""
    if not permission:
        if permission.hide:
            abort(404)
        abort(403, description=str(permission.reason) if permission.reason else None)


def safe_next(target: str | None, fallback: str) -> str:
    """A redirect target that stays on this site."""
    if not target:
        return fallback
    target = target.strip().replace("\\", "/")
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    joined = urlsplit(urljoin(request.host_url, target))
    if joined.netloc != urlsplit(request.host_url).netloc or joined.scheme not in ("http", "https"):
        return fallback
    return target


def page_number(name: str = "page") -> int:
    try:
        return max(1, int(request.args.get(name, 1)))
    except (TypeError, ValueError):
        return 1
