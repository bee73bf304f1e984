"""What the deletion schedule (domain/retention.py) remembers between its daily runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow


class RetentionNotice(Model):
    """A warning mail sent before something is deleted by `rule` (e.g. a stale draft).

    The deletion waits until the warning is old enough, and only if the object has not been
    changed since (`object_updated_at`): editing it starts the period again.
    """

    __tablename__ = "retention_notices"
    __table_args__ = (UniqueConstraint("rule", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column(Integer)
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    object_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
