"""The staff side of a proposal: reviewers, reviews, checks and publication on the showcase.

Status changes are not made here (only `workflow.apply` changes a status); these are the
staff's other actions on a proposal. Each one records an audit event and, where the
lifecycle should show it, a timeline entry. Nothing here reads the Flask request.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from datetime import date

from innolab.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import contains_eager, defaultload, lazyload, selectinload

from ..extensions import db
from ..models import (
    CRITERIA, Challenge, Check, CheckCondition, CheckKind, CheckOutcome, Organisation, Proposal,
    Recommendation, Review, ReviewAssignment, ReviewScore, Role, Status, TimelineEntry, User,
    UserRole,
)
from ..models._base import utcnow
from . import DomainError, audit, criteria, notifications, permissions
from .conflicts import conflict_of, not_conflicted, ties_of
from .locking import lock
from .search import contains, proposal_match_or
from .states import (
    current_round, current_round_sql, latest_check, ready_for_decision, required_checks,
)


class ReviewRefused(DomainError):
    pass


# The criteria's labels and descriptions and the scale's words live with the criteria.
CRITERION_LABELS = criteria.CRITERION_LABELS
CRITERION_DESCRIPTIONS = criteria.CRITERION_DESCRIPTIONS
SCORE_LABELS = criteria.SCORE_LABELS

RECOMMENDATION_LABELS = {
    Recommendation.APPROVE.value: _l("Bewilligung empfehlen"),
    Recommendation.REVISE.value: _l("Nachbesserung empfehlen"),
    Recommendation.REJECT.value: _l("Ablehnung empfehlen"),
}

CHECK_LABELS = {
    CheckKind.DATA_PROTECTION.value: _l("Datenschutzprüfung"),
    CheckKind.INFORMATION_SECURITY.value: _l("Prüfung der Informationssicherheit"),
}

OUTCOME_LABELS = {
    CheckOutcome.PASSED.value: _l("bestanden"),
    CheckOutcome.FAILED.value: _l("nicht bestanden"),
}

# Timeline entries of this module are labelled in states.TIMELINE_LABELS too.
def _timeline(p: Proposal, actor, action: str, message: str | None = None,
              internal: bool = True) -> TimelineEntry:
    entry = TimelineEntry(proposal=p, actor_id=getattr(actor, "id", None), action=action,
                          from_status=p.status, to_status=p.status, message=message,
                          internal=internal)
    db.session.add(entry)
    return entry


# ---------------------------------------------------------------- reviewers


def reviewers() -> list[User]:
    """Every active user with the reviewer role, by name."""
    return list(db.session.execute(
        select(User).join(UserRole)
        .where(UserRole.role == Role.REVIEWER.value, User.active.is_(True))
        .order_by(User.name, User.id)).scalars().unique())


def eligible_reviewers(p: Proposal) -> list[User]:
    """Active users with the reviewer role, without a conflict of interest with the proposal
    (domain/conflicts.py) and not yet assigned to it."""
    users = reviewers()
    assigned = {a.reviewer_id for a in p.assignments}
    ties_of(users)  # everyone's ties at once; conflict_of reads them
    return [u for u in users if u.id not in assigned and conflict_of(u, p) is None]


def assign(p: Proposal, reviewer: User, actor, due_date: date | None = None) -> ReviewAssignment:
    lock(p)
    if reviewer not in eligible_reviewers(p):
        raise ReviewRefused(_l("Diese Person kann dem Vorschlag nicht als Gutachterin oder "
                               "Gutachter zugewiesen werden."))
    if due_date is None:
        due_date = notifications.review_due_date()
    assignment = ReviewAssignment(proposal=p, reviewer=reviewer, assigned_by_id=actor.id,
                                  due_date=due_date)
    db.session.add(assignment)
    _timeline(p, actor, "reviewer_assigned", reviewer.name)
    db.session.flush()
    audit.record(actor, "review.assign", p, reference=p.reference, reviewer_id=reviewer.id)
    notifications.reviewer_assigned(p, reviewer, due_date)
    return assignment


def review_of(p: Proposal, user) -> Review | None:
    """The user's review of the proposal's current round (`states.current_round`)."""
    uid = getattr(user, "id", None)
    current = current_round(p)
    return next((r for r in p.reviews if r.reviewer_id == uid and r.round == current), None)


def unassign(p: Proposal, reviewer: User, actor) -> None:
    lock(p)
    assignment = next((a for a in p.assignments if a.reviewer_id == reviewer.id), None)
    if assignment is None:
        raise ReviewRefused(_l("Diese Person ist dem Vorschlag nicht zugewiesen."))
    review = review_of(p, reviewer)
    if review is not None and review.completed:
        raise ReviewRefused(_l("%(name)s hat das Gutachten bereits abgeschlossen; die "
                               "Zuweisung bleibt bestehen.", name=reviewer.name))
    if review is not None:  # an unfinished draft goes with the assignment
        p.reviews.remove(review)
    p.assignments.remove(assignment)
    _timeline(p, actor, "reviewer_unassigned", reviewer.name)
    db.session.flush()
    audit.record(actor, "review.unassign", p, reference=p.reference, reviewer_id=reviewer.id)


def declare_conflict(p: Proposal, reviewer, reason: str) -> ReviewAssignment:
    lock(p)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRefused(_l("Bitte nennen Sie den Grund für den Interessenkonflikt."))
    assignment = next((a for a in p.assignments if a.reviewer_id == reviewer.id), None)
    if assignment is None or not assignment.active:
        raise ReviewRefused(_l("Sie haben bereits einen Interessenkonflikt erklärt."))
    assignment.conflict_declared_at = utcnow()
    assignment.conflict_reason = reason
    _timeline(p, reviewer, "conflict_declared", reviewer.name)
    db.session.flush()
    audit.record(reviewer, "review.conflict", p, reference=p.reference)
    return assignment


def confirm_no_conflict(p: Proposal, reviewer) -> ReviewAssignment:
    """The reviewer confirms they have no conflict of interest with `p`: from now on they see
    its content (permissions.awaiting_confirmation). Asked again under the lock, so a
    confirmation that meets a declaration, or a second click, changes nothing."""
    lock(p)
    assignment = next((a for a in p.assignments if a.reviewer_id == reviewer.id), None)
    if assignment is None:
        raise ReviewRefused(_l("Dieser Vorschlag ist Ihnen nicht zur Begutachtung zugewiesen."))
    if not assignment.active:
        raise ReviewRefused(_l("Sie haben bereits einen Interessenkonflikt erklärt."))
    if assignment.confirmed:
        return assignment
    conflict = conflict_of(reviewer, p)
    if conflict is not None:
        raise ReviewRefused(conflict.refusal)
    assignment.no_conflict_confirmed_at = utcnow()
    _timeline(p, reviewer, "no_conflict_confirmed", reviewer.name)
    db.session.flush()
    audit.record(reviewer, "review.no_conflict", p, reference=p.reference)
    return assignment


# ---------------------------------------------------------------- reviews


def save_review(p: Proposal, reviewer, *, scores: dict, recommendation: str | None,
                comment: str | None, comments: dict | None = None,
                submit: bool = False) -> Review:
    """Save the reviewer's draft, or submit it (then it counts, until reopened).

    `scores` maps the proposal's criteria (criteria.of_proposal, by key) to a score on the
    criterion's scale or None, `comments` them to an optional comment. Submitting needs every
    score and a recommendation.
    """
    lock(p, p.challenge)  # its criteria do not change meanwhile (criteria.frozen)
    was_ready = ready_for_decision(p)
    review = review_of(p, reviewer)
    if review is not None and review.completed:
        raise ReviewRefused(_l("Ihr Gutachten ist abgeschlossen und kann nicht mehr geändert "
                               "werden."))
    wanted = criteria.of_proposal(p)
    for c in wanted:
        value = scores.get(c.key)
        if value is not None and not c.valid(value):
            raise ReviewRefused(_l("Bewertungen von „%(criterion)s“ liegen zwischen 1 und "
                                   "%(max)d.", criterion=c.label, max=c.scale))
    if recommendation not in (None, *RECOMMENDATION_LABELS):
        raise ReviewRefused(_l("Bitte wählen Sie eine Empfehlung aus."))
    if submit:
        missing = [str(c.label) for c in wanted if scores.get(c.key) is None]
        if missing:
            raise ReviewRefused(_l("Bitte bewerten Sie noch: %(fields)s",
                                   fields=", ".join(missing)))
        if recommendation is None:
            raise ReviewRefused(_l("Bitte wählen Sie eine Empfehlung aus."))
    if review is None:
        review = Review(proposal=p, reviewer_id=reviewer.id, round=current_round(p))
        db.session.add(review)
    review.recommendation = recommendation
    review.comment = (comment or "").strip() or None
    rows = {row.criterion_id: row for row in review.score_rows}
    for c in wanted:
        note = ((comments or {}).get(c.key) or "").strip() or None
        if c.is_default:
            setattr(review, c.key, scores.get(c.key))
            setattr(review, f"{c.key}_comment", note)
        else:
            row = rows.pop(c.id, None) if c.id is not None else None
            if row is None:
                row = ReviewScore(criterion_id=c.id)
                review.score_rows.append(row)
            row.score, row.comment = scores.get(c.key), note
    for row in rows.values():  # scores on criteria the challenge no longer has
        review.score_rows.remove(row)
    if submit:
        review.submitted_at = utcnow()
        _timeline(p, reviewer, "review_submitted", reviewer.name)
    db.session.flush()
    audit.record(reviewer, "review.submit" if submit else "review.save", review,
                 proposal_id=p.id, reference=p.reference)
    if not was_ready and ready_for_decision(p):
        notifications.ready_for_decision(p)
    return review


def reopen_review(p: Proposal, reviewer) -> Review:
    """The reviewer takes back their completed review until the proposal is decided: it is a
    draft again and does not count until it is completed again. Checked under the lock, as
    completing is (permissions.reopen_review is the rule; the view asked it before)."""
    lock(p)
    review = review_of(p, reviewer)
    allowed = permissions.reopen_review(reviewer, p)
    if not allowed:
        raise ReviewRefused(allowed.reason)
    assert review is not None  # reopen_review allows only a completed review
    was_ready = ready_for_decision(p)
    review.submitted_at = None
    db.session.flush()
    if was_ready and not ready_for_decision(p):
        # not the deciders' turn any more: no decision is due (nor overdue) until it is again
        p.decision_due_on = None
        p.reminded_decision_overdue_at = None
    _timeline(p, reviewer, "review_reopened", reviewer.name)
    db.session.flush()
    audit.record(reviewer, "review.reopen", review, proposal_id=p.id, reference=p.reference)
    return review


def submitted_reviews(p: Proposal) -> list[Review]:
    return sorted((r for r in p.reviews if r.completed), key=lambda r: (r.submitted_at, r.id))


def average_scores(reviews: list[Review],
                   of=criteria.DEFAULT_CRITERIA) -> dict[str, float | None]:
    """Per criterion of `of` the mean score, and "overall" (criteria.averages)."""
    return criteria.averages(reviews, of)


# ---------------------------------------------------------------- checks


DPIA_LABELS = {
    "not_needed": _l("nicht erforderlich"),
    "needed": _l("erforderlich, noch nicht durchgeführt"),
    "done": _l("durchgeführt"),
}
AGREEMENT_LABELS = {
    "not_needed": _l("nicht erforderlich"),
    "needed": _l("erforderlich, noch nicht abgeschlossen"),
    "done": _l("abgeschlossen"),
}


MAX_CONDITIONS = 20
DPIA_CONDITION = "Datenschutz-Folgenabschätzung (DSFA) vor dem Start durchführen"
AGREEMENT_CONDITION = "Vertrag zur Auftragsverarbeitung (AV-Vertrag) vor dem Start abschließen"


def condition_lines(text: str | None) -> list[str]:
    """The conditions typed into the form: one per line, blank lines and repeats dropped."""
    seen: list[str] = []
    for line in (text or "").splitlines():
        line = " ".join(line.split()).lstrip("-*• ").strip()
        if line and line not in seen:
            seen.append(line)
    return seen


def record_check(p: Proposal, officer, kind: str, outcome: str, comment: str | None,
                 seen_latest: int | None = None, *, dpia: str | None = None,
                 processing_agreement: str | None = None,
                 conditions: list[str] | None = None) -> Check:
    """Record a check's result. `seen_latest` is the id of the latest result of this kind the
    officer saw on the page (0 for none): if another one was recorded since, this one is
    refused, so two officers never record a result each without seeing the other's.

    A data-protection check also records whether a DSFA (`dpia`) and an AV-Vertrag
    (`processing_agreement`) are needed and done; other checks ignore both. A passed check
    may carry `conditions` ("Auflagen"); a DSFA or AV-Vertrag that is needed and not done is
    one of them by itself. The pilot starts only when all are marked met."""
    lock(p)
    was_ready = ready_for_decision(p)
    if kind not in CHECK_LABELS:
        raise ReviewRefused(_l("Diese Prüfung gibt es nicht."))
    if outcome not in OUTCOME_LABELS:
        raise ReviewRefused(_l("Bitte wählen Sie ein Ergebnis aus."))
    if kind == CheckKind.DATA_PROTECTION.value:
        if dpia not in DPIA_LABELS:
            raise ReviewRefused(_l("Bitte geben Sie an, ob eine Datenschutz-Folgenabschätzung "
                                   "erforderlich ist."))
        if processing_agreement not in AGREEMENT_LABELS:
            raise ReviewRefused(_l("Bitte geben Sie an, ob ein Vertrag zur "
                                   "Auftragsverarbeitung erforderlich ist."))
    else:
        dpia = processing_agreement = None
    current = latest_check(p, kind)
    if seen_latest is not None and (current.id if current else 0) != seen_latest:
        raise ReviewRefused(_l(
            "Inzwischen hat %(name)s ein Ergebnis dieser Prüfung erfasst (%(outcome)s). Bitte "
            "sehen Sie es sich an, bevor Sie ein weiteres erfassen.",
            name=current.officer.name if current and current.officer else "",
            outcome=OUTCOME_LABELS.get(current.outcome, "") if current else ""))
    comment = (comment or "").strip() or None
    if outcome == CheckOutcome.FAILED.value and not comment:
        raise ReviewRefused(_l("Bitte begründen Sie, warum die Prüfung nicht bestanden ist."))
    wanted = list(conditions or [])
    if outcome == CheckOutcome.PASSED.value:
        if processing_agreement == "needed" and AGREEMENT_CONDITION not in wanted:
            wanted.insert(0, AGREEMENT_CONDITION)
        if dpia == "needed" and DPIA_CONDITION not in wanted:
            wanted.insert(0, DPIA_CONDITION)
    elif wanted:
        raise ReviewRefused(_l("Auflagen gibt es nur zu einer bestandenen Prüfung. Bitte "
                               "entfernen Sie sie oder wählen Sie „bestanden“."))
    if len(wanted) > MAX_CONDITIONS:
        raise ReviewRefused(_l("Bitte nennen Sie höchstens %(n)d Auflagen.", n=MAX_CONDITIONS))
    if any(len(text) > 300 for text in wanted):
        raise ReviewRefused(_l("Eine Auflage darf höchstens 300 Zeichen lang sein."))
    check = Check(proposal=p, kind=kind, officer_id=officer.id, outcome=outcome, comment=comment,
                  dpia=dpia, processing_agreement=processing_agreement)
    for position, text in enumerate(wanted):
        check.conditions.append(CheckCondition(position=position, text=text))
    db.session.add(check)
    _timeline(p, officer, f"{kind}_{outcome}", comment)
    db.session.flush()
    audit.record(officer, "review.check", check, proposal_id=p.id, reference=p.reference,
                 kind=kind, outcome=outcome, dpia=dpia,
                 processing_agreement=processing_agreement, conditions=len(wanted))
    if not was_ready and ready_for_decision(p):
        notifications.ready_for_decision(p)
    return check


def mark_condition_met(condition: CheckCondition, officer) -> None:
    """An officer of the check's kind confirms that a condition is met (once)."""
    check = condition.check
    p = check.proposal
    lock(p)
    if not permissions.meet_condition(officer, p, check.kind).allowed:
        raise ReviewRefused(permissions.meet_condition(officer, p, check.kind).reason)
    if latest_check(p, check.kind) is not check:
        raise ReviewRefused(_l("Diese Auflage gehört zu einem früheren Ergebnis der Prüfung "
                               "und gilt nicht mehr."))
    if condition.met_at is not None:
        raise ReviewRefused(_l("Diese Auflage ist bereits als erfüllt vermerkt."))
    condition.met_at = utcnow()
    condition.met_by_id = officer.id
    _timeline(p, officer, "condition_met", condition.text)
    db.session.flush()
    audit.record(officer, "review.condition_met", condition, proposal_id=p.id,
                 reference=p.reference, kind=check.kind)


