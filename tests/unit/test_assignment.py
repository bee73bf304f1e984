"""The rules of conflicts before content and of fair assignment, without the web layer."""
from __future__ import annotations

import pytest

from innolab.domain import assignment, conflicts, permissions
from innolab.domain import review as rv
from innolab.extensions import db
from innolab.models import Membership, ReviewAssignment
from tests import factories as f


@pytest.mark.parametrize("name,expected", [
    ("Erika Mustermann", "mustermann"),
    ("Dr. Hans-Peter MÜLLER", "müller"),
    ("Jörg von der Heide,", "heide"),
    ("Cher", "cher"),
    ("A. B", None),
    ("", None),
    (None, None),
])
def test_the_surname_is_the_last_word_without_case(name, expected):
    assert conflicts.surname(name) == expected


@pytest.fixture
def setting(app_ctx):
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner)
    p = f.proposal(org=org, status="in_review")  # contact: Erika Mustermann
    coordinator = f.staff("coordinator")
    reviewer = f.staff("reviewer", name="Anna Gutachterin")
    return p, coordinator, reviewer


def test_surname_hints_name_contacts_and_members(setting):
    p, _coordinator, reviewer = setting
    namesake = f.staff("reviewer", name="Max Mustermann")
    member_namesake = f.staff("reviewer", name="Udo Eigentümerin")
    hints = conflicts.surname_hints(p, [reviewer, namesake, member_namesake])
    assert hints == {namesake.id: "Mustermann", member_namesake.id: "Eigentümerin"}


def test_a_new_assignment_waits_for_the_confirmation(setting):
    p, coordinator, reviewer = setting
    a = rv.assign(p, reviewer, coordinator)
    db.session.commit()
    assert not a.confirmed
    allowed = permissions.view_proposal(reviewer, p)
    assert not allowed and allowed.awaiting == p.id and not allowed.hide
    assert not permissions.view_internal(reviewer, p)
    assert permissions.view_internal(reviewer, p).awaiting == p.id
    assert permissions.awaiting_confirmation(reviewer, p) is a
    assert permissions.declare_conflict(reviewer, p)  # the other answer stays open
    rv.confirm_no_conflict(p, reviewer)
    db.session.commit()
    assert permissions.view_proposal(reviewer, p)
    assert permissions.write_review(reviewer, p)
    assert permissions.awaiting_confirmation(reviewer, p) is None


def test_a_declared_conflict_cannot_be_confirmed_away(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    rv.declare_conflict(p, reviewer, "befangen")
    db.session.commit()
    assert permissions.awaiting_confirmation(reviewer, p) is None
    with pytest.raises(rv.ReviewRefused):
        rv.confirm_no_conflict(p, reviewer)
    assert permissions.view_proposal(reviewer, p).awaiting is None


def test_a_member_confirming_is_refused_by_the_conflict_rule(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    db.session.commit()
    p.organisation.memberships.append(Membership(user=reviewer))  # joined after assignment
    db.session.commit()
    with pytest.raises(rv.ReviewRefused):
        rv.confirm_no_conflict(p, reviewer)
    assert db.session.query(ReviewAssignment).one().no_conflict_confirmed_at is None


def test_overseeing_staff_who_review_see_but_confirm_before_writing(setting):
    p, coordinator, _reviewer = setting
    both = f.staff("coordinator", "reviewer")
    rv.assign(p, both, coordinator)
    db.session.commit()
    assert permissions.view_proposal(both, p)
    assert permissions.write_review(both, p).awaiting == p.id


def test_assign_many_reports_each_pair(setting):
    p, coordinator, reviewer = setting
    other = f.staff("reviewer", name="Bert Brandt")
    decider = f.staff("decider")
    outcomes = assignment.assign_many([(p, reviewer), (p, reviewer), (p, decider), (p, other)],
                                      coordinator)
    reasons = [str(o.reason) if o.reason else None for o in outcomes]
    assert reasons == [None, "bereits zugewiesen",
                       "keine aktive Gutachterin und kein aktiver Gutachter", None]
    with pytest.raises(rv.ReviewRefused):
        assignment.assign_many([], coordinator)


def test_reviews_needed_default_and_setting(setting, app):
    p, coordinator, _reviewer = setting
    assert assignment.reviews_needed(p) == app.config["INITIATIVE_REVIEWS_NEEDED"] == 2
    c = f.challenge()
    assert c.reviews_needed == 2
    assignment.set_reviews_needed(coordinator, c, 4)
    with pytest.raises(rv.ReviewRefused):
        assignment.set_reviews_needed(coordinator, c, 11)
    db.session.commit()
    assert f.proposal(org=p.organisation, status="submitted", challenge_=c).challenge \
        .reviews_needed == 4
