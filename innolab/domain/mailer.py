"""Mail through the outbox: queue in the database, deliver over SMTP (or to the log)."""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import (
    current_app,
    g,
    has_app_context,
    has_request_context,
    render_template,
    url_for,
)
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from markupsafe import Markup, escape
from sqlalchemy import select, update

from ..extensions import db
from ..models import OutboxMail
from ..models._base import utcnow

log = logging.getLogger("innolab.mail")

MAX_ATTEMPTS = 8
# A worker that takes a mail to send keeps it for this long; no other worker touches it meanwhile.
# Should the worker die before it marks the mail sent, the mail becomes due again afterwards.
CLAIM_SECONDS = 300


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
    Every mail also gets an HTML part: templates/mail/<template>.html when it exists, else the
    plain text set in the HTML layout (templates/mail/_layout.html).
    """
    email = getattr(recipient, "email", recipient)
    locale = locale or getattr(recipient, "locale", None) or "de"
    with force_locale(locale):
        body = render_template(f"mail/{template}.txt", recipient=recipient, **context)
        subject_text = str(subject)
        try:
            html = render_template(f"mail/{template}.html", recipient=recipient,
                                   subject=subject_text, locale=locale, **context)
        except TemplateNotFound:
            html = render_template("mail/_layout.html", subject=subject_text, locale=locale,
                                   content=text_to_html(body))
    mail = OutboxMail(recipient=email, subject=subject_text, body_text=body, body_html=html,
                      kind=kind)
    db.session.add(mail)
    if has_app_context():
        g.innolab_mail_queued = True  # the web layer delivers after the request committed
    return mail


_URL = re.compile(r"https?://[^\s<>\"]+")


def text_to_html(body: str) -> Markup:
    """The plain-text mail as HTML paragraphs (escaped), with its links clickable."""
    body = body.split("\n-- \n")[0] if "\n-- \n" in body else body  # the footer is in the layout
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", body) if p.strip()]
    out = []
    for para in paragraphs:
        lines = []
        for line in para.split("\n"):
            parts, last = [], 0
            for m in _URL.finditer(line):
                parts.append(escape(line[last:m.start()]))
                url = m.group(0).rstrip(".,;)")
                parts.append(Markup('<a href="{0}">{0}</a>').format(url))
                parts.append(escape(m.group(0)[len(url):]))
                last = m.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        out.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)))
    return Markup("\n").join(out)


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


def claim(limit: int = 50) -> list[int]:
    """Take up to `limit` due mails for this worker; returns their ids (and commits).

    Safe with several workers: on PostgreSQL the candidate rows are locked with
    SELECT ... FOR UPDATE SKIP LOCKED, and each row is taken with a conditional UPDATE that
    pushes its next_attempt_at CLAIM_SECONDS ahead – a row another worker took is no longer
    due, so the UPDATE finds nothing (this also holds on SQLite, where FOR UPDATE is ignored).
    """
    now = utcnow()
    due = (OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now,
           OutboxMail.attempts < MAX_ATTEMPTS)
    ids = db.session.execute(
        select(OutboxMail.id).where(*due).order_by(OutboxMail.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    taken = []
    until = now + timedelta(seconds=CLAIM_SECONDS)
    for mail_id in ids:
        result = db.session.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id, *due)
            .values(next_attempt_at=until).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            taken.append(mail_id)
    db.session.commit()
    return taken


def deliver_pending(limit: int = 50) -> int:
    """Send what is due in the outbox; returns how many went out. Commits per mail.

    A mail that cannot be delivered waits 2, 4, 8 … minutes (attempts) before the next try and
    is given up after MAX_ATTEMPTS; a mail is marked sent right after the server accepted it.
    """
    ids = claim(limit)
    if not ids:
        return 0
    host = current_app.config["SMTP_HOST"]
    sent = 0
    server = None
    try:
        for mail_id in ids:
            mail = db.session.get(OutboxMail, mail_id)
            if mail is None or mail.sent_at is not None:
                continue
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
                if server is not None:
                    try:
                        server.close()
                    except (OSError, smtplib.SMTPException):
                        pass
                server = None
            db.session.commit()
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return sent
