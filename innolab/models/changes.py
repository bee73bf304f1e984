"""The marker of the last change to what the pages show, one row every process reads
(`domain/changes.py`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class ChangeMarker(Model):
    """A new random `value` after each commit that changed what a page may show."""

    __tablename__ = "change_markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
