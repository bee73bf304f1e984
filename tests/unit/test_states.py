"""The lifecycle table: every status x every action x every role, and every guard's refusal.

The objects here are built in memory (never flushed): `workflow.check` only reads them.
"""
from __future__ import annotations

from innolab.models._base import utcnow
from datetime import date, datetime, timedelta, UTC
from types import SimpleNamespace

from flask_login import AnonymousUserMixin
import pytest

from innolab.domain import workflow
from innolab.domain.states import BY_ACTION, MEMBER, TRANSITIONS, missing_fields
from innolab.models import (
    Challenge, ChallengeStatus, Check, CheckKind, CheckOutcome, Membership, Organisation, Proposal,
    Review, ReviewAssignment, Role, Status, User, UserRole, PilotGoal, ResultsReport,
)
from tests.factories import COMPLETE

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
STAFF_ROLES = [r.value for r in Role]
ROLES = ["member", "other_partner"] + STAFF_ROLES
STATUSES = [s.value for s in Status]
ACTIONS = [t.action for t in TRANSITIONS]


def _user(uid: int, *roles: str) -> User:
    u = User(id=uid, email=f"u{uid}@example.org", name=f"Person {uid}", active=True)
    for r in roles:
        u.role_rows.append(UserRole(role=r))
    return u


def _org(oid: int, *members: User) -> Organisation:
    org = Organisation(id=oid, name=f"Organisation {oid}", slug=f"org-{oid}", kind="startup")
    for m in members:
        org.memberships.append(Membership(user_id=m.id, user=m, role="owner"))
    return org


def _passed(kind: str, cid: int, outcome=CheckOutcome.PASSED.value, at=NOW) -> Check:
    return Check(id=cid, kind=kind, outcome=outcome, created_at=at)


class World(SimpleNamespace):
    pass


def make_world(status: str = Status.DRAFT.value, anonymised: bool = False, **fields) -> World:
    """A proposal whose every guard is satisfied, and one user per role; `anonymised`: it
    answers a challenge with an anonymised first round."""
    users = {"member": _user(1), "other_partner": _user(2)}
    for i, role in enumerate(STAFF_ROLES):
        users[role] = _user(10 + i, role)
    writer = _user(50, Role.REVIEWER.value)  # wrote the completed review
    org = _org(1, users["member"])
    _org(2, users["other_partner"])
    data = dict(COMPLETE, personal_data=True, personal_data_details="Namen und E-Mail-Adressen")
    data.update(fields)
    p = Proposal(id=1, organisation=org, title="Chatbot für Anträge", status=status, **data)
    if anonymised:
        p.challenge = Challenge(id=1, title="Anträge digital", anonymised_first_round=True,
                                status=ChallengeStatus.PUBLISHED.value,
                                deadline=date.today() + timedelta(days=30))
    p.assignments.append(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                          id=1, reviewer_id=writer.id, reviewer=writer))
    p.reviews.append(Review(id=1, reviewer_id=writer.id, reviewer=writer, submitted_at=NOW))
    p.checks.extend([_passed(CheckKind.DATA_PROTECTION.value, 1),
                     _passed(CheckKind.INFORMATION_SECURITY.value, 2)])
    p.goals.append(PilotGoal(id=1, title="Bearbeitungszeit", baseline="14 Tage", target="7 Tage",
                             measurement="Fachverfahren"))
    p.results_report = ResultsReport(id=1, submitted_at=NOW, status="submitted")
    return World(p=p, users=users, writer=writer, org=org)


TODAY = date.today()  # the default start date of a check, as when the tests were collected


def _check(w: World, action: str, role_or_user, message="Eine Begründung.", start_date=TODAY,
           **kw):
    user = w.users[role_or_user] if isinstance(role_or_user, str) else role_or_user
    kw.setdefault("accepting_report", True)  # completing is only ever the report's acceptance
    return workflow.check(w.p, action, user, message=message, start_date=start_date, **kw)


def _allowed(status: str, action: str, role: str, anonymised: bool = False) -> bool:
    t = BY_ACTION[action]
    who = "member" if t.who == MEMBER else t.who
    # the review starts with the anonymised round where the challenge has one, else open
    if action == ("start_review" if anonymised else "start_anonymous_review"):
        return False
    return status in t.sources and role == who


