"""Second factors: enrolment, sign-in, recovery codes, enforcement per role and policy,
partners' opt-in, the admin's reset (mail through a real SMTP server)."""
from __future__ import annotations

import re
import time

from urllib.parse import urlsplit

import pyotp
import pytest
from flask import url_for
from sqlalchemy import select

from innolab.domain import mailer, settings
from innolab.domain.accounts import make_token
from innolab.domain import mfa as domain
from innolab.extensions import db
from innolab.models import AuditEvent, RecoveryCode, SecondFactor, User, UserSession
from innolab.web import RECENT_AUTH_KEY
from tests import factories
from tests.integration.auth_support import page_text

pytestmark = pytest.mark.usefixtures("app_ctx")

STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")


# --------------------------------------------------------------------------- helpers


def _sign_in(client, user, **extra):
    return client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                       **extra})


def _start_totp(client):
    """Open the set-up page; (secret as shown, sealed set-up token)."""
    page = client.get("/account/security/app")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    assert "<svg" in html  # the QR code, made on the server
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)</code>", html).group(1).replace(" ", "")
    setup = re.search(r'name="setup" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="setup" name="setup" type="hidden" value="([^"]+)"', html)
    return secret, setup.group(1)


def _enrol_totp(client, name="Diensthandy"):
    """Set up an app; (secret, recovery codes shown)."""
    secret, setup = _start_totp(client)
    response = client.post("/account/security/app", data={
        "name": name, "setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, page_text(response)
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>",
                       response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _next_code(secret):
    """A code of the next time step (the one of now was used for the set-up)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return bool(session.get("_user_id"))


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _set_policy(app, value):
    with app.app_context():
        settings.set_setting(None, domain.POLICY_SETTING, value)
        db.session.commit()


@pytest.fixture
def enforce(app, monkeypatch):
    """The enrolment rule as in production (the rest of the suite runs without it)."""
    monkeypatch.setitem(app.config, "MFA_ENFORCE_ENROLMENT", True)


# --------------------------------------------------------------------------- enrolment


def test_totp_enrolment_needs_a_right_first_code_and_stores_the_secret_encrypted(
        app, client, outbox):
    user = factories.user(email="erika@example.org")
    _sign_in(client, user)
    secret, setup = _start_totp(client)

    wrong = client.post("/account/security/app", data={"name": "App", "setup": setup,
                                                       "code": "000000"})
    assert wrong.status_code == 422
    assert "Der Code ist nicht richtig" in page_text(wrong)
    assert db.session.execute(select(SecondFactor)).scalars().all() == []

    response = client.post("/account/security/app", data={
        "name": "Diensthandy", "setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert "Diese Codes zeigen wir nur jetzt" in page_text(response)
    factor = db.session.execute(select(SecondFactor)).scalar_one()
    assert factor.kind == "totp" and factor.name == "Diensthandy"
    assert secret not in (factor.totp_secret or "")
    with app.app_context():
        assert domain.decrypt_secret(factor.totp_secret) == secret
    assert len(db.session.execute(select(RecoveryCode)).scalars().all()) == 10
    assert [m.subject for m in outbox(user.email)][-1] == "Ein zweiter Faktor wurde hinzugefügt"
    assert _events("mfa.factor_added")


def test_a_set_up_token_of_another_account_is_refused(client):
    erika = factories.user()
    other = factories.user()
    _sign_in(client, erika)
    secret, setup = _start_totp(client)
    client.post("/logout")
    _sign_in(client, other)
    response = client.post("/account/security/app", data={
        "name": "App", "setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 422
    assert "zu lange gedauert" in page_text(response)
    assert db.session.execute(select(SecondFactor)).scalars().all() == []


# --------------------------------------------------------------------------- signing in


def test_sign_in_asks_for_the_code_and_a_used_code_is_refused(client):
    user = factories.user(email="erika@example.org")
    _sign_in(client, user)
    secret, _codes = _enrol_totp(client)
    client.post("/logout")

    first = _sign_in(client, user)
    assert first.headers["Location"].endswith("/login/second-factor")
    assert not _signed_in(client)  # not yet
    page = client.get("/login/second-factor")
    assert "Zweiter Faktor" in page_text(page)

    code = _next_code(secret)
    done = client.post("/login/second-factor", data={"code": code})
    assert done.status_code == 303
    assert _signed_in(client)
    with client.session_transaction() as session:
        assert session["innolab_second_factor"] is True
    client.post("/logout")

    _sign_in(client, user)
    replay = client.post("/login/second-factor", data={"code": code})
    assert replay.status_code == 422
    assert "nicht richtig oder schon verwendet" in page_text(replay)
    assert not _signed_in(client)
    assert _events("security.mfa_failed")


def test_wrong_codes_count_in_the_back_off_and_a_right_password_does_not_reset_it(client):
    user = factories.user()
    _sign_in(client, user)
    secret, _codes = _enrol_totp(client)
    client.post("/logout")
    _sign_in(client, user)
    statuses = []
    for _attempt in range(3):
        _sign_in(client, user)  # the password again: the second-factor counter stays
        for _wrong in range(2):
            statuses.append(client.post("/login/second-factor",
                                        data={"code": "123456"}).status_code)
    assert 429 in statuses
    waiting = client.post("/login/second-factor", data={"code": _next_code(secret)})
    assert waiting.status_code == 429  # not even checked during the wait
    assert "Sekunden möglich" in page_text(waiting)
    assert not _signed_in(client)
    assert _events("security.mfa_delayed")


def test_the_pending_state_keeps_nothing_of_the_visit_and_expires(client):
    user = factories.user()
    _sign_in(client, user)
    _enrol_totp(client)
    client.post("/logout")
    with client.session_transaction() as session:
        session["left_over"] = "aus dem Besuch"
    _sign_in(client, user)
    with client.session_transaction() as session:
        assert "left_over" not in session
        state = dict(session["innolab_mfa_pending"])
        state["at"] -= 6 * 60
        session["innolab_mfa_pending"] = state
    expired = client.get("/login/second-factor")
    assert expired.headers["Location"].endswith("/login")


def test_a_recovery_code_works_once(client):
    user = factories.user()
    _sign_in(client, user)
    _secret, codes = _enrol_totp(client)
    client.post("/logout")

    _sign_in(client, user)
    ok = client.post("/login/second-factor", data={"code": codes[0].upper()})
    assert ok.status_code == 303 and _signed_in(client)
    client.post("/logout")

    _sign_in(client, user)
    again = client.post("/login/second-factor", data={"code": codes[0]})
    assert again.status_code == 422 and not _signed_in(client)
    assert client.post("/login/second-factor", data={"code": codes[1]}).status_code == 303


def test_new_recovery_codes_replace_the_old_ones(client, outbox):
    user = factories.user()
    _sign_in(client, user)
    _secret, old = _enrol_totp(client)
    page = client.post("/account/security/recovery-codes")
    new = re.findall(r"<code>([a-z0-9-]{14})</code>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert outbox(user.email)[-1].subject == "Neue Wiederherstellungscodes für Ihr Konto"
    client.post("/logout")

    _sign_in(client, user)
    assert client.post("/login/second-factor", data={"code": old[0]}).status_code == 422
    assert client.post("/login/second-factor", data={"code": new[0]}).status_code == 303


def test_a_password_reset_link_does_not_skip_the_second_factor(client):
    user = factories.user()
    _sign_in(client, user)
    _enrol_totp(client)
    client.post("/logout")
    token = make_token("reset", db.session.get(User, user.id))
    response = client.post(f"/password/reset/{token}", data={
        "password": "ein-ganz-neues-Passwort-77", "password_confirm":
        "ein-ganz-neues-Passwort-77"})
    assert response.headers["Location"].endswith("/login/second-factor")
    assert not _signed_in(client)


# --------------------------------------------------------------------------- the page


def test_rename_and_remove_a_factor(client, outbox):
    user = factories.user()
    _sign_in(client, user)
    _enrol_totp(client)
    factor = db.session.execute(select(SecondFactor)).scalar_one()
    client.post(f"/account/security/{factor.id}/rename", data={"name": "Altes Handy"})
    assert "Altes Handy" in page_text(client.get("/account/security"))

    removed = client.post(f"/account/security/{factor.id}/remove", follow_redirects=True)
    assert "„Altes Handy“ wurde entfernt." in page_text(removed)
    assert db.session.execute(select(SecondFactor)).scalars().all() == []
    assert db.session.execute(select(RecoveryCode)).scalars().all() == []
    assert outbox(user.email)[-1].subject == "Ein zweiter Faktor wurde entfernt"
    assert _events("mfa.factor_removed")


def test_the_last_factor_of_staff_cannot_be_removed(client):
    user = factories.staff("reviewer")
    _sign_in(client, user)
    _enrol_totp(client)
    factor = db.session.execute(select(SecondFactor)).scalar_one()
    response = client.post(f"/account/security/{factor.id}/remove", follow_redirects=True)
    assert "Dies ist Ihr einziger zweiter Faktor" in page_text(response)
    assert db.session.execute(select(SecondFactor)).scalar_one().id == factor.id


def test_changes_need_a_recent_proof_of_identity(app, client):
    if "auth.reauthenticate" not in app.view_functions:
        pytest.skip("the re-authentication page (auth.reauthenticate) is not on this branch")
    user = factories.user()
    _sign_in(client, user)
    with client.session_transaction() as session:
        session[RECENT_AUTH_KEY] = int(time.time()) - 3600
    response = client.get("/account/security/app")
    with app.test_request_context():
        reauthenticate = url_for("auth.reauthenticate")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == reauthenticate
    assert db.session.execute(select(SecondFactor)).scalars().all() == []


def test_confirming_with_the_second_factor_counts_as_recent(client):
    user = factories.user()
    _sign_in(client, user)
    secret, _codes = _enrol_totp(client)
    with client.session_transaction() as session:
        session[RECENT_AUTH_KEY] = int(time.time()) - 3600
    response = client.post("/account/security/confirm?next=/account/security/app",
                           data={"code": _next_code(secret)})
    assert response.headers["Location"].endswith("/account/security/app")
    with client.session_transaction() as session:
        assert time.time() - session[RECENT_AUTH_KEY] < 60


# --------------------------------------------------------------------------- enforcement


@pytest.mark.parametrize("policy", domain.POLICIES)
@pytest.mark.parametrize("role", STAFF_ROLES)
def test_enforcement_for_each_staff_role_under_each_policy(app, client, enforce, role, policy):
    _set_policy(app, policy)
    user = factories.staff(role)
    _sign_in(client, user)
    covered = policy != domain.ADMINS or role == "admin"
    response = client.get("/account")
    if covered:
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/account/security")
        page = client.get("/account/security")
        assert "Ein zweiter Faktor ist für Ihr Konto vorgeschrieben" in page_text(page)
        assert client.get("/static/css/innolab.css").status_code == 200
        _enrol_totp(client)
        assert client.get("/account").status_code == 200
    else:
        assert response.status_code == 200


def test_a_partner_is_not_asked_until_they_switch_it_on(client, enforce):
    partner = factories.user()
    _sign_in(client, partner)
    assert client.get("/account").status_code == 200
    secret, _codes = _enrol_totp(client)
    assert client.get("/account").status_code == 200
    client.post("/logout")
    assert _sign_in(client, partner).headers["Location"].endswith("/login/second-factor")
    client.post("/login/second-factor", data={"code": _next_code(secret)})
    assert client.get("/account").status_code == 200


def test_a_session_that_has_not_shown_the_factor_is_asked_for_it(client):
    user = factories.user()
    _sign_in(client, user)
    secret, _codes = _enrol_totp(client)
    with client.session_transaction() as session:
        session["innolab_second_factor"] = False  # say, a session from before the factor
    response = client.get("/account")
    assert "/account/security/confirm" in response.headers["Location"]
    client.post("/account/security/confirm", data={"code": _next_code(secret)})
    assert client.get("/account").status_code == 200


# --------------------------------------------------------------------------- the policy


def test_admin_sets_the_policy_on_the_sign_in_settings_page(client):
    admin = factories.staff("admin")
    _sign_in(client, admin)
    page = client.get("/admin/sign-in")
    assert "Zweiter Faktor für Mitarbeitende" in page_text(page)
    assert 'value="all_staff" checked' in page.get_data(as_text=True) or \
        re.search(r'checked[^>]*value="all_staff"|value="all_staff"[^>]*checked',
                  page.get_data(as_text=True))
    client.post("/admin/sign-in/second-factor", data={"policy": "admins"})
    assert domain.policy() == "admins"
    [event] = [e for e in _events("setting.change") if e.details["key"] == "mfa_policy"]
    assert event.details["after"] == "admins" and event.actor_id == admin.id
    bad = client.post("/admin/sign-in/second-factor", data={"policy": "nobody"},
                      follow_redirects=True)
    assert "Bitte wählen Sie eine der angebotenen Regeln." in page_text(bad)
    assert domain.policy() == "admins"


def test_a_partner_cannot_change_the_policy(client):
    _sign_in(client, factories.user())
    assert client.post("/admin/sign-in/second-factor",
                       data={"policy": "admins"}).status_code == 403
    assert domain.policy() == "all_staff"


# --------------------------------------------------------------------------- admin recovery


def test_admin_reset_is_confirmed_audited_mailed_and_ends_the_sessions(
        app, client, new_client, smtp_server):
    person = factories.staff("reviewer", email="gutachter@example.org")
    theirs = new_client()
    _sign_in(theirs, person)
    _enrol_totp(theirs)

    admin = factories.staff("admin", name="Ada Admin")
    _sign_in(client, admin)
    page = client.get(f"/admin/users/{person.id}")
    assert "Zweite Faktoren zurücksetzen" in page_text(page)
    form = client.get(f"/admin/users/{person.id}/second-factors/reset")
    assert "Diensthandy" in page_text(form)

    missing = client.post(f"/admin/users/{person.id}/second-factors/reset",
                          data={"reason": "", "confirm": "y"})
    assert missing.status_code == 422
    assert "Bitte geben Sie den Grund an." in page_text(missing)
    unconfirmed = client.post(f"/admin/users/{person.id}/second-factors/reset",
                              data={"reason": "Handy verloren"})
    assert unconfirmed.status_code == 422
    assert db.session.execute(select(SecondFactor)).scalars().all() != []

    done = client.post(f"/admin/users/{person.id}/second-factors/reset", data={
        "reason": "Handy verloren, Rückruf unter der Nummer im Telefonverzeichnis",
        "confirm": "y"})
    assert done.status_code == 303
    assert db.session.execute(select(SecondFactor)).scalars().all() == []
    assert db.session.execute(select(RecoveryCode)).scalars().all() == []
    open_sessions = db.session.execute(select(UserSession).where(
        UserSession.user_id == person.id, UserSession.ended_at.is_(None))).scalars().all()
    assert open_sessions == []
    assert theirs.get("/account").status_code in (302, 303)  # signed out everywhere
    [event] = _events("mfa.admin_reset")
    assert event.actor_id == admin.id and event.object_id == person.id
    assert "Rückruf" in event.details["reason"]

    with app.app_context(), app.test_request_context():
        mailer.deliver_all()
    received = [msg for rcpt, msg in smtp_server.inbox.messages
                if "gutachter@example.org" in rcpt]
    assert received[-1]["Subject"] == "Ihre zweiten Faktoren wurden zurückgesetzt"
    assert "Ada Admin" in received[-1].get_body(("plain",)).get_content()

    # at the next sign-in the person signs in with the password and sets up a new factor
    theirs.post("/logout")
    assert _sign_in(theirs, person).headers["Location"] != "/login/second-factor"
    assert _signed_in(theirs)


def test_only_admins_reach_the_reset(client):
    person = factories.staff("reviewer")
    _sign_in(client, factories.staff("coordinator"))
    assert client.get(f"/admin/users/{person.id}/second-factors/reset").status_code == 403


def test_security_page_links_from_the_account_page(client):
    _sign_in(client, factories.user())
    assert "/account/security" in client.get("/account").get_data(as_text=True)


def test_recovery_codes_are_random_long_enough_and_kept_only_as_keyed_hashes(client):
    user = factories.user()
    _sign_in(client, user)
    _secret, codes = _enrol_totp(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        plain = code.replace("-", "").replace(" ", "")
        assert len(plain) >= 12  # 12 of 31 characters: more than 59 bits
    stored = db.session.execute(select(RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user.id)).scalars().all()
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "").replace(" ", "").lower()
        assert all(plain not in h.lower() for h in stored)
