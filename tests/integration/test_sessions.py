"""Server-side sessions: the list of signed-in devices, ending them, timeouts, pruning,
the production cookie and what signing out leaves behind."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from innolab import create_app
from innolab.domain import notifications, sessions
from innolab.extensions import db
from innolab.models import AuditEvent, UserSession
from innolab.models._base import utcnow
from tests import factories
from tests.client import IsolatedClient
from tests.integration.auth_support import page_text

FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
                   "Firefox/133.0")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def _sign_in(client, email, agent=FIREFOX_WINDOWS, **extra):
    response = client.post("/login", data={"email": email, "password": factories.PASSWORD,
                                           **extra},
                           headers={"User-Agent": agent})
    assert response.status_code == 303, page_text(response)
    return response


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _rows(user):
    return db.session.execute(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.id)).scalars().all()


def _session_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-session="(\d+)"', html)]


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by the test: clock.advance(minutes=…)."""

    class Clock:
        now = utcnow()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(sessions, "clock", lambda: c.now)
    return c


# ------------------------------------------------------------------ the list


def test_sessions_page_lists_both_browsers_and_marks_this_one(client, new_client, app_ctx):
    factories.user(email="erika@example.org")
    phone = new_client()
    _sign_in(client, "erika@example.org", FIREFOX_WINDOWS)
    _sign_in(phone, "erika@example.org", CHROME_ANDROID)
    response = client.get("/account/sessions")
    text = page_text(response)
    assert response.status_code == 200
    assert "Angemeldete Geräte" in text
    assert "Firefox auf Windows" in text and "Chrome auf Android" in text
    assert text.count("Dieses Gerät") == 1
    assert text.index("Firefox auf Windows") < text.index("Dieses Gerät") < \
        text.index("Chrome auf Android")  # this device first, marked
    assert text.count("mit Passwort") == 2 and "127.0.0.1" in text
    assert text.count("Auf diesem Gerät abmelden") == 2
    assert "Alle anderen Geräte abmelden" in text
    assert 'href="/account/sessions"' in client.get("/account").get_data(as_text=True)


def test_session_rows_keep_only_the_hash_of_the_token(client, app_ctx):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    token = client.get_cookie("session")  # signed, but the raw token is inside
    (row,) = _rows(user)
    with client.session_transaction() as s:
        raw = s["_user_id"]
    assert token is not None and row.token_hash == sessions.hash_token(raw) != raw
    assert row.method == "password" and row.second_factor is False
    assert row.user_agent == FIREFOX_WINDOWS and row.client_address == "127.0.0.1"


def test_user_agent_is_cut_and_devices_are_named():
    assert sessions.describe_device(SAFARI_IPHONE) == "Safari auf iOS"
    assert sessions.describe_device(
        "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 "
        "Edg/131.0") == "Edge auf Windows"
    assert sessions.describe_device(None) == "Unbekanntes Gerät"
    assert sessions.describe_device("curl/8.5") == "Unbekanntes Gerät"


def test_a_very_long_user_agent_is_stored_cut(client, app_ctx):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org", agent="Firefox/1 " + "x" * 2000)
    (row,) = _rows(user)
    assert len(row.user_agent) == sessions.USER_AGENT_MAX


# ------------------------------------------------------------------ ending sessions


def test_ending_the_session_of_the_other_browser_signs_it_out(client, new_client, app_ctx):
    user = factories.user(email="erika@example.org")
    other = new_client()
    _sign_in(client, "erika@example.org", FIREFOX_WINDOWS)
    _sign_in(other, "erika@example.org", CHROME_ANDROID)
    assert other.get("/account").status_code == 200
    mine, theirs = (r.id for r in _rows(user))
    response = client.post(f"/account/sessions/{theirs}/end")
    assert response.status_code == 303 and response.location == "/account/sessions"
    page = client.get("/account/sessions")
    assert "Die Sitzung auf „Chrome auf Android“ ist beendet." in page_text(page)
    assert _session_ids(page.get_data(as_text=True)) == [mine]
    # the other browser, for real: its next request is signed out
    response = other.get("/account")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert "Abmelden" not in other.get("/").get_data(as_text=True)
    (event,) = _events("session.end")
    assert event.actor_id == user.id and event.details["session"] == theirs
    assert client.get("/account").status_code == 200


def test_ending_this_device_is_signing_out(client, app_ctx):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    (row,) = _rows(user)
    response = client.post(f"/account/sessions/{row.id}/end")
    assert response.status_code == 303 and response.location == "/signed-out?lang=de"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/account").status_code == 302
    db.session.refresh(row)
    assert row.ended_at is not None and row.end_reason == "ended"


