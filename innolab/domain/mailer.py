"""Mail through the outbox: queue in the database, deliver over SMTP (or to the log).

Guarantees (see docs/notifications.md): a queued mail is delivered at least once; every copy
carries the Message-ID made when it was queued, so a receiving server can recognise a second
copy; a mail that can never go out as it is, is marked failed with the reason and never holds
back another mail.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from markupsafe import Markup, escape
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from flask_babel import gettext
from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..links import NoBaseURL, base_url
from ..models import OutboxMail
from ..models._base import utcnow
from .plaintext import has_forbidden, single_line, without_addresses
import contextlib

log = logging.getLogger("innolab.mail")

MAX_ATTEMPTS = 8
# A worker that takes a mail to send keeps it for this long; no other worker touches it meanwhile.
# Should the worker die before it marks the mail sent, the mail becomes due again afterwards.
CLAIM_SECONDS = 300
SUBJECT_MAX = 300  # the column's length


class MailConfigError(RuntimeError):
    """The configuration cannot make a mail (e.g. MAIL_FROM is no address): no mail is tried."""


class PermanentFailure(Exception):
    """This mail cannot go out as it is; another attempt would fail the same way."""


def header_text(value, max_length: int | None = None) -> str:
    """Text for a mail header (subject, display name): one line, no control characters."""
    return single_line(value, max_length)


# What stands in a mail where a name or title held a web address or a domain-like word.
ADDRESS_REMOVED = _l("[Adresse entfernt]")


def inert(value) -> str:
    """A name or title someone typed, for a mail: one line, and every web address or
    domain-like word in it replaced by ADDRESS_REMOVED, so that no mail program can make it a
    link (the forms refuse such names; this covers rows from before and names from elsewhere).
    Templates: `{{ organisation.name|inert }}` where the text already quotes it."""
    return without_addresses(value, str(ADDRESS_REMOVED))


def quoted(value) -> str:
    """`inert(value)` in the quotation marks of the mail's language („…“): someone's text, not
    the platform's. Templates: `{{ proposal.title|quoted }}`."""
    return gettext("„%(text)s“", text=inert(value))


def message_id_domain() -> str:
    """MAIL_MESSAGE_ID_DOMAIN, else BASE_URL's host, else the domain of MAIL_FROM's address.

    Never the machine's host name: every web process and worker makes the same kind of ID."""
    cfg = current_app.config
    if cfg.get("MAIL_MESSAGE_ID_DOMAIN"):
        return cfg["MAIL_MESSAGE_ID_DOMAIN"]
    host = urlsplit(cfg.get("BASE_URL") or "").hostname
    if host:
        return host
    sender = parseaddr(cfg.get("MAIL_FROM") or "")[1].rpartition("@")[2]
    return sender if sender and not has_forbidden(sender) else "innolab.invalid"


def new_message_id() -> str:
    return make_msgid(domain=message_id_domain())


def queue(recipient, template: str, subject, *, locale: str | None = None, kind: str = "general",
          **context) -> OutboxMail:
    """Render templates/mail/<template>.txt in the recipient's language and queue it.

    `recipient` is a User (its email and language are used) or an email address.
    `subject` may be a lazy string; it is rendered in the recipient's language too.
    Every mail also gets an HTML part: templates/mail/<template>.html when it exists, else the
    plain text set in the HTML layout (templates/mail/_layout.html), where only the platform's
    own links become clickable.
    Names and titles in the subject come from users: addresses in it are replaced (`inert`).
    """
    email = getattr(recipient, "email", recipient)
    locale = locale or getattr(recipient, "locale", None) or "de"
    with force_locale(locale):
        body = render_template(f"mail/{template}.txt", recipient=recipient, **context)
        subject_text = header_text(inert(subject), SUBJECT_MAX)
        try:
            html = render_template(f"mail/{template}.html", recipient=recipient,
                                   subject=subject_text, locale=locale, **context)
        except TemplateNotFound:
            html = render_template("mail/_layout.html", subject=subject_text, locale=locale,
                                   content=text_to_html(body, _own_site()))
    mail = OutboxMail(recipient=email, subject=subject_text, body_text=body, body_html=html,
                      kind=kind, message_id=new_message_id())
    db.session.add(mail)
    if has_app_context():
        g.innolab_mail_queued = True  # the web layer delivers after the request committed
    return mail


_URL = re.compile(r"https?://[^\s<>\"]+")


def _own_site() -> str | None:
    """Where the platform's own links start ("https://innolab.example/"), None without one."""
    try:
        return base_url() + "/"
    except NoBaseURL:
        return None


