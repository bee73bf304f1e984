"""Mail leaves through the outbox to a real SMTP server (aiosmtpd), once, and waits while it is
down."""
from __future__ import annotations

from datetime import timedelta
import socket

import pytest

from innolab.domain import mailer
from innolab.extensions import db
from innolab.models import OutboxMail
from innolab.models._base import utcnow
from tests import factories
from tests.smtp import SMTPServer


@pytest.fixture
def smtp(app):
    server = SMTPServer()
    server.start()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server, server.inbox
    app.config.update(SMTP_HOST=old[0], SMTP_PORT=old[1])
    server.stop()


def test_outbox_mail_reaches_smtp_server_in_recipients_language(app_ctx, smtp):
    _, inbox = smtp
    user = factories.user(email="anna@example.org", name="Anna Beispiel", locale="en")
    p = factories.proposal(status="submitted")
    mailer.queue(user, "reviewer_assigned", "Subject", proposal=p, link="http://x/1")
    db.session.commit()

    assert mailer.deliver_pending() == 1

    assert len(inbox.messages) == 1
    rcpts, msg = inbox.messages[0]
    assert rcpts == ["anna@example.org"]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert p.reference in body and "http://x/1" in body
    assert db.session.query(OutboxMail).one().sent_at is not None


def test_outbox_keeps_mail_while_server_down_and_sends_exactly_once(app_ctx, smtp):
    controller, inbox = smtp
    controller.stop()
    mailer.queue("bernd@example.org", "reviewer_assigned", "Betreff",
                 proposal=factories.proposal(status="submitted"), link="http://x/2")
    db.session.commit()

    assert mailer.deliver_pending() == 0
    mail = db.session.query(OutboxMail).one()
    assert mail.sent_at is None and mail.attempts == 1 and mail.last_error
    assert mail.next_attempt_at > utcnow()  # backs off

    controller.start()
    assert mailer.deliver_pending() == 0  # not due yet
    mail.next_attempt_at = utcnow()
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert mailer.deliver_pending() == 0  # never twice
    assert len(inbox.messages) == 1


def test_outbox_without_smtp_host_writes_mail_to_log(app_ctx, caplog):
    mailer.queue("carla@example.org", "reviewer_assigned", "Betreff",
                 proposal=factories.proposal(status="submitted"), link="http://x/3")
    db.session.commit()
    with caplog.at_level("INFO", logger="innolab.mail"):
        assert mailer.deliver_pending() == 1
    assert "carla@example.org" in caplog.text and "http://x/3" in caplog.text


# ---------------------------------------------------------------- the same mail, recognisably


def _messages(inbox):
    return [msg for _, msg in inbox.messages]


def test_copy_sent_after_lost_sent_mark_carries_the_same_message_id(app_ctx, smtp, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "BASE_URL", "https://innolab.zdmv.example")
    _, inbox = smtp
    mailer.queue("anna@example.org", "notification", "Betreff", subject_text="Betreff")
    db.session.commit()
    assert mailer.deliver_pending() == 1

    # The database restarted between the server's "OK" and the commit that marks the mail
    # sent: the row is as it was while claimed, and the claim runs out.
    mail = db.session.query(OutboxMail).one()
    mail.sent_at = None
    mail.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert mailer.deliver_pending() == 1

    first, second = _messages(inbox)
    assert first["Message-ID"] == second["Message-ID"] == mail.message_id
    assert first["Message-ID"].endswith("@innolab.zdmv.example>")


def test_message_id_domain_comes_from_configuration_not_the_host_name(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "BASE_URL", "")
    monkeypatch.setitem(app_ctx.config, "MAIL_FROM", "InnoLab ZDMV <innolab@zdmv.example>")
    assert mailer.queue("a@example.org", "notification", "B", subject_text="B").message_id \
        .endswith("@zdmv.example>")
    monkeypatch.setitem(app_ctx.config, "MAIL_MESSAGE_ID_DOMAIN", "mail.zdmv.example")
    other = mailer.queue("b@example.org", "notification", "B", subject_text="B").message_id
    assert other.endswith("@mail.zdmv.example>") and socket.getfqdn() not in other
    db.session.commit()
    ids = [m.message_id for m in db.session.query(OutboxMail)]
    assert len(set(ids)) == 2


