"""The workspace of a pilot: agreed goals, the conversation, milestones and shared documents.

Nothing here reads the Flask request. Who may do what is decided in permissions.py (the views
check it); the functions here still refuse what the rules forbid whatever the caller, e.g.
editing goals after the start or an internal note by someone who is not staff.
"""
from __future__ import annotations

import hashlib
from datetime import date

from flask import url_for
from innolab.i18n import format_date, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Document,
    DocumentVersion,
    Message,
    Milestone,
    PilotGoal,
    PilotMute,
    Proposal,
    Status,
    User,
)
from ..models._base import utcnow
from . import DomainError, audit, editing, notifications, permissions, uploads
from .actors import TEAM, display_actor, is_partner_side
from .locking import lock
from .plaintext import excerpt, from_markdown


class WorkspaceRefused(DomainError):
    pass


MAX_GOALS = 10
EXCERPT_CHARS = 600


def _refuse_unless(permission) -> None:
    if not permission:
        raise WorkspaceRefused(permission.reason or permissions.NO_RIGHT)


# ---------------------------------------------------------------- goals


def goals_editable(p: Proposal) -> bool:
    return p.status == Status.APPROVED.value


def _check_goals_editable(p: Proposal) -> None:
    if not goals_editable(p):
        raise WorkspaceRefused(_l("Ziele können nur festgelegt werden, solange der Pilot "
                                  "bewilligt und noch nicht gestartet ist."))


def add_goal(p: Proposal, user, *, title: str, baseline: str, target: str,
             measurement: str) -> PilotGoal:
    lock(p)  # the pilot's start and the number of goals are checked on what is committed
    _check_goals_editable(p)
    if len(p.goals) >= MAX_GOALS:
        raise WorkspaceRefused(_l("Ein Pilot hat höchstens %(n)d Ziele. Konzentrieren Sie sich "
                                  "auf die wichtigsten.", n=MAX_GOALS))
    position = max((g.position for g in p.goals), default=-1) + 1
    goal = PilotGoal(proposal=p, position=position, title=title.strip(),
                     baseline=baseline.strip(), target=target.strip(),
                     measurement=measurement.strip(), created_by_id=getattr(user, "id", None))
    db.session.add(goal)
    db.session.flush()
    audit.record(user, "goal.create", goal, proposal_id=p.id, title=goal.title)
    return goal


GOAL_LABELS = {
    "title": _l("Ziel"),
    "baseline": _l("Ausgangswert"),
    "target": _l("Zielwert"),
    "measurement": _l("Wie wird gemessen?"),
}

# What the goal form edits, for domain.editing.
GOAL = editing.Editable(fields=lambda g: {name: getattr(g, name) for name in GOAL_LABELS},
                        labels=lambda g: GOAL_LABELS)


def update_goal(goal: PilotGoal, user, *, title: str, baseline: str, target: str,
                measurement: str, seen_version: int | None = None) -> PilotGoal:
    """Change a goal; editing.EditConflict if someone saved other values since
    `seen_version` (the version the form was opened with)."""
    _check_goals_editable(goal.proposal)
    with editing.edit(GOAL, goal, user, seen_version):
        goal.title, goal.baseline = title.strip(), baseline.strip()
        goal.target, goal.measurement = target.strip(), measurement.strip()
        audit.record(user, "goal.update", goal, proposal_id=goal.proposal_id, title=goal.title)
    return goal


def delete_goal(goal: PilotGoal, user) -> None:
    p = goal.proposal
    lock(p)
    _check_goals_editable(p)
    audit.record(user, "goal.delete", goal, proposal_id=p.id, title=goal.title)
    p.goals.remove(goal)
    db.session.delete(goal)
    db.session.flush()


def sorted_goals(p: Proposal) -> list[PilotGoal]:
    return sorted(p.goals, key=lambda g: (g.position, g.id or 0))


# ---------------------------------------------------------------- who is on the pilot


def partner_team(p: Proposal) -> list[User]:
    return [m.user for m in p.organisation.memberships if m.user is not None]


# ---------------------------------------------------------------- messages


def visible_messages(p: Proposal, internal: bool) -> list[Message]:
    """The conversation as a viewer sees it: internal notes only for staff (`internal`)."""
    q = select(Message).where(Message.proposal_id == p.id)
    if not internal:
        q = q.where(Message.internal.is_(False))
    return list(db.session.execute(q.order_by(Message.created_at, Message.id)).unique()
                .scalars().all())


