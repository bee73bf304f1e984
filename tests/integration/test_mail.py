"""Mail leaves through the outbox to a real SMTP server (aiosmtpd), once, and waits while it is down."""
from __future__ import annotations

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
    mailer.queue(user, "reviewer_assigned", "Subject", proposal=p, url="http://x/1")
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
                 proposal=factories.proposal(status="submitted"), url="http://x/2")
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
                 proposal=factories.proposal(status="submitted"), url="http://x/3")
    db.session.commit()
    with caplog.at_level("INFO", logger="innolab.mail"):
        assert mailer.deliver_pending() == 1
    assert "carla@example.org" in caplog.text and "http://x/3" in caplog.text