@dataclass
class CheckState:
    kind: str
    required: bool
    latest: Check | None
    history: list[Check]

    @property
    def label(self):
        return CHECK_LABELS[self.kind]

    @property
    def passed(self) -> bool:
        return self.latest is not None and self.latest.outcome == CheckOutcome.PASSED.value


def check_states(p: Proposal) -> list[CheckState]:
    """Both kinds of check: required or not, the latest (it counts) and the history."""
    required = required_checks(p)
    result = []
    for kind in CHECK_LABELS:
        history = sorted((c for c in p.checks if c.kind == kind),
                         key=lambda c: (c.created_at, c.id), reverse=True)
        result.append(CheckState(kind, kind in required, latest_check(p, kind), history))
    return result


# ---------------------------------------------------------------- showcase


def publish(p: Proposal, actor) -> None:
    lock(p)
    if p.published_at is not None:
        raise ReviewRefused(_l("Der Pilot ist bereits im Schaufenster veröffentlicht."))
    p.published_at = utcnow()
    _timeline(p, actor, "published", internal=False)
    db.session.flush()
    audit.record(actor, "proposal.publish", p, reference=p.reference)


def unpublish(p: Proposal, actor) -> None:
    lock(p)
    if p.published_at is None:
        raise ReviewRefused(_l("Der Pilot ist nicht im Schaufenster veröffentlicht."))
    p.published_at = None
    _timeline(p, actor, "unpublished", internal=False)
    db.session.flush()
    audit.record(actor, "proposal.unpublish", p, reference=p.reference)