# ---------------------------------------------------------------- the whole table


@pytest.mark.parametrize("anonymised", [False, True], ids=["open", "anonymised_round"])
@pytest.mark.parametrize("status", STATUSES)
def test_check_allows_exactly_the_table_for_every_action_and_role(app_ctx, status, anonymised):
    w = make_world(status, anonymised=anonymised)
    wrong = []
    for action in ACTIONS:
        for role in ROLES:
            reason = _check(w, action, role)
            expected = _allowed(status, action, role, anonymised)
            if expected and reason is not None:
                wrong.append(f"{status}/{action}/{role}: refused ({reason})")
            if not expected and reason is None:
                wrong.append(f"{status}/{action}/{role}: allowed but not in the table")
            if not expected and not str(reason).strip():
                wrong.append(f"{status}/{action}/{role}: refused without a reason")
    assert wrong == []


@pytest.mark.parametrize("status", STATUSES)
def test_check_names_the_status_when_the_action_does_not_start_there(app_ctx, status):
    w = make_world(status)
    for action in ACTIONS:
        if status not in BY_ACTION[action].sources:
            assert "Im Status" in str(_check(w, action, "coordinator"))


def test_check_names_the_missing_right_for_a_wrong_role(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    assert "Berechtigung" in str(_check(w, "approve", "coordinator"))
    assert "Berechtigung" in str(_check(w, "withdraw", "other_partner"))
    assert "Berechtigung" in str(_check(w, "withdraw", "admin"))
    w.p.status = Status.DRAFT.value
    assert "Berechtigung" in str(_check(w, "submit", "decider"))


def test_check_refuses_an_unknown_action(app_ctx):
    w = make_world()
    assert "gibt es nicht" in str(_check(w, "publish_everything", "member"))


def test_check_refuses_a_visitor(app_ctx):
    w = make_world()
    assert _check(w, "submit", AnonymousUserMixin()) is not None
    assert _check(w, "submit", None) is not None


def test_staff_with_several_roles_may_do_each_roles_moves(app_ctx):
    w = make_world(Status.SUBMITTED.value)
    both = _user(99, Role.COORDINATOR.value, Role.DECIDER.value)
    assert _check(w, "start_review", both) is None
    w.p.status = Status.IN_REVIEW.value
    assert _check(w, "approve", both) is None
    assert _check(w, "request_changes", both) is None


def test_member_who_is_also_staff_may_act_as_member(app_ctx):
    w = make_world(Status.SUBMITTED.value)
    w.users["member"].role_rows.append(UserRole(role=Role.COORDINATOR.value))
    assert _check(w, "withdraw", "member") is None


# ---------------------------------------------------------------- guards


def test_submit_refused_when_required_fields_are_missing(app_ctx):
    w = make_world(problem=None, trl=None, contact_email="")
    reason = str(_check(w, "submit", "member"))
    assert "Bitte füllen Sie noch aus" in reason
    assert "Problem" in reason and "Reifegrad" in reason and "E-Mail der Ansprechperson" in reason
    assert "Titel" not in reason


def test_submit_refused_when_personal_data_without_details(app_ctx):
    w = make_world(personal_data=True, personal_data_details="  ")
    assert "personenbezogener Daten" in str(_check(w, "submit", "member"))
    w.p.personal_data = False
    assert _check(w, "submit", "member") is None


def test_missing_fields_is_empty_for_a_complete_proposal(app_ctx):
    assert missing_fields(make_world().p) == []


def test_resubmit_refused_when_required_fields_were_emptied(app_ctx):
    w = make_world(Status.CHANGES_REQUESTED.value, benefit="")
    assert "Nutzen" in str(_check(w, "resubmit", "member"))


def _challenge(status=ChallengeStatus.PUBLISHED.value, deadline=None) -> Challenge:
    return Challenge(id=5, title="Digitale Akte", summary="s", description="d", status=status,
                     deadline=deadline or date.today() + timedelta(days=3))


def test_submit_refused_when_challenge_is_closed(app_ctx):
    w = make_world()
    w.p.challenge = _challenge(ChallengeStatus.CLOSED.value)
    assert "geschlossen" in str(_check(w, "submit", "member"))


def test_submit_refused_when_challenge_deadline_has_passed(app_ctx):
    w = make_world()
    w.p.challenge = _challenge(deadline=date.today() - timedelta(days=1))
    assert "Digitale Akte" in str(_check(w, "submit", "member"))


def test_submit_allowed_for_an_open_challenge_on_its_deadline(app_ctx):
    w = make_world()
    w.p.challenge = _challenge(deadline=date.today())
    assert _check(w, "submit", "member") is None


def test_start_review_refused_without_reviewer(app_ctx):
    w = make_world(Status.SUBMITTED.value)
    w.p.assignments.clear()
    assert "Gutachter" in str(_check(w, "start_review", "coordinator"))


def test_start_review_refused_when_the_only_reviewer_declared_a_conflict(app_ctx):
    w = make_world(Status.SUBMITTED.value)
    w.p.assignments[0].conflict_declared_at = NOW
    assert _check(w, "start_review", "coordinator") is not None


@pytest.mark.parametrize("status,action,role,expected", [
    ("submitted", "request_changes", "coordinator", "Nachricht"),
    ("in_review", "request_changes", "coordinator", "Nachricht"),
    ("in_review", "reject", "decider", "begründen"),
    ("in_review", "approve", "decider", "begründen"),
    ("running", "cancel", "coordinator", "Grund"),
])
def test_moves_refused_without_a_message(app_ctx, status, action, role, expected):
    w = make_world(status)
    for message in (None, "", "   "):
        assert expected in str(_check(w, action, role, message=message))


def test_approve_refused_without_enough_completed_reviews(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.reviews[0].submitted_at = None  # started, not completed
    assert "0 von mindestens 1" in str(_check(w, "approve", "decider"))


def test_approve_counts_only_reviews_of_active_assignments(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.assignments[0].conflict_declared_at = NOW
    assert "abgeschlossenen Gutachten" in str(_check(w, "approve", "decider"))


def test_approve_needs_the_configured_number_of_reviews(app_ctx):
    app_ctx.config["MIN_COMPLETED_REVIEWS"] = 2
    try:
        w = make_world(Status.IN_REVIEW.value)
        assert "1 von mindestens 2" in str(_check(w, "approve", "decider"))
    finally:
        app_ctx.config["MIN_COMPLETED_REVIEWS"] = 1


def test_approve_refused_when_the_decider_wrote_the_only_review(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    decider = w.users["decider"]
    decider.role_rows.append(UserRole(role=Role.REVIEWER.value))
    w.p.assignments[:] = [ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                           id=2, reviewer_id=decider.id, reviewer=decider)]
    w.p.reviews[:] = [Review(id=2, reviewer_id=decider.id, reviewer=decider, submitted_at=NOW)]
    assert "einzige Gutachten" in str(_check(w, "approve", "decider"))
    # with a second person's review the decider may decide
    w.p.assignments.append(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                            id=3, reviewer_id=w.writer.id, reviewer=w.writer))
    w.p.reviews.append(Review(id=3, reviewer_id=w.writer.id, reviewer=w.writer, submitted_at=NOW))
    assert _check(w, "approve", "decider") is None


def test_approve_refused_when_the_information_security_check_is_missing(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.checks[:] = [c for c in w.p.checks if c.kind != CheckKind.INFORMATION_SECURITY.value]
    assert "Informationssicherheit" in str(_check(w, "approve", "decider"))


def test_approve_refused_when_the_latest_check_failed(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.checks.append(_passed(CheckKind.INFORMATION_SECURITY.value, 3,
                              outcome=CheckOutcome.FAILED.value, at=NOW + timedelta(hours=1)))
    assert "Informationssicherheit" in str(_check(w, "approve", "decider"))
    # a later passed check counts again
    w.p.checks.append(_passed(CheckKind.INFORMATION_SECURITY.value, 4,
                              at=NOW + timedelta(hours=2)))
    assert _check(w, "approve", "decider") is None


def test_approve_needs_the_data_protection_check_only_with_personal_data(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.checks[:] = [c for c in w.p.checks if c.kind != CheckKind.DATA_PROTECTION.value]
    assert "Datenschutzprüfung" in str(_check(w, "approve", "decider"))
    w.p.personal_data = False
    assert _check(w, "approve", "decider") is None


def test_approve_refused_when_the_data_protection_check_failed(app_ctx):
    w = make_world(Status.IN_REVIEW.value)
    w.p.checks[0].outcome = CheckOutcome.FAILED.value
    assert "Datenschutzprüfung" in str(_check(w, "approve", "decider"))


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decision_refused_for_a_decider_in_the_proposing_organisation(app_ctx, action):
    w = make_world(Status.IN_REVIEW.value)
    decider = w.users["decider"]
    w.org.memberships.append(Membership(user_id=decider.id, user=decider, role="member"))
    assert "Interessenkonflikt" in str(_check(w, action, "decider"))


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decision_refused_for_a_decider_who_declared_a_conflict(app_ctx, action):
    w = make_world(Status.IN_REVIEW.value)
    decider = w.users["decider"]
    w.p.assignments.append(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                            id=9, reviewer_id=decider.id, reviewer=decider,
                                            conflict_declared_at=NOW))
    assert "Interessenkonflikt" in str(_check(w, action, "decider"))


def test_start_pilot_refused_without_agreed_goals(app_ctx):
    w = make_world(Status.APPROVED.value)
    w.p.goals.clear()
    assert "messbares Ziel" in str(_check(w, "start_pilot", "coordinator"))


def test_start_pilot_refused_without_start_date(app_ctx):
    w = make_world(Status.APPROVED.value)
    assert "Startdatum" in str(_check(w, "start_pilot", "coordinator", start_date=None))


def test_complete_refused_without_submitted_results_report(app_ctx):
    w = make_world(Status.RUNNING.value)
    w.p.results_report = ResultsReport(id=2, submitted_at=None)
    assert "Ergebnisbericht" in str(_check(w, "complete", "coordinator"))
    w.p.results_report = None
    assert "Ergebnisbericht" in str(_check(w, "complete", "coordinator"))


def test_complete_refused_unless_the_report_is_being_accepted(app_ctx):
    w = make_world(Status.RUNNING.value)
    reason = _check(w, "complete", "coordinator", accepting_report=False)
    assert "indem Sie den Ergebnisbericht annehmen" in str(reason)
    assert _check(w, "complete", "coordinator") is None


def test_submit_refusal_names_the_missing_fields_with_their_form_labels(app_ctx):
    w = make_world(duration_months=None, cost_estimate=None)
    reason = _check(w, "submit", "member")
    assert reason.missing == ("duration_months", "cost_estimate")
    assert str(reason) == ("Bitte füllen Sie noch aus: Geplante Dauer (Monate), "
                           "Kostenschätzung (Euro)")


# ---------------------------------------------------------------- options


def test_options_offer_members_only_member_moves_with_reasons(app_ctx):
    w = make_world(problem=None)
    opts = workflow.options(w.p, w.users["member"])
    assert [o.action for o in opts] == ["submit"]
    assert not opts[0].allowed and "Problem" in str(opts[0].refusal)
    w.p.status = Status.CHANGES_REQUESTED.value
    assert {o.action for o in workflow.options(w.p, w.users["member"])} == {"resubmit", "withdraw"}


def test_options_offer_nothing_to_another_organisation(app_ctx):
    for status in STATUSES:
        w = make_world(status)
        assert workflow.options(w.p, w.users["other_partner"]) == []


# ---------------------------------------------------------------- the anonymised first round

ROUND_MOVES = ("start_review", "start_anonymous_review", "shortlist", "reject", "approve",
               "request_changes", "withdraw")


def _round_matrix(w: World) -> dict[str, list[str]]:
    """For each move of the rounds, the roles that may make it now."""
    return {action: [role for role in ROLES if _check(w, action, role) is None]
            for action in ROUND_MOVES}


def test_a_challenge_with_the_round_starts_its_review_anonymised_for_every_role(app_ctx):
    w = make_world(Status.SUBMITTED.value, anonymised=True)
    assert _round_matrix(w) == {
        "start_review": [], "start_anonymous_review": ["coordinator"], "shortlist": [],
        "reject": [], "approve": [], "request_changes": ["coordinator"], "withdraw": ["member"]}
    assert "anonymisierte erste" in str(_check(w, "start_review", "coordinator"))


def test_a_challenge_without_the_round_starts_its_review_open_for_every_role(app_ctx):
    w = make_world(Status.SUBMITTED.value)
    assert _round_matrix(w)["start_review"] == ["coordinator"]
    assert _round_matrix(w)["start_anonymous_review"] == []
    assert "keine anonymisierte" in str(_check(w, "start_anonymous_review", "coordinator"))


def test_in_the_first_round_for_every_role(app_ctx):
    w = make_world(Status.ANONYMOUS_REVIEW.value, anonymised=True)
    assert _round_matrix(w) == {
        "start_review": [], "start_anonymous_review": [], "shortlist": ["coordinator"],
        "reject": ["decider"], "approve": [], "request_changes": ["coordinator"],
        "withdraw": ["member"]}
    assert "Im Status" in str(_check(w, "approve", "decider"))


def test_after_shortlisting_the_open_round_for_every_role(app_ctx):
    w = make_world(Status.IN_REVIEW.value, anonymised=True)
    w.p.shortlisted_at = NOW
    w.p.reviews[0].round = 2  # the writer reviewed the second round too
    assert _round_matrix(w) == {
        "start_review": [], "start_anonymous_review": [], "shortlist": [],
        "reject": ["decider"], "approve": ["decider"], "request_changes": ["coordinator"],
        "withdraw": ["member"]}


def test_the_start_needs_an_assigned_reviewer(app_ctx):
    w = make_world(Status.SUBMITTED.value, anonymised=True)
    w.p.assignments.clear()
    assert "Gutachter" in str(_check(w, "start_anonymous_review", "coordinator"))


def test_the_coordinator_is_offered_one_start_of_the_review(app_ctx):
    for anonymised, action in ((True, "start_anonymous_review"), (False, "start_review")):
        w = make_world(Status.SUBMITTED.value, anonymised=anonymised)
        starts = [o for o in workflow.options(w.p, w.users["coordinator"])
                  if str(o.transition.label) == "Begutachtung starten"]
        assert [(o.action, o.allowed) for o in starts] == [(action, True)]


def test_shortlisting_and_not_shortlisting_need_enough_first_round_reviews(app_ctx):
    w = make_world(Status.ANONYMOUS_REVIEW.value, anonymised=True)
    w.p.reviews[0].submitted_at = None  # the only review is a draft
    assert "0 von mindestens 1" in str(_check(w, "shortlist", "coordinator"))
    assert "0 von mindestens 1" in str(_check(w, "reject", "decider"))
    assert "begründen" in str(_check(w, "reject", "decider", message=" "))


def test_shortlisting_refused_to_the_coordinator_who_wrote_the_only_review(app_ctx):
    w = make_world(Status.ANONYMOUS_REVIEW.value, anonymised=True)
    both = _user(50, Role.REVIEWER.value, Role.COORDINATOR.value)  # the writer
    w.p.assignments[0].reviewer = both
    assert "einzige Gutachten" in str(_check(w, "shortlist", both))


def test_shortlisting_refused_with_a_conflict_of_interest(app_ctx):
    w = make_world(Status.ANONYMOUS_REVIEW.value, anonymised=True)
    coordinator = w.users["coordinator"]
    w.org.memberships.append(Membership(user_id=coordinator.id, user=coordinator, role="member"))
    assert _check(w, "shortlist", "coordinator") is not None


def test_the_first_rounds_reviews_do_not_count_in_the_second(app_ctx):
    w = make_world(Status.IN_REVIEW.value, anonymised=True)
    w.p.shortlisted_at = NOW  # the writer's review is of round 1
    assert "0 von mindestens 1" in str(_check(w, "approve", "decider"))
