"""Pilot proposals (Pilotvorschläge), their versions, attachments and timeline."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ._base import UTCDateTime, Versioned, utcnow

if TYPE_CHECKING:
    from .challenges import Challenge, ChallengeQuestion, Topic
    from .conflicts import ConflictDeclaration
    from .organisations import Organisation
    from .pilots import Document, Message, Milestone, PilotGoal, ResultsReport
    from .reviews import Check, Review, ReviewAssignment
    from .users import User


class Status(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    # the first, anonymised round of a challenge that has one (Challenge.anonymised_first_round)
    ANONYMOUS_REVIEW = "anonymous_review"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A pilot is an approved proposal, from approval until it ends.
PILOT_STATES = {Status.APPROVED.value, Status.RUNNING.value, Status.COMPLETED.value,
                Status.CANCELLED.value}

proposal_topics = Table(
    "proposal_topics",
    db.metadata,
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    # the topic filter of the lists: the proposals of a topic (the key serves the other way)
    Index("ix_proposal_topics_topic", "topic_id", "proposal_id"),
)

# The rows the public lists read, as an index predicate. It must be written as the queries
# write it (showcase.public_pilot_clause: `IS true`), or PostgreSQL does not use the index.
PUBLIC_INDEX_WHERE = text("publication_consent IS true AND published_at IS NOT NULL")

# The fields a partner writes; a version snapshot holds exactly these.
CONTENT_FIELDS = (
    "title", "title_en", "public_summary", "public_summary_en", "problem", "solution", "benefit",
    "trl", "duration_months", "cost_estimate", "personal_data", "personal_data_details",
    "hosting_location", "security_notes", "contact_name", "contact_email", "contact_phone",
    "publication_consent",
    "challenge_id",
)


class Proposal(Versioned, Model):
    __tablename__ = "proposals"
    # Every list's filter and order has an index (docs/performance.md, with the plans).
    __table_args__ = (
        # the showcase, the API and the feeds: public pilots, newest first, and their count
        Index("ix_proposals_public_order", "published_at", "id", "status",
              postgresql_where=PUBLIC_INDEX_WHERE, sqlite_where=PUBLIC_INDEX_WHERE),
        # "has this challenge a public pilot?" (the authority filter's choices, a challenge)
        Index("ix_proposals_public_challenge", "challenge_id", "status",
              postgresql_where=PUBLIC_INDEX_WHERE, sqlite_where=PUBLIC_INDEX_WHERE),
        # the staff inbox's orders
        Index("ix_proposals_submitted_at", "submitted_at", "id"),
        Index("ix_proposals_title", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT.value, index=True)

    title: Mapped[str] = mapped_column(String(200))
    public_summary: Mapped[str | None] = mapped_column(Text)
    # The public texts in English, optional: the English showcase shows them when present
    # (innolab.i18n.localized), the German ones otherwise.
    title_en: Mapped[str | None] = mapped_column(String(200))
    public_summary_en: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    benefit: Mapped[str | None] = mapped_column(Text)
    trl: Mapped[int | None] = mapped_column(Integer)
    duration_months: Mapped[int | None] = mapped_column(Integer)
    cost_estimate: Mapped[int | None] = mapped_column(Integer)  # whole euros
    personal_data: Mapped[bool] = mapped_column(default=False)
    personal_data_details: Mapped[str | None] = mapped_column(Text)
    hosting_location: Mapped[str | None] = mapped_column(String(300))
    security_notes: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    publication_consent: Mapped[bool] = mapped_column(default=False)

    version: Mapped[int] = mapped_column(default=0)  # number of submitted versions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the latest time
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Due dates of the steps after the reviews, each reminded (escalated) once when missed.
    checks_due_on: Mapped[date | None] = mapped_column(Date)
    decision_due_on: Mapped[date | None] = mapped_column(Date)
    reminded_checks_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_decision_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_rationale: Mapped[str | None] = mapped_column(Text)
    pilot_start_date: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a coordinator took it from the anonymised first round into the open second one
    # (the `shortlist` move): its reviews from then on are round 2 (domain/states.py).
    shortlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The staff member a coordinator named as the pilot's contact person: the one member of
    # the staff partners see by name.
    staff_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    # The search document, folded, by weight: titles, summaries, organisation/authority/topics
    # (kept current by domain/search.py; PostgreSQL adds the generated `search_vector`).
    search_a: Mapped[str | None] = mapped_column(Text, deferred=True)
    search_b: Mapped[str | None] = mapped_column(Text, deferred=True)
    search_c: Mapped[str | None] = mapped_column(Text, deferred=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    staff_contact: Mapped[User | None] = relationship(foreign_keys=[staff_contact_id])
    challenge: Mapped[Challenge | None] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    topics: Mapped[list[Topic]] = relationship(
        secondary=proposal_topics, lazy="selectin"
    )
    versions: Mapped[list[ProposalVersion]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalVersion.number"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Attachment.created_at"
    )
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="TimelineEntry.id",
    )
    assignments: Mapped[list[ReviewAssignment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    checks: Mapped[list[Check]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    goals: Mapped[list[PilotGoal]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="PilotGoal.position, PilotGoal.id",
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Message.id"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="Milestone.due_date, Milestone.id",
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Document.id"
    )
    conflict_declarations: Mapped[list[ConflictDeclaration]] = relationship(
        cascade="all, delete-orphan", order_by="ConflictDeclaration.id"
    )
    results_report: Mapped[ResultsReport | None] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", uselist=False
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Decision.id"
    )
    # The answers to the questions of its challenge or the default set (domain/questions.py).
    answers: Mapped[list[ProposalAnswer]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalAnswer.id"
    )

    @property
    def is_pilot(self) -> bool:
        return self.status in PILOT_STATES

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def display_reference(self) -> str:
        return self.reference or f"#{self.id}"

    def snapshot(self) -> dict:
        data = {name: getattr(self, name) for name in CONTENT_FIELDS}
        data["topics"] = sorted(t.slug for t in self.topics)
        # the answers to its set of questions under "q<question id>" (domain/questions.py)
        data.update({f"q{a.question_id}": a.value for a in self.answers
                     if a.value not in (None, "", [])
                     and a.question.challenge_id == self.challenge_id})
        return data


class DecisionState(str, enum.Enum):
    PENDING = "pending"        # waits for a second decider's co-signature (Mitzeichnung)
    FINAL = "final"            # the move was made (at once, or on co-signature)
    REFUSED = "refused"        # the co-signature was refused; the decision did not happen
    SUPERSEDED = "superseded"  # the proposal moved otherwise while it waited


class Decision(Model):
    """A decider's decision on a proposal (approve or reject) and the rules it was taken on.

    Final at once, or – above the co-signature threshold – pending until a second decider
    co-signs (domain/decisions.py). `basis` is the snapshot of what applied at that moment:
    criteria and weights, totals, knock-outs, reviews, recommendations, checks, cost and
    threshold."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    action: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=DecisionState.FINAL.value)
    decider_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    co_signature_required: Mapped[bool] = mapped_column(default=False)
    co_signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    co_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[dict] = mapped_column(JSON, default=dict)

    proposal: Mapped[Proposal] = relationship(back_populates="decisions")
    decider: Mapped[User | None] = relationship(foreign_keys=[decider_id])
    co_signer: Mapped[User | None] = relationship(foreign_keys=[co_signer_id])
    refused_by: Mapped[User | None] = relationship(foreign_keys=[refused_by_id])

    @property
    def pending(self) -> bool:
        return self.state == DecisionState.PENDING.value


