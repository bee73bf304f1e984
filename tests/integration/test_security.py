"""The security baseline every response carries (docs/development.md, "Security baseline")."""
from __future__ import annotations

from flask import Flask

from innolab.config import load_config
from innolab.web import safe_next
from innolab.web.text import markdown


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags_in_production_config(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_requires_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("INNOLAB_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        load_config(tmp_path)
    except RuntimeError as exc:
        assert "SECRET_KEY" in str(exc)
    else:
        raise AssertionError("production started without SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    cfg = load_config(tmp_path)
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["SECRET_KEY"] == "x" * 40


def test_safe_next_keeps_redirects_on_this_site():
    app = Flask(__name__)
    with app.test_request_context("/", base_url="http://innolab.example"):
        assert safe_next("/proposals/?page=2", "/") == "/proposals/?page=2"
        for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example",
                     "javascript:alert(1)", "\\\\evil.example", ""):
            assert safe_next(evil, "/fallback") == "/fallback", evil


def test_markdown_drops_scripts_and_dangerous_links():
    html = str(markdown("**fett** <script>alert(1)</script> [x](javascript:alert(1)) "
                        "[ok](https://zd.mv-regierung.de)"))
    assert "<strong>fett</strong>" in html
    assert "<script" not in html and "href=\"javascript" not in html
    assert 'href="https://zd.mv-regierung.de"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_unknown_page_is_a_german_404(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_untrusted_host_is_refused_with_400_not_500(app):
    saved = app.config["TRUSTED_HOSTS"]
    app.config["TRUSTED_HOSTS"] = ["innolab.example"]
    try:
        client = app.test_client()
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
        assert client.get("/", headers={"Host": "innolab.example"}).status_code == 200
    finally:
        app.config["TRUSTED_HOSTS"] = saved
