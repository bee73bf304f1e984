"""Reviewer assignments, reviews and the special checks (data protection, information security)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .challenges import ChallengeCriterion
    from .proposals import Proposal
    from .users import User

# The default criteria, each scored 1-5, one column each on Review: every review of a proposal
# without a challenge, or to a challenge without criteria of its own, is scored on these.
# A challenge's own criteria are scored in ReviewScore rows (domain/criteria.py).
CRITERIA = ("innovation", "benefit", "feasibility", "cost_effectiveness", "privacy_security")


class Recommendation(str, enum.Enum):
    APPROVE = "approve"
    REVISE = "revise"
    REJECT = "reject"


class CheckKind(str, enum.Enum):
    DATA_PROTECTION = "data_protection"
    INFORMATION_SECURITY = "information_security"


class CheckOutcome(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"


class ReviewAssignment(Model):
    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    conflict_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conflict_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)  # review due by
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the reviewer confirmed they have no conflict of interest: until then they see
    # nothing of the proposal's content (permissions.awaiting_confirmation).
    no_conflict_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal: Mapped[Proposal] = relationship(back_populates="assignments")
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id], lazy="joined")

    @property
    def active(self) -> bool:
        return self.conflict_declared_at is None

    @property
    def confirmed(self) -> bool:
        """The reviewer confirmed they have no conflict of interest."""
        return self.no_conflict_confirmed_at is not None


class Review(Model):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id", "round",
                                       name="uq_reviews_proposal_reviewer_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    innovation: Mapped[int | None] = mapped_column(Integer)
    benefit: Mapped[int | None] = mapped_column(Integer)
    feasibility: Mapped[int | None] = mapped_column(Integer)
    cost_effectiveness: Mapped[int | None] = mapped_column(Integer)
    privacy_security: Mapped[int | None] = mapped_column(Integer)
    recommendation: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)  # internal, staff only
    # an optional comment per criterion (internal too): f"{criterion}_comment"
    innovation_comment: Mapped[str | None] = mapped_column(Text)
    benefit_comment: Mapped[str | None] = mapped_column(Text)
    feasibility_comment: Mapped[str | None] = mapped_column(Text)
    cost_effectiveness_comment: Mapped[str | None] = mapped_column(Text)
    privacy_security_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 1, or 2 for a review written after the proposal was shortlisted from an anonymised
    # first round (states.current_round); only the current round's reviews count.
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    proposal: Mapped[Proposal] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship(lazy="joined")
    # the scores on the challenge's own criteria (none for the default five)
    score_rows: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan", lazy="selectin")

    def __init__(self, **kw):
        kw.setdefault("round", 1)  # at once, not only on insert: the rules read it before
        super().__init__(**kw)

    @property
    def completed(self) -> bool:
        return self.submitted_at is not None

    @property
    def scores(self) -> dict[str, int | None]:
        """Every score stored on the review, by criterion key (domain/criteria.py `key`):
        the default five's columns and the rows of a challenge's own criteria."""
        return {**{c: getattr(self, c) for c in CRITERIA},
                **{f"c{row.criterion_id}": row.score for row in self.score_rows}}

    @property
    def comments(self) -> dict[str, str | None]:
        return {**{c: getattr(self, f"{c}_comment") for c in CRITERIA},
                **{f"c{row.criterion_id}": row.comment for row in self.score_rows}}


class ReviewScore(Model):
    """A review's score (and optional internal comment) on one of the challenge's own
    criteria."""

    __tablename__ = "review_scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_criteria.id", ondelete="CASCADE"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)

    review: Mapped[Review] = relationship(back_populates="score_rows")
    criterion: Mapped[ChallengeCriterion] = relationship()


class Check(Model):
    """The data-protection or information-security check of a proposal; the latest one counts."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(30))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    # Data-protection checks only: is a data-protection impact assessment (DSFA, Art. 35
    # DSGVO) and a processing agreement (AV-Vertrag, Art. 28) needed, and done?
    # "not_needed", "needed" or "done" (domain/review.py DPIA_LABELS, AGREEMENT_LABELS).
    dpia: Mapped[str | None] = mapped_column(String(12))
    processing_agreement: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="checks")
    officer: Mapped[User | None] = relationship(lazy="joined")
    conditions: Mapped[list[CheckCondition]] = relationship(
        back_populates="check", cascade="all, delete-orphan",
        order_by="CheckCondition.position", lazy="selectin")


class CheckCondition(Model):
    """A condition a check passed with ("Auflage"): the pilot does not start until an officer
    of the check's kind marks it met."""

    __tablename__ = "check_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(300))
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    met_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    check: Mapped[Check] = relationship(back_populates="conditions")
    met_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def met(self) -> bool:
        return self.met_at is not None
