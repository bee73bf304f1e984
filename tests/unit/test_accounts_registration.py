"""The domain rules of local accounts (innolab.domain.registration)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from innolab.domain import accounts, registration, sessions
from innolab.domain.registration import LoginRefused, PasswordRejected
from innolab.extensions import db
from innolab.models import AuditEvent, OutboxMail, User
from tests import factories

PASSWORD = "Sonnenblumen am Schweriner See"


def _mails():
    return db.session.execute(select(OutboxMail).order_by(OutboxMail.id)).scalars().all()


def _actions():
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    return [e.action for e in events]


def test_register_new_address_creates_account_and_queues_confirmation(app_ctx):
    user = registration.register(" Neu@Example.org ", " Nora Neu ", PASSWORD, "en")
    db.session.commit()
    assert user.email == "neu@example.org" and user.name == "Nora Neu" and user.locale == "en"
    assert not user.email_confirmed
    assert accounts.verify_password(user, PASSWORD)
    (mail,) = _mails()
    assert mail.recipient == "neu@example.org" and "/confirm/" in mail.body_text
    assert _actions() == ["user.register", "consent.terms"]  # the form's consent, versioned


def test_register_unknown_locale_falls_back_to_german(app_ctx):
    assert registration.register("neu@example.org", "Nora", PASSWORD, "fr").locale == "de"


def test_register_known_address_creates_nothing_and_tells_the_owner(app_ctx):
    owner = factories.user(email="erika@example.org", name="Erika")
    old_hash = owner.password_hash
    assert registration.register("ERIKA@example.org", "Mallory", PASSWORD, "de") is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert owner.name == "Erika" and owner.password_hash == old_hash
    (mail,) = _mails()
    assert mail.recipient == "erika@example.org" and mail.subject == "Ihr Konto beim InnoLab"


def test_register_refuses_a_short_password(app_ctx):
    with pytest.raises(PasswordRejected):
        registration.register("neu@example.org", "Nora", "kurz", "de")
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("password,ok", [
    (("Moorbirke-Flut-" * 20)[:accounts.MIN_PASSWORD_LENGTH - 1], False),
    (("Moorbirke-Flut-" * 20)[:accounts.MIN_PASSWORD_LENGTH], True),
    (("Moorbirke-Flut-" * 20)[:registration.MAX_PASSWORD_LENGTH], True),
    (("Moorbirke-Flut-" * 20)[:registration.MAX_PASSWORD_LENGTH + 1], False),
    ("", False),
])
def test_check_password_rules_lengths(password, ok):
    if ok:
        registration.check_password_rules(password)
    else:
        with pytest.raises(PasswordRejected):
            registration.check_password_rules(password)


def test_confirm_email_sets_the_date_once_and_the_link_then_stops_working(app_ctx):
    user = factories.user(confirmed=False)
    token = accounts.make_token("confirm", user)
    assert registration.confirm_email(token) is user
    assert user.email_confirmed_at is not None
    db.session.commit()
    assert registration.confirm_email(token) is None
    assert registration.confirm_email("kaputt") is None


def test_confirm_email_of_a_deactivated_account_is_refused(app_ctx):
    user = factories.user(confirmed=False, active=False)
    assert registration.confirm_email(accounts.make_token("confirm", user)) is None
    assert user.email_confirmed_at is None


def test_authenticate_outcomes(app_ctx):
    factories.user(email="ok@example.org")
    factories.user(email="offen@example.org", confirmed=False)
    factories.user(email="weg@example.org", active=False)
    assert registration.authenticate("OK@example.org", factories.PASSWORD)
    for email, password in [("ok@example.org", "falsch"), ("wer@example.org", factories.PASSWORD),
                            ("weg@example.org", factories.PASSWORD)]:
        assert registration.authenticate(email, password).refused is LoginRefused.WRONG
    unconfirmed = registration.authenticate("offen@example.org", factories.PASSWORD)
    assert unconfirmed.refused is LoginRefused.UNCONFIRMED and not unconfirmed
    assert registration.authenticate("offen@example.org", "falsch").refused is LoginRefused.WRONG


def _active(user):
    return [row.id for row in sessions.active_sessions(user)]


def test_logout_ends_only_this_session(app_ctx):
    user = factories.user()
    token, this = sessions.open_session(user, "password")
    _other, other = sessions.open_session(user, "password")
    registration.logout(user, token)
    db.session.commit()
    assert _active(user) == [other.id]
    assert sessions.lookup(token).state is sessions.State.ENDED
    assert _actions() == ["user.logout"]


def test_request_password_reset_only_for_active_accounts(app_ctx):
    factories.user(email="ok@example.org")
    factories.user(email="weg@example.org", active=False)
    for email in ("ok@example.org", "weg@example.org", "wer@example.org"):
        registration.request_password_reset(email)
    assert [m.recipient for m in _mails()] == ["ok@example.org"]


def test_reset_password_sets_password_confirms_and_ends_sessions(app_ctx):
    user = factories.user(confirmed=False)
    token = accounts.make_token("reset", user)
    sessions.open_session(user, "password")
    assert registration.user_for_reset(token) is user
    registration.reset_password(user, PASSWORD)
    db.session.commit()
    assert accounts.verify_password(user, PASSWORD)
    assert user.email_confirmed and _active(user) == []
    assert registration.user_for_reset(token) is None  # used


def test_reset_password_refuses_a_short_password(app_ctx):
    user = factories.user()
    with pytest.raises(PasswordRejected):
        registration.reset_password(user, "kurz")
    assert accounts.verify_password(user, factories.PASSWORD)


def test_change_password_needs_the_current_one(app_ctx):
    user = factories.user()
    _token, row = sessions.open_session(user, "password")
    assert not registration.change_password(user, "falsch", PASSWORD)
    assert _active(user) == [row.id]
    assert registration.change_password(user, factories.PASSWORD, PASSWORD)
    assert accounts.verify_password(user, PASSWORD)
    assert _active(user) == []
    assert _actions() == ["user.password_change_failed", "user.password_changed"]


def test_update_settings_ignores_unknown_language_and_empty_name(app_ctx):
    user = factories.user(name="Erika", locale="de")
    registration.update_settings(user, "  ", "fr")
    assert user.name == "Erika" and user.locale == "de"
    assert _actions() == []
    registration.update_settings(user, "Erika M.", "en")
    assert user.name == "Erika M." and user.locale == "en"
    assert _actions() == ["user.settings_changed"]
