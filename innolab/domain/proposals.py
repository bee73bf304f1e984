"""The partner's side of proposals: drafts (create, update, delete), lists and version history.

The status of a proposal changes only through `workflow.apply`; this module never sets it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from innolab.i18n import lazy_gettext as _l
from sqlalchemy import delete, select

from ..extensions import db
from ..models import (
    CONTENT_FIELDS, Challenge, ChallengeQuestion, ChallengeStatus, Membership, Notification,
    Organisation, Proposal, Status, Topic, User,
)
from ..models._base import utcnow
from . import DomainError, audit, editing, questions, uploads
from .proposal_fields import FIELD_LABELS
from .states import is_editable
from flask_babel import get_locale
from .workflow import version_diff

# Technology readiness levels, short German descriptions.
TRL_LEVELS = {
    1: _l("Grundprinzipien beobachtet"),
    2: _l("Technologiekonzept formuliert"),
    3: _l("Machbarkeit experimentell nachgewiesen"),
    4: _l("Technologie im Labor validiert"),
    5: _l("Technologie in relevanter Umgebung validiert"),
    6: _l("Demonstrator in relevanter Umgebung"),
    7: _l("Prototyp im Einsatz erprobt"),
    8: _l("System vollständig und qualifiziert"),
    9: _l("System im Betrieb bewährt"),
}

_TEXT_FIELDS = ("title_en", "public_summary", "public_summary_en", "problem", "solution",
                "benefit", "personal_data_details", "hosting_location", "security_notes",
                "contact_name", "contact_email", "contact_phone")


# ---------------------------------------------------------------- lookups


def organisations_of(user) -> list[Organisation]:
    """The organisations `user` belongs to, by name."""
    if user is None or not getattr(user, "id", None):
        return []
    return list(db.session.execute(
        select(Organisation).join(Membership).where(Membership.user_id == user.id)
        .order_by(Organisation.name)
    ).scalars().unique())


def proposals_of(user):
    """A select of the proposals of every organisation `user` belongs to, newest change first."""
    org_ids = select(Membership.organisation_id).where(Membership.user_id == user.id)
    return (select(Proposal).where(Proposal.organisation_id.in_(org_ids))
            .order_by(Proposal.updated_at.desc(), Proposal.id.desc()))


def open_challenges(today: date | None = None) -> list[Challenge]:
    today = today or date.today()
    return list(db.session.execute(
        select(Challenge).where(Challenge.status == ChallengeStatus.PUBLISHED.value,
                                Challenge.deadline >= today)
        .order_by(Challenge.deadline, Challenge.title)
    ).scalars().unique())


def submit_action(p: Proposal) -> str:
    """The move that hands the proposal in: first submission or answer to a change request."""
    return "resubmit" if p.status == Status.CHANGES_REQUESTED.value else "submit"


# ---------------------------------------------------------------- drafts


def _edited_fields(p: Proposal) -> dict:
    data = p.snapshot()
    data["topics"] = sorted(t.id for t in p.topics)
    return data


def _show(p: Proposal, name: str, value) -> str:
    """A value of the proposal as the edit conflict notice shows it."""
    if value in (None, "", []):
        return editing.show_value(None)
    if name == "trl" and value in TRL_LEVELS:
        return str(_l("TRL %(level)d – %(text)s", level=value, text=TRL_LEVELS[value]))
    if name.startswith("q") and name[1:].isdigit():  # an answer (domain/questions.py)
        return questions.show(db.session.get(ChallengeQuestion, int(name[1:])), value)
    if name == "challenge_id":
        ch = db.session.get(Challenge, value)
        return ch.title if ch is not None else str(value)
    if name == "topics":
        locale = str(get_locale() or "de")
        topics = db.session.execute(select(Topic).where(Topic.id.in_(value))
                                    .order_by(Topic.name_de)).scalars()
        return ", ".join(t.name_for(locale) for t in topics)
    return editing.show_value(value)


# What a member edits in the proposal form, for domain.editing.
EDIT = editing.Editable(fields=_edited_fields,
                        labels=lambda p: {**FIELD_LABELS, **questions.labels(p)}, show=_show)


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _apply(p: Proposal, data: dict, topic_ids) -> None:
    for name in CONTENT_FIELDS:
        if name in ("challenge_id",) or name not in data:
            continue
        value = data[name]
        if name in _TEXT_FIELDS:
            value = _clean(value)
        elif name == "title":
            value = (value or "").strip()
        elif name in ("personal_data", "publication_consent"):
            value = bool(value)
        setattr(p, name, value)
    if not p.personal_data:
        p.personal_data_details = None
    if "challenge_id" in data:
        _set_challenge(p, data["challenge_id"])
    if topic_ids is not None:
        ids = {int(i) for i in topic_ids}
        p.topics = list(db.session.execute(
            select(Topic).where(Topic.id.in_(ids)).order_by(Topic.id)
        ).scalars()) if ids else []


def _set_challenge(p: Proposal, challenge_id) -> None:
    challenge_id = challenge_id or None
    if challenge_id == p.challenge_id:
        return
    if challenge_id is None:
        p.challenge = None
        return
    ch = db.session.get(Challenge, int(challenge_id))
    if ch is None or not ch.is_open():
        raise DomainError(_l("Die gewählte Herausforderung ist nicht offen für Vorschläge."))
    p.challenge = ch


def _answer(p: Proposal, answers: dict | None) -> None:
    """Store the answers to the proposal's questions (after its challenge is set)."""
    if answers:
        errors = questions.save_answers(p, answers)
        if errors:
            raise questions.AnswersRefused(errors)


