"""The marker of the last change to what the pages show, one row every process reads
(`domain/changes.py`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class ChangeMarker(Model):
    """A new random `value` after each commit that changed what a page may show."""

    __tablename__ = "change_markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The one row, also in a database made by create_all (tests, the benchmarks); the migration
# inserts it in one made by Alembic.
event.listen(ChangeMarker.__table__, "after_create", DDL(
    "INSERT INTO change_markers (id, value, changed_at) VALUES (1, 'new', CURRENT_TIMESTAMP)"))