def test_sign_out_everywhere_else(client, new_client, app_ctx):
    user = factories.user(email="erika@example.org")
    laptop, phone = new_client(), new_client()
    _sign_in(client, "erika@example.org", FIREFOX_WINDOWS)
    _sign_in(laptop, "erika@example.org", SAFARI_IPHONE)
    _sign_in(phone, "erika@example.org", CHROME_ANDROID)
    response = client.post("/account/sessions/end-others")
    assert response.status_code == 303
    page = client.get("/account/sessions")
    assert "Sie sind jetzt auf allen anderen Geräten abgemeldet." in page_text(page)
    assert "Alle anderen Geräte abmelden" not in page_text(page)
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    assert len(sessions.active_sessions(user)) == 1
    (event,) = _events("session.end_others")
    assert event.details["ended"] == 2


def test_a_session_of_someone_else_cannot_be_ended(client, new_client, app_ctx):
    factories.user(email="erika@example.org")
    mallory = factories.user(email="mallory@example.org")
    victim = new_client()
    _sign_in(victim, "erika@example.org")
    _sign_in(client, "mallory@example.org")
    erikas = db.session.execute(select(UserSession).where(
        UserSession.user_id != mallory.id)).scalar_one()
    response = client.post(f"/account/sessions/{erikas.id}/end", follow_redirects=True)
    assert "Diese Sitzung ist bereits beendet." in page_text(response)
    assert victim.get("/account").status_code == 200
    assert _events("session.end") == []


def test_ending_needs_a_post_and_a_signed_in_person(client, app_ctx):
    response = client.get("/account/sessions/1/end")  # to the page, which asks for a sign-in
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    assert client.post("/account/sessions/end-others").status_code == 302
    assert client.get("/account/sessions").status_code == 302


def test_new_password_ends_the_other_sessions_and_keeps_this_one(client, new_client, app_ctx):
    user = factories.user(email="erika@example.org")
    other = new_client()
    _sign_in(client, "erika@example.org")
    _sign_in(other, "erika@example.org", CHROME_ANDROID)
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "password": "ein-ganz-neues-Passwort-7",
        "password_confirm": "ein-ganz-neues-Passwort-7"}, headers={"User-Agent": FIREFOX_WINDOWS})
    assert response.status_code == 303
    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    (row,) = sessions.active_sessions(user)
    assert row.user_agent == FIREFOX_WINDOWS and row.method == "password"


def test_deactivation_ends_every_session(client, new_client, app_ctx, login):
    user = factories.user(email="erika@example.org")
    erika = new_client()
    _sign_in(erika, "erika@example.org")
    login(factories.staff("admin"))
    response = client.post(f"/admin/users/{user.id}", data={"form": "status",
                                                            "action": "deactivate"})
    assert response.status_code == 303
    assert erika.get("/account").status_code == 302
    assert [r.end_reason for r in _rows(user)] == ["deactivated"]


# ------------------------------------------------------------------ timeouts


def test_idle_session_ends_and_the_person_comes_back_after_signing_in(client, app_ctx, clock):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    clock.advance(minutes=29)
    assert client.get("/account/sessions").status_code == 200  # used: the idle time restarts
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/account/sessions")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Faccount%2Fsessions"
    login_page = client.get(response.location)
    text = page_text(login_page)
    assert "Ihre Sitzung ist abgelaufen" in text
    assert "Bitte melden Sie sich an, um diese Seite zu sehen." not in text
    back = _sign_in(client, "erika@example.org", next="/account/sessions")
    assert back.location == "/account/sessions"
    rows = _rows(user)
    assert [r.end_reason for r in rows] == ["idle", None]
    (event,) = _events("session.timeout")
    assert event.details["reason"] == "idle"


def test_timed_out_session_on_a_public_page_says_so_once(client, app_ctx, clock):
    factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    clock.advance(minutes=31)
    first = client.get("/")
    assert "Ihre Sitzung ist abgelaufen" in page_text(first)
    assert "Abmelden" not in first.get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen" not in page_text(client.get("/"))


def test_absolute_lifetime_ends_a_session_in_use(client, app_ctx, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", 60 * 60)
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    for _ in range(3):
        clock.advance(minutes=19)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=4)  # 61 minutes after signing in, used 4 minutes ago
    response = client.get("/account")
    assert response.status_code == 302
    assert "Ihre Sitzung ist abgelaufen" in page_text(client.get(response.location))
    assert [r.end_reason for r in _rows(user)] == ["expired"]


def test_idle_minutes_are_configurable(client, app_ctx, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    clock.advance(minutes=4)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=6)
    assert client.get("/account").status_code == 302


def test_last_use_is_written_at_most_once_a_minute(client, app_ctx, clock):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    (row,) = _rows(user)
    first = row.last_seen_at
    clock.advance(seconds=30)
    for _ in range(3):
        client.get("/account")
    db.session.refresh(row)
    assert row.last_seen_at == first
    clock.advance(seconds=31)
    client.get("/account")
    db.session.refresh(row)
    assert row.last_seen_at == clock.now


def test_deactivated_account_is_not_signed_in_by_its_session(client, app_ctx):
    user = factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    user.active = False  # past the admin page, which would end the sessions as well
    db.session.commit()
    assert client.get("/account").status_code == 302


# ------------------------------------------------------------------ pruning


