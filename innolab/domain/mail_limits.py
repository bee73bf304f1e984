"""Per-recipient limits on the mails a stranger can cause to be sent.

Anyone can type any address into the forms for registration, a new confirmation link or a
forgotten password, and a partner can invite any address into an organisation. Without a
limit per recipient, one client (or many) could fill a victim's mailbox; the per-client rate
limits do not stop that. So at most MAIL_LIMIT_PER_HOUR (3) and MAIL_LIMIT_PER_DAY (10) such
mails go to one address; beyond that the mail is silently not queued (the page answers the
same, so it tells nothing) and a `security.mail_limited` event is recorded. The reset and
confirmation links already sent stay valid, so the owner can still use them.

The counts are rows of `mail_sends` (the address only as a hash), shared by every web process.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import MailSend
from ..models._base import utcnow
from . import audit
from .accounts import normalise_email

log = logging.getLogger("innolab.mail")

PER_HOUR = 3
PER_DAY = 10


def _hash(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def allow(email: str, purpose: str) -> bool:
    """Whether a `purpose` mail may go to `email` now; counts it when it may."""
    config = current_app.config
    per_hour = config.get("MAIL_LIMIT_PER_HOUR", PER_HOUR)
    per_day = config.get("MAIL_LIMIT_PER_DAY", PER_DAY)
    now = utcnow()
    recipient = _hash(email)
    db.session.execute(delete(MailSend).where(MailSend.created_at < now - timedelta(days=1))
                       .execution_options(synchronize_session=False))
    sent = db.session.execute(
        select(func.count().label("day"),
               func.count().filter(MailSend.created_at >= now - timedelta(hours=1)).label("hour"))
        .where(MailSend.recipient_hash == recipient)
    ).one()
    if sent.hour >= per_hour or sent.day >= per_day:
        log.info("Mail %s not sent: the limit per recipient is reached", purpose)
        audit.record(None, "security.mail_limited", None, purpose=purpose,
                     window="hour" if sent.hour >= per_hour else "day")
        return False
    db.session.add(MailSend(recipient_hash=recipient, purpose=purpose, created_at=now))
    return True
