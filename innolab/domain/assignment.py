"""Assigning reviewers fairly and fast: several at once, each reviewer's workload, a suggestion.

The rules of a single assignment stay in `review.assign` (who is eligible: a reviewer without
a conflict of interest, not yet assigned; the proposal submitted or in review). This module
applies them to many pairs at once and says, pair by pair, what was done and why not;
`workload` counts what each reviewer has on their desk; `suggest` proposes pairs that fill
every proposal up to the reviews its challenge needs, spreading the work over the reviewers
with the least open work and leaving out everyone with a conflict or a shared surname with a
contact person (`conflicts.surname_hints`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from innolab.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, select

from ..extensions import db
from ..models import Challenge, Proposal, Review, ReviewAssignment, Status, User
from . import audit, permissions
from . import review as rv
from .conflicts import conflict_of, surname_hints, ties_of
from .locking import lock

# At most this many pairs in one bulk assignment (20 proposals with 10 reviewers each).
MAX_PAIRS = 200
# At most this many proposals on the bulk assignment page.
MAX_PROPOSALS = 50
# "Due soon": open reviews due within this many days.
DUE_SOON_DAYS = 7
# The statuses in which reviewers can be assigned (permissions.assign_reviewers).
ASSIGNABLE = (Status.SUBMITTED.value, Status.ANONYMOUS_REVIEW.value, Status.IN_REVIEW.value)


def reviews_needed(p: Proposal) -> int:
    """How many reviews the proposal needs: its challenge's setting, for an initiative
    proposal the `INITIATIVE_REVIEWS_NEEDED` setting."""
    if p.challenge is not None:
        return p.challenge.reviews_needed
    return max(1, int(current_app.config.get("INITIATIVE_REVIEWS_NEEDED", 2)))


def set_reviews_needed(actor, challenge: Challenge, number: int) -> None:
    """A coordinator sets how many reviews each proposal to `challenge` needs (1 to 10)."""
    if not 1 <= number <= 10:
        raise rv.ReviewRefused(_l("Bitte wählen Sie eine Zahl von 1 bis 10."))
    lock(challenge)
    before = challenge.reviews_needed
    challenge.reviews_needed = number
    db.session.flush()
    audit.record(actor, "challenge.reviews_needed", challenge, before=before, after=number)


def active_assignments(p: Proposal) -> int:
    """The assignments that still count towards the reviews needed (no conflict declared)."""
    return sum(1 for a in p.assignments if a.active)


reviewers = rv.reviewers  # the pages call it here, beside the workload


# ---------------------------------------------------------------- what a pair would meet


SKIP_ASSIGNED = _l("bereits zugewiesen")
SKIP_STATUS = _l("der Vorschlag ist nicht eingereicht oder in Begutachtung")
SKIP_NOT_REVIEWER = _l("keine aktive Gutachterin und kein aktiver Gutachter")
SKIP_NOT_ALLOWED = _l("Ihnen fehlt die Berechtigung, diesem Vorschlag Gutachter zuzuweisen")


def obstacle(p: Proposal, reviewer: User, actor, reviewer_ids: set[int]):
    """Why `reviewer` cannot be assigned to `p` by `actor`, or None if they can."""
    if not permissions.assign_reviewers(actor, p):
        return SKIP_NOT_ALLOWED if p.status in ASSIGNABLE else SKIP_STATUS
    if reviewer.id not in reviewer_ids:
        return SKIP_NOT_REVIEWER
    if any(a.reviewer_id == reviewer.id for a in p.assignments):
        return SKIP_ASSIGNED
    conflict = conflict_of(reviewer, p)
    if conflict is not None:
        return _l("Interessenkonflikt: %(why)s", why=conflict.label)
    return None


@dataclass(frozen=True)
class Outcome:
    proposal: Proposal
    reviewer: User
    reason: object = None  # None: assigned

    @property
    def assigned(self) -> bool:
        return self.reason is None


def assign_many(pairs: list[tuple[Proposal, User]], actor,
                due_date: date | None = None) -> list[Outcome]:
    """Assign each (proposal, reviewer) pair that the rules allow, in one transaction, and say
    of every other pair why not. The proposals are locked together first (in a fixed order),
    so two coordinators assigning the same pairs at the same moment assign each pair once."""
    if len(pairs) > MAX_PAIRS:
        raise rv.ReviewRefused(_l("Höchstens %(max)d Zuweisungen auf einmal; bitte wählen Sie "
                                  "weniger aus.", max=MAX_PAIRS))
    if not pairs:
        raise rv.ReviewRefused(_l("Bitte wählen Sie mindestens eine Zuweisung aus."))
    lock(*{p for p, _ in pairs})
    reviewer_ids = {u.id for u in reviewers()}
    ties_of([u for _, u in pairs])
    outcomes = []
    for p, reviewer in pairs:
        reason = obstacle(p, reviewer, actor, reviewer_ids)
        if reason is None:
            try:
                rv.assign(p, reviewer, actor, due_date=due_date)
            except rv.ReviewRefused as exc:
                reason = exc.reason
        outcomes.append(Outcome(p, reviewer, reason))
    return outcomes


# ---------------------------------------------------------------- workload


@dataclass
class Load:
    reviewer: User
    open: int = 0         # active, the review not submitted, the proposal still under review
    overdue: int = 0      # open and past the due date
    due_soon: int = 0     # open and due within DUE_SOON_DAYS
    done: int = 0         # submitted reviews
    conflicts: int = 0    # conflicts declared on an assignment
    average_days: float | None = None  # from assignment to submission, over the done ones


def workload(today: date | None = None) -> list[Load]:
    """Every active reviewer's workload, by name, in three grouped queries."""
    today = today or date.today()
    people = reviewers()
    loads = {u.id: Load(u) for u in people}
    if not loads:
        return []
    ids = sorted(loads)
    submitted = (select(Review.proposal_id, Review.reviewer_id)
                 .where(Review.submitted_at.is_not(None)).subquery())
    open_rows = db.session.execute(
        select(ReviewAssignment.reviewer_id, ReviewAssignment.due_date)
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .outerjoin(submitted, and_(submitted.c.proposal_id == ReviewAssignment.proposal_id,
                                   submitted.c.reviewer_id == ReviewAssignment.reviewer_id))
        .where(ReviewAssignment.reviewer_id.in_(ids),
               ReviewAssignment.conflict_declared_at.is_(None),
               Proposal.status.in_(ASSIGNABLE),
               submitted.c.reviewer_id.is_(None)))
    soon = today + timedelta(days=DUE_SOON_DAYS)
    for uid, due in open_rows:
        load = loads[uid]
        load.open += 1
        if due is not None and due < today:
            load.overdue += 1
        elif due is not None and due <= soon:
            load.due_soon += 1
    for uid, count in db.session.execute(
            select(ReviewAssignment.reviewer_id, func.count())
            .where(ReviewAssignment.reviewer_id.in_(ids),
                   ReviewAssignment.conflict_declared_at.is_not(None))
            .group_by(ReviewAssignment.reviewer_id)):
        loads[uid].conflicts = count
    durations: dict[int, list[float]] = {}
    for uid, assigned_at, submitted_at in db.session.execute(
            select(Review.reviewer_id, ReviewAssignment.created_at, Review.submitted_at)
            .join(ReviewAssignment, and_(ReviewAssignment.proposal_id == Review.proposal_id,
                                         ReviewAssignment.reviewer_id == Review.reviewer_id))
            .where(Review.reviewer_id.in_(ids), Review.submitted_at.is_not(None))):
        if submitted_at is None or assigned_at is None:
            continue
        durations.setdefault(uid, []).append(
            max(0.0, (submitted_at - assigned_at).total_seconds() / 86400))
    for uid, days in durations.items():
        loads[uid].done = len(days)
        loads[uid].average_days = sum(days) / len(days)
    return [loads[u.id] for u in people]