def create_draft(org: Organisation, user: User, data: dict, topic_ids=(),
                 answers: dict | None = None) -> Proposal:
    """A new draft of `org`; only the title is needed. The view checked propose_for.
    `answers`: question id -> what was typed (domain/questions.py)."""
    if not (data.get("title") or "").strip():
        raise DomainError(_l("Bitte geben Sie einen Titel an."))
    p = Proposal(organisation=org, created_by=user, status=Status.DRAFT.value, title="")
    db.session.add(p)
    _apply(p, data, topic_ids)
    _answer(p, answers)
    db.session.flush()
    audit.record(user, "proposal.create", p, organisation_id=org.id, title=p.title)
    return p


def update_draft(p: Proposal, user: User, data: dict, topic_ids=None,
                 seen_version: int | None = None, answers: dict | None = None) -> Proposal:
    """Save what the partner wrote, as a draft or while changes are requested.

    `seen_version`: the version the form was opened with; raises editing.EditConflict when
    another member saved other values since.
    """
    if not is_editable(p):
        raise DomainError(_l("Der Vorschlag ist eingereicht und gesperrt."))
    if "title" in data and not (data.get("title") or "").strip():
        raise DomainError(_l("Bitte geben Sie einen Titel an."))
    with editing.edit(EDIT, p, user, seen_version):
        before = p.snapshot()
        _apply(p, data, topic_ids)
        _answer(p, answers)
        p.updated_at = utcnow()
        after = p.snapshot()
        changed = sorted(k for k in after if after[k] != before.get(k))
        audit.record(user, "proposal.update", p, fields=changed)
    return p


def delete_draft(p: Proposal, user: User) -> None:
    """Delete a draft with its attachments. Nothing submitted is ever deleted."""
    if p.status != Status.DRAFT.value:
        raise DomainError(_l("Nur Entwürfe können gelöscht werden."))
    audit.record(user, "proposal.delete", p, title=p.title, organisation_id=p.organisation_id)
    purge(p)


def purge(p: Proposal) -> int:
    """Delete the proposal with everything of it (versions, reviews, workspace, report, the
    notifications about it) and remove its files (attachments and document versions) once the
    transaction commits; returns how many files go."""
    files = [*p.attachments, *(v for d in p.documents for v in d.versions)]
    db.session.execute(delete(Notification).where(Notification.proposal_id == p.id)
                       .execution_options(synchronize_session=False))
    db.session.delete(p)
    db.session.flush()
    for stored in files:
        uploads.remove_file(stored)
    return len(files)


# ---------------------------------------------------------------- versions


@dataclass
class VersionView:
    number: int
    created_at: datetime | None
    created_by: User | None
    changes: list[tuple[str, object, object]] = field(default_factory=list)
    first: bool = False


def versions_with_changes(p: Proposal) -> list[VersionView]:
    """Every submitted version with what changed against the one before, newest first."""

    result = []
    previous = None
    for v in p.versions:
        creator = db.session.get(User, v.created_by_id) if v.created_by_id else None
        changes: list = version_diff(previous, v.content) if previous is not None else []
        order = {name: i for i, name in enumerate(FIELD_LABELS)}
        changes.sort(key=lambda c: order.get(c[0], len(order)))
        result.append(VersionView(v.number, v.created_at, creator, changes, previous is None))
        previous = v.content
    return list(reversed(result))


def diff_lookups(p: Proposal, locale: str) -> dict:
    """Names for the ids and slugs a version holds (challenges, topics, the questions its
    answers are to, by their snapshot key), for display."""
    challenge_ids: set[int] = set()
    slugs: set[str] = set()
    for v in p.versions:
        if v.content.get("challenge_id"):
            challenge_ids.add(v.content["challenge_id"])
        slugs.update(v.content.get("topics") or [])
    challenges = {c.id: c.title for c in db.session.execute(
        select(Challenge).where(Challenge.id.in_(challenge_ids))).scalars().unique()} \
        if challenge_ids else {}
    topics = {t.slug: t.name_for(locale) for t in db.session.execute(
        select(Topic).where(Topic.slug.in_(slugs))).scalars()} if slugs else {}
    asked = questions.by_keys({key for v in p.versions for key in v.content})
    return {"challenges": challenges, "topics": topics, "questions": asked}
