"""Mail through the outbox: queue in the database, deliver over SMTP (or to the log)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, g, has_app_context, has_request_context, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMail
from ..models._base import utcnow

log = logging.getLogger("innolab.mail")

MAX_ATTEMPTS = 8


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: BASE_URL when set, else the current request's host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return "http://127.0.0.1:5000" + url_for(endpoint, **values)


def queue(recipient, template: str, subject, *, locale: str | None = None, kind: str = "general",
          **context) -> OutboxMail:
    """Render templates/mail/<template>.txt in the recipient's language and queue it.

    `recipient` is a User (its email and language are used) or an email address.
    `subject` may be a lazy string; it is rendered in the recipient's language too.
    """
    email = getattr(recipient, "email", recipient)
    locale = locale or getattr(recipient, "locale", None) or "de"
    with force_locale(locale):
        body = render_template(f"mail/{template}.txt", recipient=recipient, **context)
        subject_text = str(subject)
    mail = OutboxMail(recipient=email, subject=subject_text, body_text=body, kind=kind)
    db.session.add(mail)
    if has_app_context():
        g.innolab_mail_queued = True  # the web layer delivers after the request committed
    return mail


def _message(mail: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="innolab")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    return msg


def _smtp():
    cfg = current_app.config
    if cfg["SMTP_SSL"]:
        server = smtplib.SMTP_SSL(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"],
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"])
        if cfg["SMTP_STARTTLS"]:
            server.starttls(context=ssl.create_default_context())
    if cfg["SMTP_USER"]:
        server.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
    return server


def deliver_pending(limit: int = 50) -> int:
    """Send what is due in the outbox; returns how many went out. Commits per mail."""
    now = utcnow()
    mails = db.session.execute(
        select(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now,
               OutboxMail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMail.id)
        .limit(limit)
    ).scalars().all()
    if not mails:
        return 0
    host = current_app.config["SMTP_HOST"]
    sent = 0
    server = None
    try:
        for mail in mails:
            try:
                if host:
                    if server is None:
                        server = _smtp()
                    server.send_message(_message(mail))
                else:
                    log.info("Mail (no SMTP_HOST configured) to %s\nSubject: %s\n\n%s",
                             mail.recipient, mail.subject, mail.body_text)
                mail.sent_at = utcnow()
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                mail.next_attempt_at = utcnow() + timedelta(minutes=2 ** mail.attempts)
                log.warning("Mail %s to %s not delivered: %s", mail.id, mail.recipient, exc)
                server = None
            db.session.commit()
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return sent
