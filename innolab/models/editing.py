"""What a versioned record held after each save, so an edit conflict can show what changed."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, delete, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, Versioned, utcnow

if TYPE_CHECKING:
    from .users import User


class EditSnapshot(Model):
    """The edited fields of one record (`kind` = its table) at one `version`.

    Version 0 is the state before the first tracked save (author unknown). Only the last few
    per record are kept (domain.editing.KEEP); deleting the record deletes them.
    """

    __tablename__ = "edit_snapshots"
    __table_args__ = (
        UniqueConstraint("kind", "record_id", "version"),
        Index("ix_edit_snapshots_kind_record_id", "kind", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


@event.listens_for(Versioned, "after_delete", propagate=True)
def _forget_snapshots(mapper, connection, target) -> None:
    """A deleted record (e.g. a draft) leaves none of its texts behind."""
    connection.execute(delete(EditSnapshot).where(
        EditSnapshot.kind == target.__tablename__, EditSnapshot.record_id == target.id))
