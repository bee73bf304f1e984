"""Receipts of handled form posts: a form sent twice has one effect."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class FormReceipt(Model):
    """One row per form post that carried a one-time token (`_once`).

    Written in the same transaction as the post's effect. A second post with the same token
    (a double click, a resend) finds the row and is answered with the first one's result
    page (`location`) and messages (`flashes`) instead of acting again.
    """

    __tablename__ = "form_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    endpoint: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(2000))
    flashes: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