def fingerprint(items) -> str:
    """A short stamp of what a list shows; polling sends it back to learn whether it changed."""
    h = hashlib.sha256()
    for item in items:
        h.update(repr(item).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def messages_stamp(messages: list[Message]) -> str:
    return fingerprint((m.id, len(m.attachments)) for m in messages)


def post_message(p: Proposal, user, body: str, *, internal: bool = False,
                 files=()) -> Message:
    """Add a message (Markdown) with optional files and tell the other side.

    Who may post (and post internally) the view enforces (`permissions.post_message`,
    `post_internal`)."""
    body = (body or "").strip()
    if not body:
        raise WorkspaceRefused(_l("Bitte schreiben Sie eine Nachricht."))
    message = Message(proposal=p, author_id=user.id, body=body, internal=bool(internal))
    message.author = user
    db.session.add(message)
    db.session.flush()
    for f in files:
        if f is None or not getattr(f, "filename", None):
            continue
        uploads.store(p, f, user, internal=bool(internal), message=message)
    audit.record(user, "message.post", message, proposal_id=p.id, internal=bool(internal),
                 attachments=len(message.attachments))
    _notify_message(p, message, user)
    return message


def conversation_staff(p: Proposal) -> list[User]:
    """The staff taking part in the pilot's conversation: its contact person at the ZDMV and
    whoever of the staff has written in it. While there is neither, the coordinators (someone
    must hear the partner). Never members of the organisation (they hear it as the team)."""
    authors = db.session.execute(
        select(User).join(Message, Message.author_id == User.id)
        .where(Message.proposal_id == p.id, User.active.is_(True)).distinct()
    ).scalars().all()
    people = [u for u in [p.staff_contact, *authors]
              if u is not None and u.active and u.is_staff and not p.organisation.is_member(u)]
    if not people:
        people = notifications.coordinators_outside(p)
    return list({u.id: u for u in people}.values())


def is_muted(p: Proposal, user) -> bool:
    return db.session.execute(select(PilotMute.id).where(
        PilotMute.proposal_id == p.id, PilotMute.user_id == user.id)).first() is not None


def set_muted(p: Proposal, user, muted: bool) -> None:
    """Mute or unmute the new-message notices of this pilot for `user` (idempotent)."""
    existing = db.session.execute(select(PilotMute).where(
        PilotMute.proposal_id == p.id, PilotMute.user_id == user.id)).scalar_one_or_none()
    if muted and existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(PilotMute(proposal_id=p.id, user_id=user.id))
        except IntegrityError:  # the same click twice at once: muted all the same
            pass
    elif not muted and existing is not None:
        db.session.delete(existing)
    audit.record(user, "pilot.mute" if muted else "pilot.unmute", p, proposal_id=p.id)


def _notify_message(p: Proposal, message: Message, author) -> None:
    staff = conversation_staff(p)
    # an internal message never goes to a member of the partner organisation
    recipients = staff if message.internal else [*partner_team(p), *staff]
    muted = set(db.session.execute(select(PilotMute.user_id).where(
        PilotMute.proposal_id == p.id)).scalars())
    recipients = [u for u in recipients if u.id != author.id and u.id not in muted]
    # Notices and mails show the message as plain text (Markdown stripped), cut at a word.
    text = excerpt(from_markdown(message.body, links=True), EXCERPT_CHARS)
    notifications.notify(
        recipients, "new_message", proposal=p,
        link=url_for("pilots.workspace", proposal_id=p.id) + "#messages",
        message=text, internal=message.internal,
    )


# ---------------------------------------------------------------- milestones


def sorted_milestones(p: Proposal) -> list[Milestone]:
    return sorted(p.milestones, key=lambda m: (m.due_date, m.id or 0))


def milestones_stamp(milestones: list[Milestone], today: date | None = None) -> str:
    return fingerprint((m.id, m.title, m.due_date, m.description, m.status(today))
                       for m in milestones)


def add_milestone(p: Proposal, user, *, title: str, due_date: date,
                  description: str | None = None) -> Milestone:
    """A new milestone; the view enforces `permissions.edit_milestones`."""
    m = Milestone(proposal=p, title=title.strip(), due_date=due_date,
                  description=(description or "").strip() or None,
                  created_by_id=getattr(user, "id", None))
    db.session.add(m)
    db.session.flush()
    audit.record(user, "milestone.create", m, proposal_id=p.id, title=m.title,
                 due_date=due_date.isoformat())
    return m


MILESTONE_LABELS = {
    "title": _l("Meilenstein"),
    "due_date": _l("Fällig am"),
    "description": _l("Beschreibung"),
}


def _show_milestone(m, name: str, value) -> str:
    if name == "due_date" and value:
        return format_date(date.fromisoformat(value), "medium")
    return editing.show_value(value)


# What the milestone form edits (not done or the reminder marks), for domain.editing.
MILESTONE = editing.Editable(
    fields=lambda m: {name: getattr(m, name) for name in MILESTONE_LABELS},
    labels=lambda m: MILESTONE_LABELS, show=_show_milestone)


def update_milestone(m: Milestone, user, *, title: str, due_date: date,
                     description: str | None = None,
                     seen_version: int | None = None) -> Milestone:
    """Change a milestone; editing.EditConflict if someone saved other values since
    `seen_version` (the version the form was opened with). The view enforces
    `permissions.edit_milestones`."""
    with editing.edit(MILESTONE, m, user, seen_version):
        if m.due_date != due_date:
            # a new date: the reminders for it go out again
            m.reminded_due_at = m.reminded_late_at = None
        m.title, m.due_date = title.strip(), due_date
        m.description = (description or "").strip() or None
        audit.record(user, "milestone.update", m, proposal_id=m.proposal_id, title=m.title,
                     due_date=due_date.isoformat())
    return m


def set_milestone_done(m: Milestone, user, done: bool) -> Milestone:
    """Tick or reopen; checked under the lock, as the pilot may have ended since the page."""
    lock(m)
    _refuse_unless(permissions.edit_milestones(user, m.proposal))
    if done == (m.done_at is not None):
        return m  # already so (e.g. two people ticked it at once): nothing to record
    m.done_at = utcnow() if done else None
    audit.record(user, "milestone.done" if done else "milestone.reopen", m,
                 proposal_id=m.proposal_id, title=m.title)
    return m


# ---------------------------------------------------------------- documents


def visible_documents(p: Proposal, internal: bool) -> list[Document]:
    docs = sorted(p.documents, key=lambda d: (d.title.lower(), d.id))
    return [d for d in docs if internal or not d.internal]


def _version(document: Document, user, file_storage, note: str | None) -> DocumentVersion:
    checked, stored_name = uploads.save(file_storage, user=user, proposal=document.proposal)
    number = max((v.number for v in document.versions), default=0) + 1
    version = DocumentVersion(number=number, filename=checked.filename, stored_name=stored_name,
                              content_type=checked.content_type, size=len(checked.data),
                              note=(note or "").strip() or None,
                              uploaded_by_id=getattr(user, "id", None),
                              content_flags=checked.content_flags)
    version.uploaded_by = user
    document.versions.append(version)
    db.session.flush()
    return version


def add_document(p: Proposal, user, *, title: str, file_storage, internal: bool = False,
                 note: str | None = None) -> Document:
    """A new shared document with its first version. The view enforces who may upload and
    that only staff mark it internal (`permissions.upload_document`, `see_internal_workspace`)."""
    document = Document(proposal=p, title=title.strip(), internal=bool(internal),
                        created_by_id=getattr(user, "id", None))
    db.session.add(document)
    version = _version(document, user, file_storage, note)
    audit.record(user, "document.create", document, proposal_id=p.id, title=document.title,
                 internal=bool(internal), filename=version.filename, size=version.size)
    return document


def add_version(document: Document, user, file_storage, note: str | None = None) -> DocumentVersion:
    """A new version of a document; the earlier ones are kept. The view enforces
    `permissions.upload_document` and `download_document`."""
    p = document.proposal
    version = _version(document, user, file_storage, note)
    audit.record(user, "document.version", document, proposal_id=p.id, number=version.number,
                 filename=version.filename, size=version.size)
    return version


def author_label(p: Proposal, author, viewer) -> str:
    """How an author is shown (actors.display_actor): staff as "InnoLab-Team" to partners,
    except the pilot's contact person; a named member of the staff with the team after it."""
    name = display_actor(author, viewer, p)
    if author is not None and name == author.name and not is_partner_side(author, p):
        return f"{name} ({TEAM})"
    return name
