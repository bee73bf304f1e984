"""Small helpers shared by the models."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import DateTime, FromClause, Integer, TypeDecorator
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Versioned:
    """A record several people edit: every UPDATE checks and raises `lock_version`.

    SQLAlchemy's version counter adds ``WHERE lock_version = <the version loaded>`` to each
    UPDATE (and DELETE) and raises StaleDataError when no row matched, so a concurrent save
    based on an old version can never overwrite a newer one. Every change of the row raises
    the version, also a workflow move; what a person edits is compared in domain.editing.
    """

    if TYPE_CHECKING:
        __table__: ClassVar[FromClause]  # given by the mapped class that inherits this

    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1,
                                              server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.lock_version}
