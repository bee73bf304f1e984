"""The one function that moves a proposal through its lifecycle."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from innolab.i18n import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    DecisionState, Proposal, ProposalVersion, ReferenceCounter, Role, TimelineEntry,
)
from ..models._base import utcnow
from . import DomainError, audit, notifications
from .locking import lock
from .states import (
    BY_ACTION, MEMBER, TRANSITIONS, CoSignatureNeeded, Move, OtherMove, Refusal, Transition,
    no_conflict_of_interest, status_label,
)


class TransitionRefused(DomainError):
    """A move refused; `missing` names the fields the guard found empty (for the form)."""

    def __init__(self, reason, missing: tuple[str, ...] = ()):
        if isinstance(reason, Refusal):
            reason, missing = reason.reason, reason.missing
        super().__init__(reason)
        self.missing = tuple(missing)


@dataclass
class Option:
    """An action offered to a user on a proposal, with the reason it cannot run yet, if any."""

    transition: Transition
    refusal: object = None
    # Allowed, and what follows it (a co-signature needed: states.CoSignatureNeeded).
    note: object = None

    @property
    def action(self) -> str:
        return self.transition.action

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def _may_act(t: Transition, p: Proposal, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if t.who == MEMBER:
        return p.organisation.is_member(user)
    return user.has_role(Role(t.who))


def check(p: Proposal, action: str, user, **params) -> object:
    """None if the user may do `action` now, else the reason why not."""
    t = BY_ACTION.get(action)
    if t is None:
        return _l("Diese Aktion gibt es nicht.")
    if p.status not in t.sources:
        return _l("Im Status „%(status)s“ ist diese Aktion nicht möglich.",
                  status=status_label(p.status))
    if not _may_act(t, p, user):
        return _l("Ihnen fehlt die Berechtigung für diese Aktion.")
    move = Move(proposal=p, user=user, **params)
    if t.who != MEMBER:
        reason = no_conflict_of_interest(move)
        if reason is not None:
            return reason
    for guard in t.guards:
        reason = guard(move)
        if reason is not None:
            return reason
    return None


def options(p: Proposal, user) -> list[Option]:
    """The moves this user could make from the current status (guards shown as reasons)."""
    result = []
    for t in TRANSITIONS:
        if p.status in t.sources and _may_act(t, p, user):
            move = Move(proposal=p, user=user, message="x", start_date=date.today())
            # Guards that depend on what the user types are checked on submit, not here.
            if any(isinstance(g(move), OtherMove) for g in t.guards):
                continue  # its twin of the same name is the move offered
            guards = t.guards if t.who == MEMBER else (no_conflict_of_interest, *t.guards)
            reason = next((r for g in guards if (r := g(move)) is not None), None)
            if isinstance(reason, CoSignatureNeeded):
                result.append(Option(t, None, note=reason))
            else:
                result.append(Option(t, reason))
    return result


def refuse_if_moved(p: Proposal, seen_status: str | None) -> None:
    """Refuse when another person has moved the proposal since the user saw `seen_status`
    (after the lock)."""
    if seen_status and seen_status != p.status:
        raise TransitionRefused(_l(
            "Der Vorschlag wurde inzwischen bearbeitet und hat jetzt den Status "
            "„%(status)s“. Bitte prüfen Sie den aktuellen Stand.",
            status=status_label(p.status)))


def apply(p: Proposal, action: str, user, *, message: str | None = None,
          start_date: date | None = None, seen_status: str | None = None,
          accepting_report: bool = False, co_signing=None) -> TimelineEntry:
    """Make the move, once: the proposal's row is locked first, and the status and every guard
    are checked on what is committed, so of two moves at the same moment one goes through and
    the other is refused with the reason. `seen_status` is the status the user saw on the page
    (the forms send it); if another person has moved the proposal since, the refusal says so.
    `accepting_report`: only results.accept sets it, completing the pilot with its report.
    `co_signing`: only decisions.co_sign sets it, the pending decision a second decider signs.
    A decision still waiting for co-signature is void once the proposal moves otherwise.
    """
    lock(p)
    refuse_if_moved(p, seen_status)
    reason = check(p, action, user, message=message, start_date=start_date,
                   accepting_report=accepting_report, co_signing=co_signing)
    if reason is not None:
        raise TransitionRefused(reason)
    t = BY_ACTION[action]
    source = p.status
    message = (message or "").strip() or None
    _EFFECTS.get(action, lambda *a: None)(p, user, message, start_date)
    p.status = t.target
    for d in p.decisions:
        if d.state == DecisionState.PENDING.value and d is not co_signing:
            d.state = DecisionState.SUPERSEDED.value
    entry = TimelineEntry(proposal=p, actor_id=user.id, action=action, from_status=source,
                          to_status=t.target, message=message)
    db.session.add(entry)
    db.session.flush()
    audit.record(user, f"proposal.{action}", p, reference=p.reference, status_from=source,
                 status_to=t.target)
    notifications.transition(p, action, user, message)
    return entry


# ---------------------------------------------------------------- effects


def next_reference(year: int) -> str:
    counter = db.session.execute(
        select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
    ).scalar_one_or_none()
    if counter is None:
        counter = ReferenceCounter(year=year, last=0)
        db.session.add(counter)
    counter.last += 1
    db.session.flush()
    return f"IL-{year}-{counter.last:04d}"


def _record_version(p: Proposal, user) -> None:
    p.version += 1
    db.session.add(ProposalVersion(proposal=p, number=p.version, content=_json(p.snapshot()),
                                   created_by_id=user.id))


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _submit(p, user, message, start_date):
    now = utcnow()
    if p.reference is None:
        p.reference = next_reference(now.year)
    p.submitted_at = now
    p.first_submitted_at = p.first_submitted_at or now
    _record_version(p, user)


def _resubmit(p, user, message, start_date):
    p.submitted_at = utcnow()  # the first submission stays in first_submitted_at
    _record_version(p, user)


def _start_review(p, user, message, start_date):
    p.checks_due_on = notifications.check_due_date()
    p.reminded_checks_overdue_at = None


def _shortlist(p, user, message, start_date):
    """Into the open second round: the reviews from now on are round 2, and every reviewer
    confirms again that they have no conflict of interest, now knowing who applied (their
    first confirmation was made without)."""
    p.shortlisted_at = utcnow()
    for a in p.assignments:
        if a.active:
            a.no_conflict_confirmed_at = None
    _start_review(p, user, message, start_date)


def _decide(p, user, message, start_date):
    p.decided_at = utcnow()
    p.decision_rationale = message


def _start(p, user, message, start_date):
    p.pilot_start_date = start_date


def _end(p, user, message, start_date):
    p.ended_at = utcnow()


_EFFECTS = {
    "submit": _submit,
    "start_review": _start_review,
    "shortlist": _shortlist,
    "resubmit": _resubmit,
    "approve": _decide,
    "reject": _decide,
    "start_pilot": _start,
    "complete": _end,
    "cancel": _end,
}


def version_diff(old: dict | None, new: dict) -> list[tuple[str, object, object]]:
    """The fields that changed between two submitted versions: (field, before, after)."""
    old = old or {}
    return [(k, old.get(k), new.get(k)) for k in new if old.get(k) != new.get(k)]
