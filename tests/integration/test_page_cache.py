"""Visitors' public pages kept in memory: served again without the database, emptied by a
change that a public page shows, never for a signed-in person, kept apart by language and
by htmx part, and never a page that sets a cookie."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from innolab import create_app
from innolab.extensions import db
from innolab.models import Organisation, UserSession
from innolab.models._base import utcnow
from innolab.web import pagecache
from tests import factories as f
from tests.conftest import IsolatedClient

CARRIED = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED",
           "RATELIMIT_ENABLED", "UPLOAD_FOLDER", "DATA_EXPORT_FOLDER", "SMTP_HOST",
           "SERVER_NAME", "MAIL_SEND_AFTER_REQUEST", "MFA_ENFORCE_ENROLMENT")


@pytest.fixture(scope="module")
def cached_app(app):
    """The suite's app with the page cache on (the same database)."""
    other = create_app({**{k: app.config[k] for k in CARRIED}, "PAGE_CACHE_SECONDS": 60})
    other.test_client_class = IsolatedClient
    return other


@pytest.fixture
def ctx(cached_app):
    pagecache.cache_of(cached_app).clear()
    with cached_app.test_request_context():
        yield cached_app
        db.session.remove()


def _statements(app, client, address, **kw):
    seen = []

    def record(*args):
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(address, **kw)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return response, seen


def _pilot(title="Digitale Bauakte", **kw):
    return f.proposal(status="running", title=title, publication_consent=True,
                      published_at=utcnow(), pilot_start_date=date(2026, 3, 1), **kw)


def test_a_visitors_second_visit_is_served_without_the_database(ctx):
    _pilot()
    visitor = ctx.test_client()
    first, _ = _statements(ctx, visitor, "/pilots")
    assert first.headers["X-Page-Cache"] == "miss" and "Digitale Bauakte" in first.text
    again, sql = _statements(ctx, ctx.test_client(), "/pilots")
    assert again.headers["X-Page-Cache"] == "hit"
    assert sql == [] and again.text == first.text
    # a shared cache may keep it as long; the security headers are there as on any page
    assert again.headers["Cache-Control"] == "public, max-age=60"
    assert {"Cookie", "Accept-Language"} <= set(again.vary)
    assert "Content-Security-Policy" in again.headers and "Set-Cookie" not in again.headers


def test_a_coordinator_publishing_a_pilot_shows_it_to_the_next_visitor_at_once(ctx, login):
    p = f.proposal(status="running", title="Smarte Parkplätze", publication_consent=True,
                   pilot_start_date=date(2026, 3, 1))
    visitor = ctx.test_client()
    assert "Smarte Parkplätze" not in visitor.get("/pilots").text
    assert "Smarte Parkplätze" not in visitor.get("/").text
    assert visitor.get("/pilots").headers["X-Page-Cache"] == "hit"

    coordinator = login(f.staff("coordinator"), ctx.test_client())
    published = coordinator.post(f"/staff/review/proposals/{p.id}/publish",
                                 data={"confirmed": "1"})
    assert published.status_code in (302, 303)
    pilots = ctx.test_client().get("/pilots")
    assert pilots.headers["X-Page-Cache"] == "miss" and "Smarte Parkplätze" in pilots.text
    assert "Smarte Parkplätze" in ctx.test_client().get("/").text


def test_a_partner_editing_the_public_profile_shows_on_its_page_at_once(ctx, login):
    owner = f.user()
    org = f.organisation(owner=owner, name="Nordlicht GmbH")
    address = f"/organisations/{org.slug}"
    assert "Nordlicht GmbH" in ctx.test_client().get(address).text
    assert ctx.test_client().get(address).headers["X-Page-Cache"] == "hit"
    db.session.get(Organisation, org.id).name = "Nordlicht Digital GmbH"
    db.session.commit()
    assert "Nordlicht Digital GmbH" in ctx.test_client().get(address).text


def test_every_app_of_the_process_sees_the_change(ctx, app):
    """Two apps with the cache in one process (as after an earlier app in a worker): a
    change empties both, not only the first one asked."""
    earlier = create_app({**{k: app.config[k] for k in CARRIED}, "PAGE_CACHE_SECONDS": 60})
    owner = f.user()
    org = f.organisation(owner=owner, name="Küstenwerk GmbH")
    address = f"/organisations/{org.slug}"
    for each in (earlier, ctx):
        each.test_client().get(address)
        assert each.test_client().get(address).headers["X-Page-Cache"] == "hit"
    db.session.get(Organisation, org.id).name = "Küstenwerk Digital GmbH"
    db.session.commit()
    for each in (earlier, ctx):
        again = each.test_client().get(address)
        assert again.headers["X-Page-Cache"] == "miss" and "Küstenwerk Digital GmbH" in again.text


def test_what_no_public_page_shows_keeps_the_cache(ctx):
    _pilot()
    user = f.user()
    ctx.test_client().get("/pilots")
    f.session_token(user)  # a new session row (sign-in): nothing public changed
    assert db.session.query(UserSession).count() == 1
    assert ctx.test_client().get("/pilots").headers["X-Page-Cache"] == "hit"


def test_languages_and_htmx_parts_are_kept_apart(ctx):
    _pilot()
    german = ctx.test_client().get("/pilots", headers={"Accept-Language": "de"})
    english = ctx.test_client().get("/pilots", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in german.text and '<html lang="en">' in english.text
    by_cookie = ctx.test_client()
    by_cookie.set_cookie("lang", "en")
    assert '<html lang="en">' in by_cookie.get("/pilots").text
    again = ctx.test_client().get("/pilots", headers={"Accept-Language": "de"})
    assert again.headers["X-Page-Cache"] == "hit" and '<html lang="de">' in again.text
    part = ctx.test_client().get("/pilots", headers={"HX-Request": "true",
                                                     "HX-Target": "results"})
    assert part.headers["X-Page-Cache"] == "miss" and "<html" not in part.text
    whole = ctx.test_client().get("/pilots", headers={"Accept-Language": "de"})
    assert "<html" in whole.text


def test_a_signed_in_person_never_gets_a_visitors_page(ctx, login):
    _pilot()
    ctx.test_client().get("/pilots")
    member = login(f.user(name="Olga Beispiel"), ctx.test_client())
    page = member.get("/pilots")
    assert "X-Page-Cache" not in page.headers
    assert "Abmelden" in page.text and page.headers["Cache-Control"] == "no-store"


def test_a_page_that_sets_a_cookie_or_is_not_public_is_not_kept(ctx):
    visitor = ctx.test_client()
    login_page = visitor.get("/login")  # a form with a token: it starts a session
    assert "X-Page-Cache" not in login_page.headers
    missing = ctx.test_client().get("/pilots/999999")
    assert missing.status_code == 404 and "X-Page-Cache" not in missing.headers
    assert pagecache.cache_of(ctx).get(("nothing",)) is None
    assert len(pagecache.cache_of(ctx)) == 0
