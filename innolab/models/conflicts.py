"""What the conflict-of-interest rule reads besides assignments and memberships: declarations
of staff without an assignment, memberships that ended, and the coordinators' decisions on
shared e-mail domains (see innolab/domain/conflicts.py)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .organisations import Organisation
    from .users import User


class FormerMembership(Model):
    """A membership that ended (the member left or was removed): the trace a conflict of
    interest needs once the membership row itself is gone."""

    __tablename__ = "former_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(10))
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    how: Mapped[str] = mapped_column(String(10))  # "left", "removed" or "recorded" (migration)

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()


class ConflictDeclaration(Model):
    """A staff member's declaration of a conflict of interest with a proposal (reviewers with
    an assignment declare it on the assignment instead)."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class DomainFlagDecision(Model):
    """A coordinator's decision on a shared e-mail domain between a staff member and a member
    of an organisation: "confirmed" (a conflict) or "cleared" (none), with the reason."""

    __tablename__ = "conflict_flag_decisions"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