# ---------------------------------------------------------------- the inbox

def review_stats():
    """Per proposal, in SQL: the active assignments (`assigned`), the reviews that count among
    them (`counted`: completed, no conflict of interest; as states.counting_reviews) and the
    mean of those reviews' weighted totals (`average`; criteria.review_totals, the plain mean
    of the five columns for the default criteria). A subquery: the inbox sorts by it
    and reads it for its page in one query."""
    plain = sum((getattr(Review, c) for c in CRITERIA), literal(0)) / float(len(CRITERIA))
    totals = criteria.review_totals()
    review_average = func.coalesce(totals.c.total, plain)
    return (
        select(ReviewAssignment.proposal_id.label("proposal_id"),
               func.count(ReviewAssignment.id).label("assigned"),
               func.count(Review.id).label("counted"),
               func.avg(review_average).label("average"))
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .outerjoin(Review, and_(Review.proposal_id == ReviewAssignment.proposal_id,
                                Review.reviewer_id == ReviewAssignment.reviewer_id,
                                Review.submitted_at.is_not(None),
                                Review.round == current_round_sql()))
        .outerjoin(totals, totals.c.review_id == Review.id)
        .where(ReviewAssignment.conflict_declared_at.is_(None))
        .group_by(ReviewAssignment.proposal_id)
        .subquery("review_stats"))


