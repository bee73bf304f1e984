"""A running pilot: its goals, workspace (messages, milestones, documents) and results report."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, Versioned, utcnow

if TYPE_CHECKING:
    from .proposals import Attachment, Proposal
    from .users import User


class PilotGoal(Versioned, Model):
    """A measurable goal the pilot must show, agreed before it starts."""

    __tablename__ = "pilot_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    baseline: Mapped[str] = mapped_column(String(200))   # where we stand today
    target: Mapped[str] = mapped_column(String(200))     # what the pilot must reach
    measurement: Mapped[str] = mapped_column(Text)       # how it is measured
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="goals")


class Message(Model):
    """One message in the pilot's conversation; internal notes are for staff only."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    proposal: Mapped[Proposal] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class MilestoneStatus(str, enum.Enum):
    OPEN = "open"
    DONE = "done"
    LATE = "late"


class Milestone(Versioned, Model):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the "due soon" and "late" reminders went out (each only once).
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_late_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal: Mapped[Proposal] = relationship(back_populates="milestones")

    def status(self, today: date | None = None) -> str:
        if self.done_at is not None:
            return MilestoneStatus.DONE.value
        if self.due_date < (today or date.today()):
            return MilestoneStatus.LATE.value
        return MilestoneStatus.OPEN.value


class Document(Model):
    """A shared document of the pilot; every upload of a new version keeps the old ones."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(200))
    internal: Mapped[bool] = mapped_column(default=False)  # staff only when True
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="documents")
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentVersion.number"
    )

    @property
    def current(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None


class DocumentVersion(Model):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the upload check found that staff should know before opening the file, space
    # separated (PDF: javascript, embedded_files, launch, unchecked); None: nothing.
    content_flags: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()


class ReportStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"    # sent back with comments
    ACCEPTED = "accepted"    # accepting it completes the pilot


class ReportRecommendation(str, enum.Enum):
    ROLL_OUT = "roll_out"
    EXTEND = "extend"
    STOP = "stop"


class ResultsReport(Versioned, Model):
    __tablename__ = "results_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), unique=True, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=ReportStatus.DRAFT.value)
    summary: Mapped[str | None] = mapped_column(Text)
    what_worked: Mapped[str | None] = mapped_column(Text)
    what_did_not_work: Mapped[str | None] = mapped_column(Text)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(String(12))
    reuse_requirements: Mapped[str | None] = mapped_column(Text)  # what another authority needs
    publication_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_comment: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal: Mapped[Proposal] = relationship(back_populates="results_report")
    goal_results: Mapped[list[GoalResult]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )


class GoalResult(Model):
    """The value a pilot reached for one goal, against its target."""

    __tablename__ = "goal_results"
    __table_args__ = (UniqueConstraint("report_id", "goal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("results_reports.id", ondelete="CASCADE"),
                                           index=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("pilot_goals.id", ondelete="CASCADE"),
                                         index=True)
    value_reached: Mapped[str | None] = mapped_column(String(200))
    reached: Mapped[bool | None] = mapped_column()  # target met?
    comment: Mapped[str | None] = mapped_column(Text)

    report: Mapped[ResultsReport] = relationship(back_populates="goal_results")
    goal: Mapped[PilotGoal] = relationship(lazy="joined")


class PilotMute(Model):
    """A person who does not want to hear of each new message in one pilot's conversation
    (the pilot's other notifications still reach them)."""

    __tablename__ = "pilot_mutes"
    __table_args__ = (UniqueConstraint("user_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