# ---------------------------------------------------------------- the suggestion


def suggest(proposals: list[Proposal], today: date | None = None) -> set[tuple[int, int]]:
    """(proposal id, reviewer id) pairs that bring every proposal up to the reviews it needs:
    proposal by proposal (the longest waiting first), the eligible reviewers with the least
    open work so far (counting what this suggestion already gave them), by name on a tie;
    never someone with a conflict of interest or a shared surname with a contact person."""
    loads = {load.reviewer.id: load.open for load in workload(today)}
    people = reviewers()
    ties_of(people)
    pairs: set[tuple[int, int]] = set()
    order = sorted((p for p in proposals if p.status in ASSIGNABLE),
                   key=lambda p: (p.submitted_at is None, p.submitted_at, p.id))
    for p in order:
        missing = reviews_needed(p) - active_assignments(p)
        if missing <= 0:
            continue
        assigned = {a.reviewer_id for a in p.assignments}
        hinted = surname_hints(p, people)
        candidates = [u for u in people if u.id not in assigned and u.id not in hinted
                      and conflict_of(u, p) is None]
        candidates.sort(key=lambda u: (loads.get(u.id, 0), u.name.casefold(), u.id))
        for u in candidates[:missing]:
            pairs.add((p.id, u.id))
            loads[u.id] = loads.get(u.id, 0) + 1
    return pairs
