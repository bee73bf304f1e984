"""Who hears about what: mails queued when something happens to a proposal."""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Proposal, Role, User, UserRole
from . import mailer


def staff_with(role: Role) -> list[User]:
    return list(db.session.execute(
        select(User).join(UserRole).where(UserRole.role == role.value, User.active.is_(True))
    ).scalars().unique())


def members(p: Proposal) -> list[User]:
    return [m.user for m in p.organisation.memberships if m.user.active]


SUBJECTS = {
    "submit": _l("Pilotvorschlag %(ref)s eingegangen"),
    "resubmit": _l("Pilotvorschlag %(ref)s erneut eingereicht"),
    "request_changes": _l("Nachbesserung zu Ihrem Pilotvorschlag %(ref)s"),
    "approve": _l("Entscheidung zu Ihrem Pilotvorschlag %(ref)s"),
    "reject": _l("Entscheidung zu Ihrem Pilotvorschlag %(ref)s"),
    "withdraw": _l("Pilotvorschlag %(ref)s zurückgezogen"),
    "start_pilot": _l("Ihr Pilot %(ref)s hat begonnen"),
    "complete": _l("Ihr Pilot %(ref)s ist abgeschlossen"),
    "cancel": _l("Ihr Pilot %(ref)s wurde abgebrochen"),
}

# Which moves the partner hears about, and which ones the coordinators do.
TO_MEMBERS = {"submit", "resubmit", "request_changes", "approve", "reject", "start_pilot",
              "complete", "cancel"}
TO_COORDINATORS = {"submit", "resubmit", "withdraw"}


def transition(p: Proposal, action: str, actor, message: str | None) -> None:
    recipients: dict[int, tuple[User, bool]] = {}
    if action in TO_MEMBERS:
        for u in members(p):
            recipients[u.id] = (u, False)
    if action in TO_COORDINATORS:
        for u in staff_with(Role.COORDINATOR):
            recipients.setdefault(u.id, (u, True))
    for user, as_staff in recipients.values():
        mailer.queue(user, "transition", _l(SUBJECTS[action], ref=p.reference), kind=action,
                     proposal=p, action=action, message=message, as_staff=as_staff,
                     url=mailer.external_url(
                         "review.proposal" if as_staff else "proposals.show", proposal_id=p.id))


def reviewer_assigned(p: Proposal, reviewer: User) -> None:
    mailer.queue(reviewer, "reviewer_assigned", _l("Neues Gutachten: %(ref)s", ref=p.reference),
                 kind="reviewer_assigned", proposal=p,
                 url=mailer.external_url("review.proposal", proposal_id=p.id))
