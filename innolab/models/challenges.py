"""Authorities, topics and the challenges they publish."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON, CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text, false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ._base import UTCDateTime, Versioned, utcnow


class Authority(Model):
    """A state authority (Behörde) whose need a challenge describes."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(250), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    # its page on the showcase, /behoerden/<slug> (made from the short name or the name when
    # the authority is created, then kept: the address stays when the name changes)
    slug: Mapped[str | None] = mapped_column(String(220), unique=True)
    description: Mapped[str | None] = mapped_column(Text)  # Markdown, shown on its page

    def __str__(self) -> str:
        return self.name


class Topic(Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_de: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    def name_for(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_de


challenge_topics = Table(
    "challenge_topics",
    db.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class ChallengeStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Challenge(Versioned, Model):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("reviews_needed >= 1 AND reviews_needed <= 10",
                        name="reviews_needed_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    # The English texts, optional: the English pages show them when present
    # (innolab.i18n.localized), the German ones otherwise.
    title_en: Mapped[str | None] = mapped_column(String(200))
    summary_en: Mapped[str | None] = mapped_column(String(500))
    description_en: Mapped[str | None] = mapped_column(Text)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=ChallengeStatus.DRAFT.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How many reviews each proposal to the challenge needs (domain/assignment.py).
    reviews_needed: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # An anonymised first round of review: reviewers see nothing that identifies the
    # applicant until a coordinator shortlists the proposal for the open second round.
    anonymised_first_round: Mapped[bool] = mapped_column(default=False, server_default=false())

    authority: Mapped[Authority] = relationship(lazy="joined")
    topics: Mapped[list[Topic]] = relationship(secondary=challenge_topics, lazy="selectin")
    # The challenge's own review criteria, in their order; none: the default five
    # (domain/criteria.py).
    criteria: Mapped[list[ChallengeCriterion]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan",
        order_by="ChallengeCriterion.position")
    # The questions partners answer in proposals to it, in their order, the retired ones too
    # (domain/questions.py).
    questions: Mapped[list[ChallengeQuestion]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan",
        order_by="ChallengeQuestion.position, ChallengeQuestion.id")

    def is_open(self, today: date | None = None) -> bool:
        """Open for proposals: published and the deadline has not passed."""
        today = today or date.today()
        return self.status == ChallengeStatus.PUBLISHED.value and self.deadline >= today


class ChallengeCriterion(Model):
    """A review criterion of one challenge, published with it (domain/criteria.py has the
    rules: the weighted total, the knock-out minimum, when the criteria are frozen)."""

    __tablename__ = "challenge_criteria"
    __table_args__ = (
        CheckConstraint("weight >= 1", name="weight_positive"),
        CheckConstraint("scale_max >= 2", name="scale_at_least_two"),
        CheckConstraint("knockout_min IS NULL OR (knockout_min >= 1 AND knockout_min <= scale_max)",
                        name="knockout_within_scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"),
                                              index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_de: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    description_de: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)  # scored 1..scale_max
    knockout_min: Mapped[int | None] = mapped_column(Integer)  # below it: knocked out

    challenge: Mapped[Challenge] = relationship(back_populates="criteria")


class ChallengeQuestion(Model):
    """A question partners answer in a proposal to a challenge; without a challenge one of the
    default set for initiative proposals (domain/questions.py has the kinds and the rules).
    A question answered in a submitted proposal is never deleted: removing it retires it."""

    __tablename__ = "challenge_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    label_de: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str | None] = mapped_column(String(300))
    help_de: Mapped[str | None] = mapped_column(Text)
    help_en: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(default=False)
    unit: Mapped[str | None] = mapped_column(String(40))  # numbers
    # choices: a list of {"de": …, "en": …}; an answer holds the German text of its choice
    options: Mapped[list | None] = mapped_column(JSON)
    file_types: Mapped[str | None] = mapped_column(String(200))  # file questions, reserved
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    challenge: Mapped[Challenge | None] = relationship(back_populates="questions")

    @property
    def label(self) -> str:
        """The German label (innolab.i18n.localized picks `label_en` on English pages)."""
        return self.label_de

    @property
    def help(self) -> str | None:
        return self.help_de