def text_to_html(body: str, own_site: str | None = None) -> Markup:
    """The plain-text mail as HTML paragraphs (escaped). Only links to the platform itself
    (starting with `own_site`, the BASE_URL) become clickable: any other address in the text
    came from someone's input and stays text."""
    body = body.split("\n-- \n")[0] if "\n-- \n" in body else body  # the footer is in the layout
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", body) if p.strip()]
    out = []
    for para in paragraphs:
        lines = []
        for line in para.split("\n"):
            parts, last = [], 0
            for m in _URL.finditer(line):
                url = m.group(0).rstrip(".,;)")
                if own_site is None or not url.startswith(own_site):
                    continue  # stays text, escaped with the rest of the line
                parts.append(escape(line[last:m.start()]))
                parts.append(Markup('<a href="{0}">{0}</a>').format(url))
                parts.append(escape(m.group(0)[len(url):]))
                last = m.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        out.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)))
    return Markup("\n").join(out)


def _sender() -> Address:
    """MAIL_FROM as a From address, its display name on one line."""
    name, addr = parseaddr(current_app.config["MAIL_FROM"])
    local, _, domain = addr.rpartition("@")
    if not local or not domain or has_forbidden(addr) or any(c.isspace() for c in addr):
        raise MailConfigError(
            f"MAIL_FROM is not a usable address: {current_app.config['MAIL_FROM']!r}")
    return Address(display_name=header_text(name), addr_spec=addr)


def _recipient(address: str) -> str:
    local, _, domain = (address or "").rpartition("@")
    if (not local or not domain or has_forbidden(address) or any(c.isspace() for c in address)
            or "@" in domain):
        raise PermanentFailure(f"invalid recipient address {address!r}")
    return address


def _message(mail: OutboxMail, sender: Address) -> EmailMessage:
    """The mail as it goes out; PermanentFailure when it cannot be built."""
    try:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = _recipient(mail.recipient)
        msg["Subject"] = header_text(mail.subject)  # old rows may hold a line break
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = mail.message_id
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(mail.body_text)
        if mail.body_html:
            msg.add_alternative(mail.body_html, subtype="html")
        msg.as_bytes()  # what cannot be written out fails here, not halfway through sending
    except PermanentFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the cause, this mail cannot be built
        raise PermanentFailure(f"message cannot be built: {type(exc).__name__}: {exc}") from exc
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


class _Unreachable(Exception):
    """The SMTP server could not be reached or refused the session (always worth a retry)."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class _Connection:
    """One SMTP session for a batch. When the server cannot be reached, the rest of the batch
    is not tried again (each mail would wait SMTP_TIMEOUT once more) but counts as one more
    failed attempt."""

    def __init__(self) -> None:
        self.server: smtplib.SMTP | None = None
        self.unreachable: _Unreachable | None = None

    def send(self, msg: EmailMessage) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.server is None:
            try:
                self.server = _smtp()
            except (OSError, smtplib.SMTPException) as exc:
                self.unreachable = _Unreachable(exc)
                raise self.unreachable from exc
        self.server.send_message(msg)

    def drop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.server.close()
        self.server = None

    def close(self) -> None:
        if self.server is not None:
            try:
                self.server.quit()
            except (OSError, smtplib.SMTPException):
                self.drop()
        self.server = None


def _permanent(exc: BaseException) -> bool:
    """A rejection for good of this recipient or this message (5xx), not a passing trouble."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    # e.g. an address that needs SMTPUTF8 and a server without it
    return isinstance(exc, smtplib.SMTPNotSupportedError)


def _reason(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, (PermanentFailure, _Unreachable)) else \
        f"{type(exc).__name__}: {exc}"
    return single_line(text, 1000)


def _fail(mail: OutboxMail, reason: str, *, attempt: bool = True) -> None:
    if attempt:
        mail.attempts += 1
    mail.failed_at = utcnow()
    mail.last_error = single_line(reason, 1000)
    log.error("Mail %s to %r failed for good: %s", mail.id, mail.recipient, mail.last_error)


def _retry_later(mail: OutboxMail, exc: BaseException) -> None:
    mail.attempts += 1
    mail.last_error = _reason(exc)
    mail.next_attempt_at = utcnow() + timedelta(minutes=2 ** mail.attempts)
    if mail.attempts >= MAX_ATTEMPTS:
        _fail(mail, f"given up after {mail.attempts} attempts: {mail.last_error}",
              attempt=False)
    else:
        log.warning("Mail %s to %r not delivered (attempt %s): %s", mail.id, mail.recipient,
                    mail.attempts, mail.last_error)


