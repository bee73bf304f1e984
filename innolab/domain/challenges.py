"""Challenges (Herausforderungen): written, published and closed by coordinators.

draft -> published (publish) -> closed (close). Once closed, no proposal can be submitted to
it any more (states.challenge_still_open checks status and deadline).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from innolab.i18n import format_date, lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Authority, Challenge, ChallengeStatus, Proposal, Status, Topic
from ..models._base import utcnow
from . import DomainError, audit, editing
from .locking import lock

CS = ChallengeStatus

STATUS_LABELS = {
    CS.DRAFT.value: _l("Entwurf"),
    CS.PUBLISHED.value: _l("Veröffentlicht"),
    CS.CLOSED.value: _l("Geschlossen"),
}

EDITABLE = ("title", "summary", "description", "title_en", "summary_en", "description_en",
            "authority_id", "deadline")

PAST_DEADLINE = _l("Die Frist darf nicht in der Vergangenheit liegen.")


class ChallengeRefused(DomainError):
    pass


@dataclass
class ChallengeData:
    title: str
    summary: str
    description: str
    authority_id: int
    deadline: date
    topic_ids: list[int]
    # The English texts, optional ("" or None: none).
    title_en: str | None = None
    summary_en: str | None = None
    description_en: str | None = None

    def texts(self) -> dict:
        """The texts as stored: trimmed; an English text left empty is None."""
        return {"title": self.title.strip(), "summary": self.summary.strip(),
                "description": self.description.strip(),
                **{name: (getattr(self, name) or "").strip() or None
                   for name in ("title_en", "summary_en", "description_en")}}


def authorities() -> list[Authority]:
    return list(db.session.execute(select(Authority).order_by(Authority.name)).scalars())


def get(challenge_id: int) -> Challenge | None:
    return db.session.get(Challenge, challenge_id)


def overview() -> list[tuple[Challenge, int]]:
    """Every challenge (drafts too) with the number of proposals submitted to it.

    Drafts of proposals are the partners' own and are not counted.
    """
    counted = (select(Proposal.challenge_id, func.count(Proposal.id).label("n"))
               .where(Proposal.status != Status.DRAFT.value, Proposal.challenge_id.is_not(None))
               .group_by(Proposal.challenge_id).subquery())
    stmt = (select(Challenge, func.coalesce(counted.c.n, 0))
            .outerjoin(counted, counted.c.challenge_id == Challenge.id)
            .order_by(Challenge.created_at.desc(), Challenge.id.desc()))
    return [(c, n) for c, n in db.session.execute(stmt).unique().all()]


def deadline_problem(c_status: str, deadline: date | None, today: date | None = None):
    """Why this deadline cannot stand for a challenge in `c_status`, or None."""
    today = today or date.today()
    if c_status == CS.PUBLISHED.value and deadline is not None and deadline < today:
        return PAST_DEADLINE
    return None


def _topics(ids) -> list[Topic]:
    ids = list(ids or [])
    if not ids:
        return []
    return list(db.session.execute(select(Topic).where(Topic.id.in_(ids))).scalars())


def _check_authority(authority_id: int) -> None:
    if db.session.get(Authority, authority_id) is None:
        raise ChallengeRefused(_l("Diese Behörde gibt es nicht."))


def create(user, data: ChallengeData) -> Challenge:
    _check_authority(data.authority_id)
    c = Challenge(**data.texts(), authority_id=data.authority_id,
                  deadline=data.deadline, status=CS.DRAFT.value, created_by_id=user.id)
    c.topics = _topics(data.topic_ids)
    db.session.add(c)
    db.session.flush()
    audit.record(user, "challenge.create", c, title=c.title)
    return c


FIELD_LABELS = {
    "title": _l("Titel"),
    "summary": _l("Kurzbeschreibung"),
    "description": _l("Beschreibung"),
    "title_en": _l("Titel (Englisch, optional)"),
    "summary_en": _l("Kurzbeschreibung (Englisch, optional)"),
    "description_en": _l("Beschreibung (Englisch, optional)"),
    "authority_id": _l("Behörde"),
    "topics": _l("Themen"),
    "deadline": _l("Frist"),
}


def _edited_fields(c: Challenge) -> dict:
    data = {name: getattr(c, name) for name in EDITABLE}
    data["topics"] = sorted(t.id for t in c.topics)
    return data


def _show(c: Challenge, name: str, value) -> str:
    if value in (None, "", []):
        return editing.show_value(None)
    if name == "authority_id":
        a = db.session.get(Authority, value)
        return a.name if a is not None else str(value)
    if name == "deadline":
        return format_date(date.fromisoformat(value), "medium")
    if name == "topics":
        locale = str(get_locale() or "de")
        topics = sorted(_topics(value), key=lambda t: t.name_de)
        return ", ".join(t.name_for(locale) for t in topics)
    return editing.show_value(value)


# What the challenge form edits (not its status), for domain.editing.
EDIT = editing.Editable(fields=_edited_fields, labels=lambda c: FIELD_LABELS, show=_show)


def update(user, c: Challenge, data: ChallengeData, today: date | None = None,
           seen_version: int | None = None) -> list[str]:
    """Change the texts, authority, topics and deadline; returns the names of changed fields.

    `seen_version`: the version the form was opened with (editing.EditConflict if another
    coordinator saved other values since).
    """
    _check_authority(data.authority_id)
    reason = deadline_problem(c.status, data.deadline, today)
    if reason is not None:
        raise ChallengeRefused(reason)
    new = dict(data.texts(), authority_id=data.authority_id, deadline=data.deadline)
    changed = [k for k, v in new.items() if getattr(c, k) != v]
    with editing.edit(EDIT, c, user, seen_version):
        for k in changed:
            setattr(c, k, new[k])
        topics = _topics(data.topic_ids)
        if {t.id for t in topics} != {t.id for t in c.topics}:
            c.topics = topics
            changed.append("topics")
        if changed:
            audit.record(user, "challenge.update", c, fields=changed)
    return changed


def publish_refusal(c: Challenge, today: date | None = None):
    """None if the challenge can be published now, else the reason why not."""
    today = today or date.today()
    if c.status != CS.DRAFT.value:
        return _l("Nur Entwürfe können veröffentlicht werden.")
    required = (("title", _l("Titel")), ("summary", _l("Kurzbeschreibung")),
                ("description", _l("Beschreibung")))
    missing = [label for name, label in required if not (getattr(c, name) or "").strip()]
    if missing:
        return _l("Bitte füllen Sie noch aus: %(fields)s",
                  fields=", ".join(str(m) for m in missing))
    if c.deadline is None or c.deadline < today:
        return _l("Die Frist liegt in der Vergangenheit. Bitte setzen Sie eine neue Frist, "
                  "bevor Sie die Herausforderung veröffentlichen.")
    return None


def publish(user, c: Challenge, today: date | None = None) -> Challenge:
    lock(c)
    reason = publish_refusal(c, today)
    if reason is not None:
        raise ChallengeRefused(reason)
    c.status = CS.PUBLISHED.value
    c.published_at = utcnow()
    audit.record(user, "challenge.publish", c, title=c.title, deadline=c.deadline.isoformat())
    return c


def close_refusal(c: Challenge):
    if c.status != CS.PUBLISHED.value:
        return _l("Nur veröffentlichte Herausforderungen können geschlossen werden.")
    return None


def close(user, c: Challenge) -> Challenge:
    lock(c)
    reason = close_refusal(c)
    if reason is not None:
        raise ChallengeRefused(reason)
    c.status = CS.CLOSED.value
    c.closed_at = utcnow()
    audit.record(user, "challenge.close", c, title=c.title)
    return c