@dataclass(frozen=True)
class ReviewStats:
    assigned: int = 0
    counted: int = 0
    average: float | None = None


def review_stats_of(proposal_ids) -> dict[int, ReviewStats]:
    """`review_stats` for these proposals (one query for a page of the inbox)."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    stats = review_stats()
    rows = db.session.execute(select(stats).where(stats.c.proposal_id.in_(ids))).all()
    return {row.proposal_id: ReviewStats(row.assigned, row.counted,
                                         round(float(row.average), 2)
                                         if row.average is not None else None)
            for row in rows}


def _inbox_sorts(stats) -> dict[str, tuple[Any, ...]]:
    counted = func.coalesce(stats.c.counted, 0)
    return {
        "submitted_desc": (Proposal.submitted_at.desc(), Proposal.id.desc()),
        "submitted_asc": (Proposal.submitted_at.asc(), Proposal.id.asc()),
        "reference_asc": (Proposal.reference.asc(), Proposal.id.asc()),
        "reference_desc": (Proposal.reference.desc(), Proposal.id.desc()),
        "title_asc": (Proposal.title.asc(), Proposal.id.asc()),
        "title_desc": (Proposal.title.desc(), Proposal.id.desc()),
        # without a review that counts, no average: last in either direction
        "average_desc": (stats.c.average.desc().nulls_last(), Proposal.id.desc()),
        "average_asc": (stats.c.average.asc().nulls_last(), Proposal.id.asc()),
        "reviews_desc": (counted.desc(), func.coalesce(stats.c.assigned, 0).desc(),
                         Proposal.id.desc()),
        "reviews_asc": (counted.asc(), func.coalesce(stats.c.assigned, 0).asc(),
                        Proposal.id.asc()),
    }


INBOX_SORT_KEYS = tuple(_inbox_sorts(review_stats()))


# The proposals still waiting for a step of the review: the inbox lists these by default.
OPEN_STATUSES = (Status.SUBMITTED.value, Status.ANONYMOUS_REVIEW.value,
                 Status.IN_REVIEW.value,
                 Status.CHANGES_REQUESTED.value)
# The sorts that need the reviews' figures of every listed proposal (the others do not).
_STATS_SORTS = ("average_desc", "average_asc", "reviews_desc", "reviews_asc")


# What a row of the inbox shows loaded with it (the checks); what it does not show (topics,
# the organisation's members, who made a check) only if asked for. The export adds the
# reviews (EXPORT_ROW).
INBOX_ROW = (selectinload(Proposal.checks).lazyload(Check.officer),
             lazyload(Proposal.topics),
             defaultload(Proposal.organisation).lazyload(Organisation.memberships),
             defaultload(Proposal.challenge).lazyload(Challenge.topics))
EXPORT_ROW = (selectinload(Proposal.assignments), selectinload(Proposal.reviews))


def inbox_challenges():
    """(id, title) of every challenge, by title: the choices of the inbox's filter."""
    return db.session.execute(select(Challenge.id, Challenge.title).order_by(Challenge.title)).all()


