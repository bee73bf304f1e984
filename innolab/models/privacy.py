"""Requests for a copy of one's own data (Datenauskunft, Art. 15 and 20 DSGVO)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class ExportStatus(str, enum.Enum):
    REQUESTED = "requested"  # waiting for the worker
    READY = "ready"          # the ZIP can be downloaded until `expires_at`
    FAILED = "failed"        # building it failed; the person can ask again
    EXPIRED = "expired"      # the file is deleted


class DataExport(Model):
    """One request of a person for all their data; the ZIP lies in DATA_EXPORT_FOLDER."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ExportStatus.REQUESTED.value,
                                        index=True)
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)  # random, on disk
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a worker took it (a worker that died leaves it to another after a while).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error: Mapped[str | None] = mapped_column(Text)
