"""Delivery after the response: a dead mail server never slows a page, and mail still leaves at
once (to the SMTP server, or to the log without one)."""
from __future__ import annotations

import time

from innolab.config import load_config
import requests
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import OutboxMail
from tests.smtp import wait_for

PASSWORD = "Sonnenblumen am Schweriner See"


def _register(http, base, email="anna@example.org"):
    return http.post(f"{base}/register", data={
        "email": email, "name": "Anna Beispiel", "password": PASSWORD,
        "password_confirm": PASSWORD, "consent": "y"}, timeout=60)


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _mail(app, email):
    with app.app_context():
        mail = db.session.execute(
            select(OutboxMail).where(OutboxMail.recipient == email)).scalar_one_or_none()
        db.session.remove()
        return mail


def test_pages_answer_fast_while_smtp_server_never_answers(app, live_url, tarpit,
                                                          after_request_delivery):
    registered, first = _timed(lambda: _register(requests, live_url))
    assert registered.status_code == 200
    following, second = _timed(lambda: requests.get(f"{live_url}/", timeout=60))
    assert following.status_code == 200
    assert first < 3 and second < 3, (first, second)

    # The mail waits in the outbox for the next attempt once the server gives up.
    tarpit.close()
    mail = wait_for(lambda: (m := _mail(app, "anna@example.org")) and m.attempts and m, 30)
    assert mail is not None and mail.sent_at is None and mail.last_error


def test_mail_reaches_smtp_server_right_after_the_request(app, live_url, smtp_server,
                                                          after_request_delivery):
    assert _register(requests, live_url).status_code == 200
    assert wait_for(lambda: smtp_server.inbox.messages, 10)
    (rcpts, msg), = smtp_server.inbox.messages
    assert rcpts == ["anna@example.org"]
    assert "/confirm/" in msg.get_body(preferencelist=("plain",)).get_content()
    # the outbox row is stamped as sent right after the server took the mail
    assert wait_for(lambda: _mail(app, "anna@example.org").sent_at, 10)


def test_confirmation_link_reaches_log_at_once_without_smtp_host(app, live_url, caplog,
                                                                 after_request_delivery):
    assert not app.config["SMTP_HOST"]
    with caplog.at_level("INFO", logger="innolab.mail"):
        for n in range(3):  # every time, not only the first
            email = f"person{n}@example.org"
            assert _register(requests, live_url, email).status_code == 200
            logged = wait_for(lambda email=email: [r.getMessage() for r in caplog.records
                                                   if email in r.getMessage()], 5)
            assert logged and "/confirm/" in logged[0]


def test_no_delivery_after_the_request_by_default_in_production(monkeypatch, tmp_path):
    monkeypatch.delenv("MAIL_SEND_AFTER_REQUEST", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("INNOLAB_ENV", "production")
    assert load_config(tmp_path)["MAIL_SEND_AFTER_REQUEST"] is False
    monkeypatch.setenv("INNOLAB_ENV", "development")
    assert load_config(tmp_path)["MAIL_SEND_AFTER_REQUEST"] is True
    monkeypatch.setenv("INNOLAB_ENV", "production")
    monkeypatch.setenv("MAIL_SEND_AFTER_REQUEST", "true")
    assert load_config(tmp_path)["MAIL_SEND_AFTER_REQUEST"] is True