def inbox_query(viewer, q: str = "", status: str = "", challenge: str = "",
                sort: str = "submitted_desc"):
    """Submitted proposals that `viewer` has no conflict of interest with, filtered and
    sorted (also by the reviews' average and count, `review_stats`), as a SELECT (the inbox,
    its counts, search and the export). `status` "" is the open ones (OPEN_STATUSES), "all"
    every status but drafts."""
    stmt = (select(Proposal)
            .where(Proposal.status != Status.DRAFT.value, not_conflicted(viewer))
            .options(*INBOX_ROW))
    # the reviews' figures of every proposal only where the sort needs them; the page's
    # own are read for its rows (review_stats_of)
    stats = review_stats()
    if sort in _STATS_SORTS:
        stmt = stmt.outerjoin(stats, stats.c.proposal_id == Proposal.id)
    if not status:
        stmt = stmt.where(Proposal.status.in_(OPEN_STATUSES))
    elif status != "all":
        stmt = stmt.where(Proposal.status == status)
    if challenge == "none":
        stmt = stmt.where(Proposal.challenge_id.is_(None))
    elif challenge:
        stmt = stmt.where(Proposal.challenge_id == int(challenge))
    if q:
        stmt = stmt.join(Proposal.organisation)  # its name is searched (and only then)
        match, rank = proposal_match_or(
            q, contains(Proposal.title, q), contains(Proposal.reference, q),
            contains(Organisation.name, q))
        stmt = stmt.where(match)
        if sort == "submitted_desc" and rank is not None:
            stmt = stmt.order_by(func.coalesce(rank, 0).desc())
    sorts = _inbox_sorts(stats)
    return stmt.order_by(*sorts.get(sort, sorts["submitted_desc"]))


