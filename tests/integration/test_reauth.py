"""Confirming who one is before a sensitive change: the guard, the page, the back-off."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.domain import throttle
from innolab.extensions import db
from innolab.models import AuditEvent, OutboxMail, PendingRoleGrant
from tests import factories
from tests.integration.auth_support import page_text

WRONG = "das-ist-falsch-123"


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _confirm(client, password=factories.PASSWORD, next="/account/email"):
    return client.post("/account/confirm-identity", data={"password": password, "next": next})


@pytest.fixture
def erika(app_ctx):
    return factories.user(email="erika@example.org", name="Erika Muster")


def test_guard_sends_to_the_confirmation_and_back(client, login, erika):
    login(erika, recent=False)
    response = client.get("/account/email")
    assert response.status_code == 303
    assert response.location == "/account/confirm-identity?next=/account/email"
    page = client.get(response.location)
    text = page_text(page)
    assert page.status_code == 200 and "Bestätigen Sie, dass Sie es sind" in text
    assert "Mit Ihrem Passwort" in text
    assert 'autocomplete="current-password"' in page.get_data(as_text=True)
    done = _confirm(client)
    assert done.status_code == 303 and done.location == "/account/email"
    assert client.get("/account/email").status_code == 200
    (event,) = _events("user.reauthenticated")
    assert event.details["method"] == "password"


def test_proof_of_identity_counts_for_a_limited_time(client, login, erika, app, monkeypatch):
    login(erika, recent=False)
    _confirm(client)
    assert client.get("/account/email").status_code == 200
    monkeypatch.setitem(app.config, "REAUTH_MAX_AGE", -1)  # as if the minutes had passed
    assert client.get("/account/email").status_code == 303


def test_a_fresh_sign_in_counts_as_proof(client, erika):
    client.post("/login", data={"email": "erika@example.org", "password": factories.PASSWORD})
    assert client.get("/account/email").status_code == 200


def test_wrong_password_keeps_the_page_and_is_audited(client, login, erika):
    login(erika, recent=False)
    response = _confirm(client, WRONG)
    assert response.status_code == 422
    assert "Das Passwort ist nicht richtig." in page_text(response)
    assert WRONG not in response.get_data(as_text=True)
    assert client.get("/account/email").status_code == 303  # still not confirmed
    (event,) = _events("security.reauth_failed")
    assert event.actor_id == erika.id


def test_wrong_passwords_at_the_confirmation_count_in_the_sign_in_back_off(client, login, erika,
                                                                          new_client):
    login(erika, recent=False)
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        assert _confirm(client, WRONG).status_code == 422
    waiting = _confirm(client)  # even the right password is not looked at now
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) > 0
    assert "Sekunden möglich" in page_text(waiting)
    assert client.get("/account/email").status_code == 303
    # the same counter as the sign-in: the login form of the account waits too
    login_page = new_client().post("/login", data={"email": "erika@example.org",
                                                   "password": factories.PASSWORD})
    assert login_page.status_code == 429
    assert len(_events("security.reauth_failed")) == throttle.ACCOUNT_FREE_FAILURES
    assert _events("security.reauth_delayed")


def test_wrong_current_password_on_the_change_form_counts_too(client, login, erika):
    login(erika)
    data = {"current_password": WRONG, "password": "ein-neues-Passwort-99",
            "password_confirm": "ein-neues-Passwort-99"}
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        assert client.post("/account/password", data=data).status_code == 422
    data["current_password"] = factories.PASSWORD
    response = client.post("/account/password", data=data)
    assert response.status_code == 429 and "Sekunden möglich" in page_text(response)


def test_a_form_sent_without_recent_proof_is_not_carried_out(client, login, erika, outbox):
    login(erika, recent=False)
    response = client.post("/account/email", data={"email": "neu@example.org"},
                           headers={"Referer": "http://localhost/account/email"})
    assert response.status_code == 303
    assert response.location == "/account/confirm-identity?next=/account/email"
    assert "senden Sie das Formular dann noch einmal" in page_text(client.get(response.location))
    assert outbox() == []


def test_next_stays_on_this_site(client, login, erika):
    login(erika, recent=False)
    response = _confirm(client, next="https://evil.example/")
    assert response.status_code == 303 and response.location == "/account"
    assert _confirm(client, next="//evil.example/").location == "/account"


def test_account_without_password_is_offered_its_provider_only(client, login, app_ctx):
    user = factories.user(email="ohne@example.org")
    user.password_hash = None
    db.session.commit()
    login(user, recent=False)
    page = client.get("/account/confirm-identity?next=/account/email")
    text = page_text(page)
    assert "Mit Ihrem Passwort" not in text
    assert "keine Möglichkeit eingerichtet" in text  # no provider configured in this app
    assert _confirm(client).status_code == 400


def test_confirmation_page_needs_a_signed_in_person(client, app_ctx):
    assert client.get("/account/confirm-identity").status_code == 302


# ------------------------------------------------------------------ staff administration


def test_staff_invitation_needs_recent_proof(client, login, app_ctx, outbox):
    login(factories.staff("admin"), recent=False)
    response = client.get("/admin/users/invite")
    assert response.status_code == 303
    assert response.location == "/account/confirm-identity?next=/admin/users/invite"
    response = client.post("/admin/users/invite", data={
        "email": "neu@zdmv.example", "name": "Neu", "roles": ["reviewer"]})
    assert response.status_code == 303 and "/account/confirm-identity" in response.location
    assert outbox() == []
    _confirm(client, next="/admin/users/invite")
    assert client.get("/admin/users/invite").status_code == 200


def test_role_changes_and_deactivation_need_recent_proof(client, login, app_ctx):
    login(factories.staff("admin"), recent=False)
    person = factories.user(email="person@example.org")
    page = client.get(f"/admin/users/{person.id}")
    assert page.status_code == 200  # looking is fine
    assert "Bevor Sie etwas ändern, bestätigen Sie bitte, dass Sie es sind." in page_text(page)
    for data in ({"form": "roles", "roles": ["reviewer"]},
                 {"form": "status", "action": "deactivate"}):
        response = client.post(f"/admin/users/{person.id}", data=data,
                               headers={"Referer": f"http://localhost/admin/users/{person.id}"})
        assert response.status_code == 303
        assert response.location == \
            f"/account/confirm-identity?next=/admin/users/{person.id}"
    db.session.refresh(person)
    assert person.active
    assert db.session.execute(select(PendingRoleGrant)).scalars().all() == []
    assert _confirm(client, next=f"/admin/users/{person.id}").location == \
        f"/admin/users/{person.id}"
    client.post(f"/admin/users/{person.id}", data={"form": "status", "action": "deactivate"})
    db.session.refresh(person)
    assert not person.active
    assert db.session.query(OutboxMail).count() == 0