class ProposalVersion(Model):
    """What the partner submitted, once per submission, so reviewers can see what changed."""

    __tablename__ = "proposal_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship(back_populates="versions")


class ProposalAnswer(Model):
    """The answer of a proposal to one question (the value as JSON: text, number, ISO date,
    bool, or the German text(s) of the choice(s))."""

    __tablename__ = "proposal_answers"
    __table_args__ = (UniqueConstraint("proposal_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_questions.id", ondelete="CASCADE"), index=True)
    value: Mapped[object | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="answers")
    question: Mapped[ChallengeQuestion] = relationship(lazy="joined")


class Attachment(Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    # Set when the file came with a message of the pilot's conversation.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                                   index=True)
    filename: Mapped[str] = mapped_column(String(255))  # the name the user gave, for display
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, on disk
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    internal: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the upload check found that staff should know before opening the file, space
    # separated (PDF: javascript, embedded_files, launch, unchecked); None: nothing.
    content_flags: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a coordinator released the file for the anonymised first round (its metadata
    # stripped, domain/anonymise.py); None: the round's reviewers neither see nor get it.
    first_round_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")
    message: Mapped[Message | None] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class TimelineEntry(Model):
    """One move of a proposal through its lifecycle (or a note on it), shown as its timeline."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    # Internal entries (e.g. reviewer assigned) are for staff only.
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="timeline")
    actor: Mapped[User | None] = relationship(lazy="joined")


class ReferenceCounter(Model):
    """The last reference number handed out per year (IL-2026-0001, ...)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
