"""Security headers and a strict Content-Security-Policy (no inline scripts)."""
from __future__ import annotations

def content_security_policy(form_action: tuple[str, ...] = ()) -> str:
    """The policy; `form_action` adds origins forms may lead to (e.g. identity providers)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        " ".join(("form-action 'self'",) + tuple(form_action)),
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


CSP = content_security_policy()

# app.extensions key: callables returning further origins for form-action, asked per page.
FORM_ACTION_SOURCES = "innolab.csp_form_action"


def init_app(app) -> None:
    sources = app.extensions.setdefault(FORM_ACTION_SOURCES, [])

    @app.after_request
    def _headers(response):
        h = response.headers
        if "Content-Security-Policy" not in h:
            extra = ()
            if sources and response.mimetype == "text/html":
                extra = tuple(o for source in sources for o in source())
            h["Content-Security-Policy"] = content_security_policy(extra) if extra else CSP
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if response.mimetype == "text/html":
            # pages may carry personal data: keep them out of shared caches
            h.setdefault("Cache-Control", "no-store")
        return response