def my_assignments(user) -> list[ReviewAssignment]:
    """The reviewer's assignments, newest first, with what each row's permission checks read
    (`permissions.view_internal`, `write_review`, `reopen_review`: the proposal's assignments,
    declarations and reviews) loaded for all rows at once."""
    return list(db.session.execute(
        select(ReviewAssignment).join(ReviewAssignment.proposal)
        .where(ReviewAssignment.reviewer_id == user.id)
        .order_by(ReviewAssignment.created_at.desc(), ReviewAssignment.id.desc())
        .options(contains_eager(ReviewAssignment.proposal).options(
            selectinload(Proposal.assignments), selectinload(Proposal.reviews),
            selectinload(Proposal.conflict_declarations)))
    ).unique().scalars())


# ---------------------------------------------------------------- the pilot's contact person


def contact_candidates(p: Proposal) -> list[User]:
    """Active staff without a conflict of interest with the pilot, by name."""
    users = db.session.execute(
        select(User).join(UserRole).where(User.active.is_(True)).order_by(User.name, User.id)
    ).scalars().unique().all()
    ties_of(users)  # everyone's ties at once; conflict_of reads them
    return [u for u in users if conflict_of(u, p) is None]


def set_staff_contact(p: Proposal, contact: User | None, actor) -> None:
    """Name the staff member partners see by name on the pilot (None: nobody, only the team)."""
    lock(p)
    if not p.is_pilot:
        raise ReviewRefused(_l("Eine Ansprechperson gibt es erst für einen bewilligten Piloten."))
    if contact is not None and contact not in contact_candidates(p):
        raise ReviewRefused(_l("Diese Person kann nicht Ansprechperson werden."))
    p.staff_contact_id = contact.id if contact is not None else None
    p.staff_contact = contact
    db.session.flush()
    audit.record(actor, "pilot.contact", p, reference=p.reference,
                 contact_id=contact.id if contact is not None else None)
