"""What waits for a person: the list on "Meine Aufgaben" and the count in the header.

Nothing is stored: the tasks follow from the data and from the rules that already decide who
may act. A move of the lifecycle is a task when `workflow.options` offers it to the person
(the guards say what is still missing); a review when `permissions.write_review` allows it
and it is not finished; a check when `permissions.make_check` allows it and no result is
recorded. So the list can never offer what the page behind the link would refuse, and a
task is gone as soon as it is done, by whoever did it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import (
    Check, CheckCondition, CheckKind, Membership, Proposal, ReportStatus, ResultsReport,
    ReviewAssignment, Role, Status,
)
from . import anonymise, changes, organisations, permissions, workflow
from .conflicts import conflict_of
from .states import current_round, latest_check, open_conditions, pending_decision

# The statuses in which a proposal can still ask something of its partner.
_PARTNER_STATUSES = (Status.DRAFT.value, Status.CHANGES_REQUESTED.value, Status.RUNNING.value)

# What each kind of task asks, as its heading on the task page.
LABELS = {
    "submit": _l("Entwurf fertigstellen und einreichen"),
    "resubmit": _l("Nachbesserung vornehmen und erneut einreichen"),
    "write_report": _l("Ergebnisbericht schreiben"),
    "revise_report": _l("Zurückgegebenen Ergebnisbericht überarbeiten"),
    "triage": _l("Vorschlag sichten und Begutachtung starten"),
    "review": _l("Gutachten schreiben"),
    "shortlist": _l("Erste Runde abgeschlossen: über die zweite Runde entscheiden"),
    "data_protection": _l("Datenschutzprüfung vornehmen"),
    "information_security": _l("Prüfung der Informationssicherheit vornehmen"),
    "decide": _l("Entscheiden: bereit zur Entscheidung"),
    "co_sign": _l("Mitzeichnung ausstehend"),
    "start_pilot": _l("Ziele vereinbaren und Pilot starten"),
    "conditions": _l("Auflagen Ihrer Prüfung als erfüllt vermerken"),
    "accept_report": _l("Ergebnisbericht prüfen und annehmen"),
    "invitation": _l("Einladung in eine Organisation annehmen"),
}


@dataclass(frozen=True)
class Task:
    kind: str
    proposal: Proposal | None       # what it is about (None: an invitation)
    link: str
    since: datetime | None          # when it became the person's turn, as far as known
    due: date | None = None
    waiting_for: object = None      # what a guard still asks for first (shown, not hidden)
    subject: str | None = None      # the name shown where there is no proposal

    @property
    def label(self):
        return LABELS[self.kind]

    # the title as the person sees it (anonymise.as_seen_by: redacted in an anonymised round)
    shown_title: str | None = None

    @property
    def title(self) -> str:
        if self.shown_title is not None:
            return self.shown_title
        return self.proposal.title if self.proposal is not None else (self.subject or "")

    @property
    def reference(self) -> str | None:
        return self.proposal.reference if self.proposal is not None else None

    @property
    def sort_id(self) -> int:
        return self.proposal.id if self.proposal is not None else 0

    def overdue(self, today: date | None = None) -> bool:
        return self.due is not None and self.due < (today or date.today())


def _offered(p: Proposal, user) -> dict[str, workflow.Option]:
    return {o.action: o for o in workflow.options(p, user)}


def _member_tasks(p: Proposal, user) -> list[Task]:
    offered = _offered(p, user)
    tasks = []
    for action in ("submit", "resubmit"):
        if action in offered:
            tasks.append(Task(action, p, url_for("proposals.edit", proposal_id=p.id),
                              p.updated_at, waiting_for=offered[action].refusal))
    if p.status == Status.RUNNING.value:
        report = p.results_report
        if report is None or report.status == ReportStatus.DRAFT.value:
            tasks.append(Task("write_report", p, url_for("results.edit", proposal_id=p.id),
                              p.updated_at))
        elif report.status == ReportStatus.RETURNED.value:
            tasks.append(Task("revise_report", p, url_for("results.edit", proposal_id=p.id),
                              report.updated_at))
    return tasks


def _staff_tasks(p: Proposal, user) -> list[Task]:
    if conflict_of(user, p) is not None:  # another person acts on it: nothing of it is theirs
        return []
    offered = _offered(p, user)
    staff_page = url_for("review.proposal", proposal_id=p.id)
    tasks = []
    start = offered.get("start_review") or offered.get("start_anonymous_review")
    if start is not None:
        tasks.append(Task("triage", p, staff_page, p.submitted_at, waiting_for=start.refusal))
    shortlist = offered.get("shortlist")
    if shortlist is not None and shortlist.allowed:
        tasks.append(Task("shortlist", p, staff_page + "#actions-heading", p.submitted_at))
    may_review = permissions.write_review(user, p)
    if may_review.allowed or may_review.awaiting is not None:
        assignment = permissions.assignment_of(user, p)
        review = next((r for r in p.reviews
                       if r.reviewer_id == user.id and r.round == current_round(p)), None)
        if assignment is not None and (review is None or not review.completed):
            # first the question whether there is a conflict of interest, then the review
            target = (url_for("review.review", proposal_id=p.id) if may_review.allowed
                      else url_for("review.gate", proposal_id=p.id))
            tasks.append(Task("review", p, target, assignment.created_at,
                              due=assignment.due_date,
                              shown_title=anonymise.as_seen_by(user, p).title))
    for kind in (CheckKind.DATA_PROTECTION.value, CheckKind.INFORMATION_SECURITY.value):
        if permissions.make_check(user, p, kind).allowed and latest_check(p, kind) is None:
            tasks.append(Task(kind, p, url_for("review.check", proposal_id=p.id, kind=kind),
                              p.submitted_at, due=p.checks_due_on))
    for kind in (CheckKind.DATA_PROTECTION.value, CheckKind.INFORMATION_SECURITY.value):
        if (p.status == Status.APPROVED.value and open_conditions(p, kind)
                and permissions.meet_condition(user, p, kind).allowed):
            tasks.append(Task("conditions", p, staff_page + "#checks-heading", p.decided_at))
    approve = offered.get("approve")
    if approve is not None and approve.allowed:
        tasks.append(Task("decide", p, staff_page, p.submitted_at, due=p.decision_due_on))
    pending = pending_decision(p)
    if (pending is not None and p.status == Status.IN_REVIEW.value
            and user.has_role(Role.DECIDER) and pending.decider_id != user.id):
        # another decider's decision waits for this one's co-signature (or its refusal)
        tasks.append(Task("co_sign", p, staff_page + "#co-sign-heading", pending.created_at,
                          due=p.decision_due_on))
    if "start_pilot" in offered:
        # to the staff page's next steps, where „Pilot starten“ is (and what it still needs)
        tasks.append(Task("start_pilot", p, staff_page + "#actions-heading", p.decided_at,
                          waiting_for=offered["start_pilot"].refusal))
    report = p.results_report
    if (p.status == Status.RUNNING.value and report is not None
            and report.status == ReportStatus.SUBMITTED.value
            and user.has_role(Role.COORDINATOR)):
        tasks.append(Task("accept_report", p, url_for("results.edit", proposal_id=p.id),
                          report.submitted_at))
    return tasks


def _staff_where(user):
    """A first cut in SQL, by the roles the user holds, so the header's count loads only the
    proposals that can be theirs (the rules then decide on each)."""
    S = Status
    parts = []
    if user.has_role(Role.COORDINATOR):
        parts.append(Proposal.status.in_((S.SUBMITTED.value, S.ANONYMOUS_REVIEW.value,
                                          S.APPROVED.value)))
        parts.append((Proposal.status == S.RUNNING.value) & Proposal.results_report.has(
            ResultsReport.status == ReportStatus.SUBMITTED.value))
    if user.has_role(Role.REVIEWER):
        parts.append(Proposal.status.in_((S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value))
                     & Proposal.assignments.any(
            ReviewAssignment.reviewer_id == user.id))
    if user.has_role(Role.DECIDER):
        parts.append(Proposal.status == S.IN_REVIEW.value)
    for role, kind in ((Role.DPO, CheckKind.DATA_PROTECTION.value),
                       (Role.ISO, CheckKind.INFORMATION_SECURITY.value)):
        if user.has_role(role):
            parts.append((Proposal.status == S.IN_REVIEW.value)
                         & ~Proposal.checks.any(Check.kind == kind))
            parts.append((Proposal.status == S.APPROVED.value) & Proposal.checks.any(
                (Check.kind == kind) & Check.conditions.any(CheckCondition.met_at.is_(None))))
    return or_(*parts) if parts else None


# How many tasks the header counts and the task page lists at most: past it, the header shows
# "99+" and the page the most urgent ones with a pointer to the inbox. A coordinator of a
# platform with thousands of proposals waiting for triage has thousands of tasks; working
# out every one of them on every page would make each page cost more as the data grows.
LIMIT = 99
_CHUNK = 100  # candidates loaded at a time


def _candidates(user):
    """The proposals that can hold a task for `user`, with what the rules look at loaded, the
    ones with the nearest due date first, then the newest. Their keys are sorted first (a
    narrow sort), the rows are loaded a chunk at a time, so a caller who has seen enough
    stops early and no wide row is loaded for nothing."""
    org_ids = select(Membership.organisation_id).where(Membership.user_id == user.id)
    partner = (Proposal.organisation_id.in_(org_ids)
               & Proposal.status.in_(_PARTNER_STATUSES))
    staff = _staff_where(user) if user.is_staff else None
    where = partner if staff is None else or_(partner, staff)
    due = func.coalesce(Proposal.checks_due_on, Proposal.decision_due_on)
    keys = list(db.session.execute(
        select(Proposal.id).where(where).order_by(due.asc().nulls_last(), Proposal.id.desc())
    ).scalars())
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        rows = {p.id: p for p in db.session.execute(
            select(Proposal).where(Proposal.id.in_(chunk))
            .options(selectinload(Proposal.assignments).joinedload(ReviewAssignment.reviewer),
                     selectinload(Proposal.reviews), selectinload(Proposal.checks),
                     selectinload(Proposal.goals), selectinload(Proposal.results_report),
                     selectinload(Proposal.conflict_declarations),
                     selectinload(Proposal.decisions),
                     selectinload(Proposal.organisation))
        ).scalars()}
        yield from (rows[k] for k in chunk if k in rows)


@dataclass
class Pending:
    """What waits for a person: the tasks in the order the page shows them, and whether there
    are more than LIMIT (then `tasks` holds the LIMIT most urgent ones found)."""

    tasks: list[Task]
    more: bool = False

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)


def pending(user, today: date | None = None, limit: int | None = None) -> Pending:
    """Everything that waits for `user` (up to `limit`): overdue first, then by due date,
    then the newest."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Pending([])
    tasks: list[Task] = [
        Task("invitation", None, url_for("accounts.invitation", invitation_id=inv.id),
             inv.created_at, subject=inv.organisation.name)
        for inv in organisations.invitations_for(user)]
    for p in _candidates(user):
        if p.organisation.is_member(user):
            tasks.extend(_member_tasks(p, user))
        elif user.is_staff:
            tasks.extend(_staff_tasks(p, user))
        if limit is not None and len(tasks) > limit:
            break
    today = today or date.today()

    def order(t: Task):
        since = t.since.timestamp() if t.since else 0.0
        return (not t.overdue(today), t.due or date.max, -since, t.sort_id, t.kind)

    tasks.sort(key=order)
    if limit is not None and len(tasks) > limit:
        return Pending(tasks[:limit], more=True)
    return Pending(tasks)


@dataclass(frozen=True)
class Count:
    """How many tasks wait (at most LIMIT) and whether there are more: what the header shows."""

    n: int
    more: bool = False

    def __len__(self) -> int:
        return self.n


# The header's count, kept per person under the change marker it was worked out after: while
# nothing has changed (in any process), the next page shows the same count without working
# out a task. What changes outside the app shows after KEEP_SECONDS at the latest.
KEEP_SECONDS = 60
_counts: changes.Kept[Count] = changes.Kept(KEEP_SECONDS, 5000)


def counted(user, today: date | None = None) -> Count:
    """The header's count of `user`'s tasks: `pending(user, limit=LIMIT)`, kept (see above)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Count(0)
    today = today or date.today()

    def work_out() -> Count:
        found = pending(user, today, limit=LIMIT)
        return Count(len(found), found.more)

    return changes.derived(_counts, (user.id, today), work_out)


def for_user(user, today: date | None = None) -> list[Task]:
    """Every task of `user`, however many (pages ask `pending` with LIMIT)."""
    return pending(user, today).tasks


def count(user) -> int:
    return len(for_user(user))