# ---------------------------------------------------------------- poisoned and refused mails


def _old_row(**values) -> int:
    """A row as old data may hold it, written past queue() and the forms."""
    row = OutboxMail(**{"recipient": "x@example.org", "subject": "Betreff",
                        "body_text": "Guten Tag,\n\nText.", "kind": "general", **values})
    db.session.add(row)
    db.session.commit()
    return row.id


def test_subject_with_line_break_from_old_data_goes_out_on_one_line(app_ctx, smtp):
    _, inbox = smtp
    _old_row(recipient="anna@example.org",
             subject="Einladung zu Nordlicht\r\nBcc: victim@example.org")
    assert mailer.deliver_pending() == 1
    (rcpts, msg), = inbox.messages
    assert rcpts == ["anna@example.org"]
    assert msg["Subject"] == "Einladung zu Nordlicht Bcc: victim@example.org"
    assert msg["Bcc"] is None and msg["Message-ID"]


def test_queued_subject_is_cleaned_of_control_characters(app_ctx):
    mail = mailer.queue("a@example.org", "notification", "Meilenstein „Test\r\nphase\u202e“",
                        subject_text="x")
    assert mail.subject == "Meilenstein „Test phase“"


def test_permanent_failures_are_marked_failed_and_hold_back_no_other_mail(app_ctx, smtp):
    _, inbox = smtp
    inbox.refuse["gone@example.org"] = "550 5.1.1 Mailbox unavailable"
    bad_address = _old_row(recipient="eve@example.org\r\nBcc: victim@example.org")
    refused = _old_row(recipient="gone@example.org")
    unbuildable = _old_row(recipient="bernd@example.org", message_id="<a\r\nb@example.org>")
    mailer.queue("good@example.org", "notification", "Gut", subject_text="Gut")
    db.session.commit()

    assert mailer.deliver_pending() == 1
    assert [r for (r,), _ in inbox.messages] == ["good@example.org"]
    db.session.expire_all()
    for mail_id, reason in ((bad_address, "invalid recipient address"),
                            (refused, "550"), (unbuildable, "cannot be built")):
        mail = db.session.get(OutboxMail, mail_id)
        assert mail.failed_at is not None and mail.sent_at is None, reason
        assert reason in mail.last_error
    assert mailer.deliver_pending() == 0  # never tried again by itself
    assert len(inbox.messages) == 1


def test_recipient_refused_for_now_is_tried_again_later(app_ctx, smtp):
    _, inbox = smtp
    inbox.refuse["busy@example.org"] = "450 4.2.1 Mailbox busy, try later"
    busy = _old_row(recipient="busy@example.org")
    _old_row(recipient="fine@example.org")
    assert mailer.deliver_pending() == 1
    mail = db.session.get(OutboxMail, busy)
    db.session.refresh(mail)
    assert mail.failed_at is None and mail.sent_at is None and mail.attempts == 1
    assert "450" in mail.last_error and mail.next_attempt_at > utcnow()

    del inbox.refuse["busy@example.org"]
    mail.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert sorted(r for (r,), _ in inbox.messages) == ["busy@example.org", "fine@example.org"]


def test_mail_fails_after_the_last_attempt(app_ctx, smtp):
    controller, _ = smtp
    controller.stop()
    mail_id = _old_row(attempts=mailer.MAX_ATTEMPTS - 1)
    assert mailer.deliver_pending() == 0
    mail = db.session.get(OutboxMail, mail_id)
    db.session.refresh(mail)
    assert mail.failed_at is not None and mail.attempts == mailer.MAX_ATTEMPTS
    assert mail.last_error.startswith(f"given up after {mailer.MAX_ATTEMPTS} attempts")
