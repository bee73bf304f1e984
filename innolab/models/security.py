"""Counters that protect accounts and mailboxes, kept in the database so that every web
process (gunicorn worker, server) sees the same numbers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class SignInThrottle(Model):
    """Failed sign-ins of one account or one client address, for the back-off.

    `key` is a hash ("account:" or "address:" + the value), so the table holds neither
    addresses nor IPs in the clear. A successful sign-in or a password reset removes the
    account's row.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MailSend(Model):
    """One mail to an address that a stranger could have caused (confirmation, reset,
    "already registered", invitation); counted for the per-recipient limits."""

    __tablename__ = "mail_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_hash: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
