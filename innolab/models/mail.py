"""The outbox: every mail is written here first and delivered afterwards.

A row is sent (`sent_at`), waiting (neither stamp; `attempts`, `last_error` and
`next_attempt_at` tell about the retries) or failed (`failed_at`, `last_error` says why): a mail
that can never go out as it is, or that ran out of attempts. Only an admin sends it again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class OutboxMail(Model):
    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), default="general")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Made when the mail is queued and sent with every attempt, so that a copy (after a crash
    # between the server's "OK" and marking the row sent) carries the same Message-ID.
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
