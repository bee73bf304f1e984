"""Who hears about what when something happens to a proposal (through notifications.notify)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Proposal, Role, User, UserRole
from . import notifications


def staff_with(role: Role) -> list[User]:
    return list(db.session.execute(
        select(User).join(UserRole).where(UserRole.role == role.value, User.active.is_(True))
    ).scalars().unique())


def members(p: Proposal) -> list[User]:
    return [m.user for m in p.organisation.memberships if m.user.active]


# Lifecycle move -> kind of notification. Moves not listed here notify nobody ("start_review" is
# internal; "complete" follows accepting the results report, which notifies "report_accepted").
KIND_OF = {
    "submit": "submission_received",
    "resubmit": "proposal_resubmitted",
    "request_changes": "changes_requested",
    "approve": "decision",
    "reject": "decision",
    "start_pilot": "pilot_started",
    "withdraw": "proposal_withdrawn",
    "cancel": "pilot_cancelled",
}

# Which moves the partner hears about, and which ones the coordinators do.
TO_MEMBERS = {"submit", "resubmit", "request_changes", "approve", "reject", "start_pilot",
              "cancel"}
TO_COORDINATORS = {"submit", "resubmit", "withdraw"}


def transition(p: Proposal, action: str, actor, message: str | None) -> None:
    kind = KIND_OF.get(action)
    if kind is None:
        return
    partner = members(p) if action in TO_MEMBERS else []
    if partner:
        endpoint = "pilots.workspace" if action == "start_pilot" else "proposals.show"
        link = url_for(endpoint, proposal_id=p.id)
        notifications.notify(partner, kind, proposal=p, link=link, mail_template="transition",
                             action=action, message=message, as_staff=False,
                             url=notifications._absolute(link))
    if action in TO_COORDINATORS:
        member_ids = {u.id for u in members(p)}
        staff = [u for u in staff_with(Role.COORDINATOR) if u.id not in member_ids]
        link = url_for("review.proposal", proposal_id=p.id)
        notifications.notify(staff, kind, proposal=p, link=link, mail_template="transition",
                             action=action, message=message, as_staff=True,
                             url=notifications._absolute(link))


def reviewer_assigned(p: Proposal, reviewer: User, due_date=None) -> None:
    link = url_for("review.proposal", proposal_id=p.id)
    notifications.notify([reviewer], "reviewer_assigned", proposal=p, link=link,
                         mail_template="reviewer_assigned", url=notifications._absolute(link),
                         due_date=due_date)
