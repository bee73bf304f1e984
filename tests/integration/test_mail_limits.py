"""Mails a stranger can cause (reset, confirmation, "already registered", invitation) reach one
address at most three times an hour and ten times a day, counted in the database; the pages
answer the same whether a mail went out or not."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, MailSend
from tests import factories
from tests.integration.auth_support import page_text

VICTIM = "erika@example.org"


def _forgot(client, n):
    # every request from another client address: the per-client limits do not help here
    return client.post("/password/forgot", data={"email": VICTIM},
                       environ_base={"REMOTE_ADDR": f"10.9.{n}.1"})


def _an_hour_passes():
    for row in db.session.execute(select(MailSend)).scalars():
        row.created_at -= timedelta(minutes=61)
    db.session.commit()


def test_reset_mails_to_one_address_stop_at_three_an_hour(client, app_ctx, outbox):
    factories.user(email=VICTIM)
    pages = [page_text(_forgot(client, n)) for n in range(6)]
    assert len(outbox(VICTIM)) == 3
    assert len(set(pages)) == 1  # the answer does not tell that the mail was held back
    limited = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "security.mail_limited")).scalars().all()
    assert len(limited) == 3 and limited[0].details == {"purpose": "reset", "window": "hour"}
    assert VICTIM not in str(limited[0].details)

    _an_hour_passes()
    _forgot(client, 7)
    assert len(outbox(VICTIM)) == 4


def test_at_most_ten_mails_a_day_to_one_address(client, app_ctx, outbox):
    factories.user(email=VICTIM)
    for hour in range(4):
        for n in range(3):
            _forgot(client, hour * 10 + n)
        _an_hour_passes()
    assert len(outbox(VICTIM)) == 10
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "security.mail_limited",
        AuditEvent.details["window"].as_string() == "day")).scalars().first() is not None


def test_confirmation_mails_count_towards_the_limit(client, app_ctx, outbox):
    password = "ein-langes-Passwort"
    response = client.post("/register", data={
        "email": VICTIM, "name": "Jemand", "password": password, "password_confirm": password,
        "consent": "y"})
    assert response.status_code == 200
    for n in range(4):
        client.post("/register/resend", data={"email": VICTIM},
                    environ_base={"REMOTE_ADDR": f"10.8.{n}.1"})
    assert len(outbox(VICTIM)) == 3
    # and the "already registered" answer to a second registration is held back as well
    client.post("/register", data={
        "email": VICTIM, "name": "Jemand", "password": password, "password_confirm": password,
        "consent": "y"})
    assert len(outbox(VICTIM)) == 3


def test_invitations_to_one_address_count_towards_the_limit(client, login, app_ctx, outbox):
    owner = factories.user(email="inhaber@example.org")
    login(owner)
    for _ in range(5):
        org = factories.organisation(owner=owner)
        response = client.post(f"/account/organisations/{org.id}/invite",
                               data={"email": "kollegin@example.org"})
        assert response.status_code in (200, 303)
    assert len(outbox("kollegin@example.org")) == 3


def test_limits_of_one_address_leave_others_alone(client, app_ctx, outbox):
    factories.user(email=VICTIM)
    factories.user(email="max@example.org")
    for n in range(4):
        _forgot(client, n)
    client.post("/password/forgot", data={"email": "max@example.org"})
    assert len(outbox("max@example.org")) == 1


def test_mail_counts_keep_no_address_in_the_clear(client, app_ctx, outbox):
    factories.user(email=VICTIM)
    _forgot(client, 1)
    (row,) = db.session.execute(select(MailSend)).scalars().all()
    assert row.purpose == "reset" and "erika" not in row.recipient_hash
