"""Changing one's e-mail address, end to end through a real SMTP server (tests/smtp.py)."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from flask import url_for
from itsdangerous import TimestampSigner
from sqlalchemy import select

from innolab.domain import mailer, registration
from innolab.extensions import db
from innolab.models import AuditEvent, User
from tests import factories
from tests.integration.auth_support import page_text

NEW = "erika.neu@example.org"
SENT = "Bitte prüfen Sie Ihr Postfach"


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _delivered(smtp_server) -> dict[str, list[tuple[str, str]]]:
    """Send what is queued; {recipient: [(subject, plain text), …]} of what arrived."""
    mailer.deliver_all()
    inbox: dict[str, list[tuple[str, str]]] = {}
    for recipients, message in smtp_server.inbox.messages:
        body = message.get_body(("plain",)).get_content()
        for r in recipients:
            inbox.setdefault(r, []).append((str(message["Subject"]), body))
    return inbox


def _link(body: str) -> str:
    (url,) = re.findall(r"https?://\S+/account/email/confirm/\S+", body)
    parts = urlsplit(url)
    return parts.path


@pytest.fixture
def erika(app_ctx):
    return factories.user(email="erika@example.org", name="Erika Muster")


def _ask(client, email=NEW):
    return client.post("/account/email", data={"email": email})


def test_change_of_address_end_to_end(client, new_client, login, erika, smtp_server):
    phone = new_client()
    login(erika, phone)
    login(erika)
    assert 'href="/account/email"' in client.get("/account").get_data(as_text=True)
    response = _ask(client, " Erika.Neu@Example.org ")
    assert response.status_code == 200 and SENT in page_text(response)
    inbox = _delivered(smtp_server)
    ((subject, body),) = inbox[NEW]
    assert subject == "Neue E-Mail-Adresse für das InnoLab bestätigen"
    assert "24 Stunden gültig" in body
    link = _link(body)
    ((notice_subject, notice),) = inbox["erika@example.org"]
    assert notice_subject == "Änderung Ihrer E-Mail-Adresse beim InnoLab beantragt"
    assert "es wurde beantragt, die E-Mail-Adresse" in notice and NEW in notice
    assert "ändern Sie bitte sofort Ihr Passwort" in notice and "/account/password" in notice
    db.session.refresh(erika)
    assert erika.email == "erika@example.org"  # nothing changes before the link

    page = client.get(link)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and NEW in page_text(page)
    response = client.post(link)
    assert response.status_code == 303 and response.location == "/account"
    assert f"Ihre E-Mail-Adresse ist jetzt {NEW}." in page_text(client.get("/account"))
    db.session.refresh(erika)
    assert erika.email == NEW and erika.email_confirmed_at is not None
    (event,) = _events("user.email_changed")
    assert event.details == {"old": "erika@example.org", "new": NEW}
    assert phone.get("/account").status_code == 302  # the other sessions ended
    assert client.get("/account").status_code == 200
    inbox = _delivered(smtp_server)
    (done_subject, done), = inbox["erika@example.org"][1:]
    assert done_subject == "Ihre E-Mail-Adresse beim InnoLab wurde geändert"
    assert NEW in done
    # the link worked once; signing in now takes the new address
    assert client.post(link).status_code == 400
    fresh = new_client()
    assert fresh.post("/login", data={"email": "erika@example.org",
                                      "password": factories.PASSWORD}).status_code == 422
    assert fresh.post("/login", data={"email": NEW,
                                      "password": factories.PASSWORD}).status_code == 303


def test_address_of_another_account_gets_the_same_answer_and_a_notice(client, login, erika,
                                                                       smtp_server):
    other = factories.user(email="max@example.org", name="Max Anders")
    login(erika)
    response = _ask(client, "max@example.org")
    assert response.status_code == 200 and SENT in page_text(response)
    inbox = _delivered(smtp_server)
    ((_, body),) = inbox["max@example.org"]
    assert "Zu dieser Adresse gibt es bereits ein Konto" in body
    assert "/account/email/confirm/" not in body and "Erika" not in body
    ((_, notice),) = inbox["erika@example.org"]
    assert "es wurde beantragt" in notice
    db.session.refresh(erika)
    db.session.refresh(other)
    assert erika.email == "erika@example.org" and other.name == "Max Anders"
    (event,) = _events("user.email_change_requested")
    assert event.details == {"in_use": True}


def test_the_current_address_is_refused_at_the_field(client, login, erika, outbox):
    login(erika)
    response = _ask(client, "ERIKA@example.org")
    assert response.status_code == 422
    assert "Das ist bereits Ihre E-Mail-Adresse." in page_text(response)
    response = _ask(client, "keine-adresse")
    assert response.status_code == 422 and 'value="keine-adresse"' in \
        response.get_data(as_text=True)
    assert outbox() == []


def test_address_taken_before_the_link_is_followed(client, login, erika, outbox):
    login(erika)
    _ask(client)
    link = _link(outbox(NEW)[0].body_text)
    factories.user(email=NEW)  # someone registered it meanwhile
    response = client.post(link)
    assert response.status_code == 400
    assert "Dieser Link ist nicht mehr gültig" in page_text(response)
    db.session.refresh(erika)
    assert erika.email == "erika@example.org"
    assert _events("user.email_change_refused")[0].details == {"reason": "in_use"}


def test_expired_link(client, login, erika, app_ctx, monkeypatch):
    login(erika)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: int(time.time()) - 24 * 3600 - 60)
    with app_ctx.test_request_context():
        link = url_for("auth.confirm_email_change",
                       token=registration.make_email_change_token(erika, NEW))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 400
        text = page_text(response)
        assert "Dieser Link ist nicht mehr gültig" in text and "24 Stunden gültig" in text
    db.session.refresh(erika)
    assert erika.email == "erika@example.org"


def test_tampered_link(client, app_ctx):
    response = client.get("/account/email/confirm/nicht-echt")
    assert response.status_code == 400


def test_new_password_makes_a_pending_link_worthless(client, login, erika, outbox):
    login(erika)
    _ask(client)
    link = _link(outbox(NEW)[0].body_text)
    client.post("/account/password", data={
        "current_password": factories.PASSWORD, "password": "ein-ganz-neues-Passwort-7",
        "password_confirm": "ein-ganz-neues-Passwort-7"})
    assert client.post(link).status_code == 400
    db.session.refresh(erika)
    assert erika.email == "erika@example.org"


def test_link_followed_in_another_browser_signs_out_every_session(client, new_client, login,
                                                                  erika, outbox):
    login(erika)
    _ask(client)
    link = _link(outbox(NEW)[0].body_text)
    other = new_client()
    response = other.post(link)
    assert response.status_code == 303 and response.location == "/login"
    assert client.get("/account").status_code == 302
    assert db.session.get(User, erika.id).email == NEW


def test_per_recipient_mail_limits_apply(client, login, erika, outbox, app):
    login(erika)
    for _ in range(app.config["MAIL_LIMIT_PER_HOUR"] + 2):
        assert SENT in page_text(_ask(client))
    assert len(outbox(NEW)) == app.config["MAIL_LIMIT_PER_HOUR"]
    assert len(outbox("erika@example.org")) == app.config["MAIL_LIMIT_PER_HOUR"]
    assert _events("security.mail_limited")