def test_worker_prunes_sessions_a_day_after_they_ended(app_ctx, clock):
    user = factories.user()
    _token, ended = sessions.open_session(user, "password")
    _token, active = sessions.open_session(user, "password")
    _token, idle = sessions.open_session(user, "password")
    ended.ended_at = clock.now
    idle.last_seen_at = clock.now - timedelta(hours=2)
    db.session.commit()
    ids = ended.id, active.id, idle.id
    notifications.run_pass(clock.now)
    assert {r.id for r in _rows(user)} == set(ids)  # not yet
    clock.advance(hours=25)
    active.last_seen_at = clock.now
    db.session.commit()
    counts = notifications.run_pass(clock.now)
    assert counts["sessions"] == 2
    assert [r.id for r in _rows(user)] == [ids[1]]


# ------------------------------------------------------------------ cookie and sign-out


PROD = "https://innolab.zdmv.example"


@pytest.fixture
def production_client(app, monkeypatch):
    """A client of the app configured as in production (https, secure cookies)."""
    monkeypatch.setenv("INNOLAB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Zq8vB2nX4mK7pL1sT9wR3yH6jF0dC5aGuEiOoPlKjHgF")
    monkeypatch.setenv("BASE_URL", "https://innolab.zdmv.example")
    monkeypatch.setenv("TRUSTED_HOSTS", "innolab.zdmv.example")
    prod = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                       "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "SMTP_HOST": ""})
    prod.test_client_class = IsolatedClient
    yield prod.test_client()
    with prod.app_context():
        db.engine.dispose()


def test_production_session_cookie_has_the_host_prefix(production_client, app_ctx):
    factories.user(email="erika@example.org")
    response = production_client.post("/login", base_url=PROD, data={
        "email": "erika@example.org", "password": factories.PASSWORD})
    assert response.status_code == 303
    (cookie,) = [h for h in response.headers.getlist("Set-Cookie")
                 if h.startswith("__Host-")]
    name, _, attributes = cookie.partition(";")
    attributes = [a.strip().lower() for a in attributes.split(";")]
    assert name.startswith("__Host-innolab_session=")
    assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes
    assert "samesite=lax" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    assert production_client.get("/account", base_url=PROD).status_code == 200
    response = production_client.post("/logout", base_url=PROD)
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_development_cookie_keeps_its_plain_name(client, app_ctx):
    factories.user(email="erika@example.org")
    _sign_in(client, "erika@example.org")
    assert client.get_cookie("session") is not None


def test_signed_out_page_keeps_the_language_without_a_cookie(client, app_ctx):
    factories.user(email="erika@example.org", locale="en")
    _sign_in(client, "erika@example.org")
    response = client.post("/logout")
    assert response.location == "/signed-out?lang=en"
    client.delete_cookie("session")  # what Clear-Site-Data does in a browser
    page = client.get(response.location)
    assert page.status_code == 200
    assert '<html lang="en"' in page.get_data(as_text=True)
    assert "lang=en" in page.headers["Set-Cookie"]  # the choice is kept for the next visit
    german = client.get("/signed-out?lang=xx")
    assert german.status_code == 200


def test_form_sent_after_the_timeout_is_not_carried_out(client, new_client, app_ctx, clock):
    user = factories.user(email="erika@example.org")
    other = new_client()
    _sign_in(client, "erika@example.org")
    _sign_in(other, "erika@example.org", CHROME_ANDROID)
    clock.advance(minutes=31)
    response = client.post("/account/sessions/end-others",
                           headers={"Referer": "http://localhost/account/sessions"})
    assert response.status_code == 302
    assert response.location == "/login?next=%2Faccount%2Fsessions"
    assert _events("session.end_others") == []
    assert [r.end_reason for r in _rows(user)] == ["idle", None]  # the other: not used since


def test_an_admin_signs_a_person_out_on_every_device(app_ctx, login, new_client):
    person = factories.user(name="Laptop Verloren")
    first, second = login(person, new_client()), login(person, new_client())
    assert first.get("/account").status_code == 200
    admin = login(factories.staff("admin"), new_client())
    page = admin.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "2 Geräte sind mit diesem Konto angemeldet." in page

    response = admin.post(f"/admin/users/{person.id}", data={"form": "sessions"})
    assert response.status_code == 303
    for browser in (first, second):
        assert browser.get("/account").status_code == 302  # to the sign-in page
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "session.end_all_by_admin")).scalar_one()
    assert event.details == {"ended": 2} and event.object_id == person.id
    assert "0 Geräte sind mit diesem Konto angemeldet." in admin.get(
        f"/admin/users/{person.id}").get_data(as_text=True)


def test_ending_sessions_needs_a_recent_proof_of_identity(app_ctx, login, new_client):
    person = factories.user()
    other = login(person, new_client())
    mine = login(person, new_client(), recent=False)
    response = mine.post("/account/sessions/end-others")
    assert response.status_code == 303
    assert response.location.startswith("/account/confirm-identity")
    assert other.get("/account").status_code == 200  # nothing was ended
