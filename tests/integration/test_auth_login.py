"""Signing in and out: generic refusals, redirects, sessions, rate limit, CSRF."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, UserSession
from tests import factories
from tests.integration.auth_support import csrf_token_of, page_text, sign_in

GENERIC = "E-Mail-Adresse oder Passwort ist falsch."


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_login_page_has_one_heading_and_links(client, app_ctx):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("<h1") == 1
    assert 'href="/password/forgot"' in html and 'href="/register"' in html
    assert 'autocomplete="current-password"' in html


def test_login_with_right_password_signs_in_and_records_it(client, app_ctx):
    user = factories.user(email="erika@example.org")
    response = sign_in(client, "Erika@Example.org ", factories.PASSWORD)
    assert response.status_code == 303 and response.location == "/tasks/"
    assert "Sie sind angemeldet." in page_text(client.get("/tasks/"))
    assert client.get("/account").status_code == 200
    db.session.refresh(user)
    assert user.last_login_at is not None
    (event,) = _events("user.login")
    assert event.actor_id == user.id


@pytest.mark.parametrize("email,password", [
    ("erika@example.org", "falsches-Passwort-123"),
    ("niemand@example.org", factories.PASSWORD),
])
def test_login_refusal_is_generic_and_keeps_the_address(client, app_ctx, email, password):
    factories.user(email="erika@example.org")
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert GENERIC in html
    assert f'value="{email}"' in html
    assert password not in html
    assert client.get("/account").status_code == 302


def test_login_wrong_password_is_audited(client, app_ctx):
    user = factories.user(email="erika@example.org")
    sign_in(client, "erika@example.org", "falsches-Passwort-123")
    (event,) = _events("security.login_failed")
    assert event.object_id == user.id


def test_login_deactivated_account_gets_the_generic_refusal(client, app_ctx):
    factories.user(email="weg@example.org", active=False)
    response = sign_in(client, "weg@example.org", factories.PASSWORD)
    assert response.status_code == 422 and GENERIC in response.get_data(as_text=True)
    assert "bestätigen" not in page_text(response)


def test_login_invited_account_without_password_gets_the_generic_refusal(client, app_ctx):
    user = factories.user(email="neu@example.org")
    user.password_hash = None
    db.session.commit()
    response = sign_in(client, "neu@example.org", "")
    assert response.status_code == 422
    response = sign_in(client, "neu@example.org", "irgendein-Passwort-1")
    assert response.status_code == 422 and GENERIC in response.get_data(as_text=True)


def test_login_unconfirmed_is_refused_with_a_clear_message(client, app_ctx):
    factories.user(email="offen@example.org", confirmed=False)
    response = sign_in(client, "offen@example.org", factories.PASSWORD)
    assert response.status_code == 422
    text = page_text(response)
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in text
    assert "Bestätigungslink erneut senden" in text
    assert client.get("/account").status_code == 302


def test_login_empty_form_shows_german_field_errors(client, app_ctx):
    response = client.post("/login", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in html
    assert "Bitte geben Sie Ihr Passwort ein." in html


def test_login_follows_a_local_next(client, app_ctx):
    factories.user(email="erika@example.org")
    page = client.get("/login?next=/account")
    assert 'name="next" type="hidden" value="/account"' in page.get_data(as_text=True)
    response = client.post("/login", data={"email": "erika@example.org",
                                           "password": factories.PASSWORD, "next": "/account"})
    assert response.status_code == 303 and response.location == "/account"


def test_login_required_page_sends_to_login_and_back(client, app_ctx):
    factories.user(email="erika@example.org")
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    login_page = client.get(response.location)
    assert 'value="/account/password"' in login_page.get_data(as_text=True)
    back = client.post("/login", data={"email": "erika@example.org",
                                       "password": factories.PASSWORD,
                                       "next": "/account/password"})
    assert back.location == "/account/password"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example",
                                    "https://evil.example/account", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_login_refuses_an_external_next(client, app_ctx, target):
    factories.user(email="erika@example.org")
    page = client.get("/login", query_string={"next": target})
    assert 'name="next" type="hidden" value=""' in page.get_data(as_text=True)
    response = client.post("/login", query_string={"next": target},
                           data={"email": "erika@example.org", "password": factories.PASSWORD,
                                 "next": target})
    assert response.status_code == 303
    assert response.location == "/tasks/"


def test_login_when_signed_in_goes_on_to_next(client, app_ctx, login):
    login(factories.user())
    assert client.get("/login?next=/account").location == "/account"
    assert client.get("/login?next=//evil.example").location == "/tasks/"


def test_login_starts_a_fresh_session(client, app_ctx):
    factories.user(email="erika@example.org")
    with client.session_transaction() as session:
        session["planted"] = "vom Angreifer"
    sign_in(client, "erika@example.org", factories.PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]
        assert session.permanent


def test_logout_ends_the_session_for_every_copy_of_the_cookie(client, new_client, app_ctx):
    user = factories.user(email="erika@example.org")
    sign_in(client, "erika@example.org", factories.PASSWORD)
    assert client.get("/account").status_code == 200
    copied = client.get_cookie("session").value

    other = new_client()  # a second browser with the copied cookie
    other.set_cookie("session", copied)
    assert other.get("/account").status_code == 200

    response = client.post("/logout")
    assert response.status_code == 303 and response.location == "/signed-out?lang=de"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "Sie sind abgemeldet." in page_text(client.get(response.location))
    assert client.get("/account").status_code == 302

    replay = new_client()
    replay.set_cookie("session", copied)
    assert replay.get("/account").status_code == 302
    assert other.get("/account").status_code == 302
    (row,) = db.session.execute(select(UserSession)).scalars().all()
    assert row.user_id == user.id and row.ended_at is not None and row.end_reason == "logout"
    assert len(_events("user.logout")) == 1


def test_logout_only_by_post(client, app_ctx, login):
    login(factories.user())
    # a GET changes nothing: it is sent to the page the action belongs to (the home page)
    response = client.get("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200


def test_logout_when_not_signed_in_just_goes_home(client, app_ctx):
    response = client.post("/logout")
    assert response.status_code == 303 and response.location == "/"


def test_deactivating_an_account_ends_its_sessions(client, app_ctx, login):
    user = factories.user()
    login(user)
    assert client.get("/account").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/account").status_code == 302


# ------------------------------------------------------------------ rate limit, CSRF

def test_login_attempts_are_rate_limited_with_a_friendly_page(limited_client, app_ctx):
    factories.user(email="erika@example.org")
    for n in range(10):  # other addresses each time: the client's limit, not an account's back-off
        response = sign_in(limited_client, f"person{n}@example.org", "falsches-Passwort-123")
        assert response.status_code == 422
    blocked = sign_in(limited_client, "erika@example.org", factories.PASSWORD)
    assert blocked.status_code == 429
    assert "Zu viele Anfragen" in page_text(blocked)
    assert limited_client.get("/account").status_code == 302  # the right password did not help
    assert limited_client.get("/login").status_code == 200  # reading the page is not limited


def test_register_is_rate_limited(limited_client, app_ctx):
    codes = [limited_client.post("/register", data={}).status_code for _ in range(6)]
    assert codes[:5] == [422] * 5 and codes[5] == 429


def test_csrf_is_enforced_when_enabled(client, app):
    with app.app_context():
        factories.user(email="erika@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = sign_in(client, "erika@example.org", factories.PASSWORD)
        assert refused.status_code == 400
        assert "Das Formular ist abgelaufen" in refused.get_data(as_text=True)
        assert client.get("/account").status_code == 302

        token = csrf_token_of(client.get("/login"))
        response = client.post("/login", data={"email": "erika@example.org",
                                               "password": factories.PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 303
        assert client.get("/account").status_code == 200

        assert client.post("/logout").status_code == 400  # no token: still signed in
        assert client.get("/account").status_code == 200
        token = csrf_token_of(client.get("/account"))
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
        assert client.get("/account").status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_failed_logins_for_one_address_slow_down_across_client_addresses(limited_client,
                                                                          app_ctx):
    factories.user(email="erika@example.org")
    for n in range(5):
        response = limited_client.post(
            "/login", data={"email": "erika@example.org", "password": "falsch-falsch-12"},
            environ_base={"REMOTE_ADDR": f"10.0.{n}.1"})
        assert response.status_code == 422
    delayed = limited_client.post(
        "/login", data={"email": "Erika@example.org", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.0.1"})
    assert delayed.status_code == 429 and "Sekunden" in page_text(delayed)
    other = limited_client.post(
        "/login", data={"email": "jemand@example.org", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.0.2"})
    assert other.status_code == 422  # other addresses are not affected


def test_successful_logins_do_not_count_against_the_address(limited_client, app_ctx):
    factories.user(email="erika@example.org")
    for n in range(25):
        response = limited_client.post(
            "/login", data={"email": "erika@example.org", "password": factories.PASSWORD},
            environ_base={"REMOTE_ADDR": f"10.0.{n}.1"})
        assert response.status_code == 303
        limited_client.post("/logout", environ_base={"REMOTE_ADDR": f"10.0.{n}.1"})