def _attempt(mail: OutboxMail, conn: _Connection, sender: Address) -> bool:
    """Try to send one mail and record the outcome on its row; True when it went out.

    Never raises for a problem of this mail or of the mail server.
    """
    try:
        msg = _message(mail, sender)
        if current_app.config["SMTP_HOST"]:
            conn.send(msg)
        else:
            log.info("Mail (no SMTP_HOST configured) to %s\nSubject: %s\n\n%s",
                     mail.recipient, msg["Subject"], mail.body_text)
    except PermanentFailure as exc:
        _fail(mail, str(exc))
        return False
    except _Unreachable as exc:
        _retry_later(mail, exc)
        return False
    except Exception as exc:  # noqa: BLE001 - recorded on the row; the next mail goes on
        if _permanent(exc):
            _fail(mail, _reason(exc))
        else:
            if not isinstance(exc, (OSError, smtplib.SMTPException)):
                log.exception("Unexpected error delivering mail %s", mail.id)
            _retry_later(mail, exc)
            conn.drop()  # the session's state is unknown; the next mail starts a new one
        return False
    mail.sent_at = utcnow()
    return True


def _commit() -> None:
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        raise


def claim(limit: int = 50) -> list[int]:
    """Take up to `limit` due mails for this worker; returns their ids (and commits).

    Safe with several workers: on PostgreSQL the candidate rows are locked with
    SELECT ... FOR UPDATE SKIP LOCKED, and each row is taken with a conditional UPDATE that
    pushes its next_attempt_at CLAIM_SECONDS ahead – a row another worker took is no longer
    due, so the UPDATE finds nothing (this also holds on SQLite, where FOR UPDATE is ignored).
    """
    now = utcnow()
    due = (OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
           OutboxMail.next_attempt_at <= now, OutboxMail.attempts < MAX_ATTEMPTS)
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
        if result.rowcount == 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
            taken.append(mail_id)
    _commit()
    return taken


def _deliver_batch(limit: int) -> tuple[int, int]:
    """Claim up to `limit` mails and try each; returns (sent, claimed)."""
    ids = claim(limit)
    if not ids:
        return 0, 0
    sender = _sender()  # a broken MAIL_FROM stops here: the claimed mails come back later
    conn = _Connection()
    sent = 0
    try:
        for mail_id in ids:
            mail = db.session.get(OutboxMail, mail_id)
            if mail is None or mail.sent_at is not None or mail.failed_at is not None:
                continue
            if not mail.message_id:  # a row written without one: fixed before the first try
                mail.message_id = new_message_id()
                _commit()
            if _attempt(mail, conn, sender):
                sent += 1
            # One commit per mail. Should it fail (the database went away), the loop stops
            # here: the mails of this batch stay claimed and are due again after
            # CLAIM_SECONDS – also the one just sent, which then goes out a second time with
            # the same Message-ID.
            _commit()
    finally:
        conn.close()
    return sent, len(ids)


def deliver_pending(limit: int = 50) -> int:
    """Send up to `limit` due mails of the outbox; returns how many went out. Commits per mail.

    A mail the server does not take for a passing reason (not reachable, timeout, 4xx) waits
    2, 4, 8 … minutes (attempts) before the next try and fails after MAX_ATTEMPTS. A mail that
    cannot go out as it is (its header cannot be built, invalid address, 5xx rejection of the
    recipient or the message) fails at once. A mail is marked sent right after the server
    accepted it. Raises only when the database or the configuration fails.
    """
    return _deliver_batch(limit)[0]


def deliver_all(batch: int = 50) -> int:
    """Deliver batch after batch until nothing is due; returns how many went out."""
    total = 0
    while True:
        sent, claimed = _deliver_batch(batch)
        total += sent
        if claimed < batch:
            return total


def failed_query():
    """Failed mails, the latest first."""
    return (select(OutboxMail)
            .where(OutboxMail.failed_at.is_not(None), OutboxMail.sent_at.is_(None))
            .order_by(OutboxMail.failed_at.desc(), OutboxMail.id.desc()))


def retrying_query():
    """Mails that could not be delivered yet and will be tried again, the oldest first."""
    return (select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
                                     OutboxMail.attempts > 0)
            .order_by(OutboxMail.id))


def send_again(mail: OutboxMail) -> None:
    """A failed mail is due again with fresh attempts (and its Message-ID)."""
    mail.failed_at = None
    mail.attempts = 0
    mail.next_attempt_at = utcnow()
