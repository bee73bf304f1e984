"""Rules of the staff side (innolab.domain.review) without the web layer."""
from __future__ import annotations

import pytest

from innolab.domain import criteria
from innolab.domain import review as rv
from innolab.domain import states as lifecycle
from innolab.extensions import db
from innolab.models import AuditEvent, Membership, TimelineEntry
from tests import factories as f

ALL = {"innovation": 4, "benefit": 3, "feasibility": 5, "cost_effectiveness": 2,
       "privacy_security": 4}


@pytest.fixture
def setting(app_ctx):
    owner = f.user()
    org = f.organisation(owner=owner)
    p = f.proposal(org=org, status="in_review")
    coordinator = f.staff("coordinator")
    reviewer = f.staff("reviewer", name="Anna Gutachterin")
    return p, coordinator, reviewer


def test_eligible_reviewers_excludes_members_inactive_and_assigned(setting):
    p, coordinator, reviewer = setting
    member = f.staff("reviewer")
    p.organisation.memberships.append(Membership(user=member))
    f.staff("reviewer", active=False)
    f.staff("decider")
    db.session.commit()
    assert rv.eligible_reviewers(p) == [reviewer]
    rv.assign(p, reviewer, coordinator)
    assert rv.eligible_reviewers(p) == []


def test_assign_twice_is_refused(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    with pytest.raises(rv.ReviewRefused):
        rv.assign(p, reviewer, coordinator)


def test_assign_records_internal_timeline_and_audit(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    db.session.commit()
    entry = db.session.query(TimelineEntry).one()
    assert entry.internal and entry.action == "reviewer_assigned"
    assert str(lifecycle.timeline_label(entry.action)) == "Gutachter/in zugewiesen"
    assert db.session.query(AuditEvent).filter_by(action="review.assign").count() == 1


def test_save_review_draft_allows_gaps_submit_does_not(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    r = rv.save_review(p, reviewer, scores={"innovation": 3}, recommendation=None,
                       comment="  ", submit=False)
    assert r.innovation == 3 and r.comment is None and not r.completed
    with pytest.raises(rv.ReviewRefused):
        rv.save_review(p, reviewer, scores={"innovation": 3}, recommendation="approve",
                       comment=None, submit=True)
    with pytest.raises(rv.ReviewRefused):
        rv.save_review(p, reviewer, scores=ALL, recommendation=None, comment=None, submit=True)
    r = rv.save_review(p, reviewer, scores=ALL, recommendation="revise", comment="ok",
                       submit=True)
    assert r.completed and criteria.review_total(r, criteria.DEFAULT_CRITERIA) == 3.6


@pytest.mark.parametrize("bad", [0, 6, -3])
def test_save_review_score_out_of_range(setting, bad):
    p, coordinator, reviewer = setting
    with pytest.raises(rv.ReviewRefused):
        rv.save_review(p, reviewer, scores={**ALL, "benefit": bad}, recommendation="approve",
                       comment=None, submit=True)


def test_submitted_review_is_final(setting):
    p, coordinator, reviewer = setting
    rv.save_review(p, reviewer, scores=ALL, recommendation="approve", comment=None, submit=True)
    with pytest.raises(rv.ReviewRefused):
        rv.save_review(p, reviewer, scores=ALL, recommendation="reject", comment=None)


def test_conflict_stops_review_counting(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    rv.save_review(p, reviewer, scores=ALL, recommendation="approve", comment=None, submit=True)
    assert len(lifecycle.counting_reviews(p)) == 1
    rv.declare_conflict(p, reviewer, "Früher dort angestellt")
    assert lifecycle.counting_reviews(p) == [] and len(rv.submitted_reviews(p)) == 1
    with pytest.raises(rv.ReviewRefused):
        rv.declare_conflict(p, reviewer, "noch einmal")


def test_unassign_refused_once_submitted(setting):
    p, coordinator, reviewer = setting
    rv.assign(p, reviewer, coordinator)
    rv.save_review(p, reviewer, scores=ALL, recommendation="approve", comment=None, submit=True)
    with pytest.raises(rv.ReviewRefused):
        rv.unassign(p, reviewer, coordinator)


def test_average_scores_per_criterion(setting):
    p, coordinator, reviewer = setting
    other = f.staff("reviewer")
    r1 = rv.save_review(p, reviewer, scores=ALL, recommendation="approve", comment=None,
                        submit=True)
    r2 = rv.save_review(p, other, scores={k: 5 for k in ALL}, recommendation="approve",
                        comment=None, submit=True)
    avg = rv.average_scores([r1, r2])
    assert avg["innovation"] == 4.5 and avg["cost_effectiveness"] == 3.5
    assert avg["overall"] == round((3.6 + 5) / 2, 2)
    assert rv.average_scores([])["overall"] is None


def test_check_states_latest_counts_and_failed_needs_comment(setting):
    p, coordinator, reviewer = setting
    iso = f.staff("iso")
    with pytest.raises(rv.ReviewRefused):
        rv.record_check(p, iso, "information_security", "failed", "")
    rv.record_check(p, iso, "information_security", "failed", "Lücken")
    rv.record_check(p, iso, "information_security", "passed", None)
    states = {s.kind: s for s in rv.check_states(p)}
    security = states["information_security"]
    assert security.passed and len(security.history) == 2
    assert states["information_security"].required
    assert not states["data_protection"].required  # no personal data
    labels = [str(lifecycle.timeline_label(e.action)) for e in p.timeline]
    assert labels == ["Prüfung der Informationssicherheit nicht bestanden",
                      "Prüfung der Informationssicherheit bestanden"]


def test_publish_and_unpublish_twice_refused(setting):
    p, coordinator, reviewer = setting
    p.status = "approved"
    rv.publish(p, coordinator)
    assert p.published_at is not None
    with pytest.raises(rv.ReviewRefused):
        rv.publish(p, coordinator)
    rv.unpublish(p, coordinator)
    with pytest.raises(rv.ReviewRefused):
        rv.unpublish(p, coordinator)
    public = [e for e in p.timeline if not e.internal]
    assert [e.action for e in public] == ["published", "unpublished"]


def test_inbox_query_escapes_wildcards(setting):
    p, coordinator, reviewer = setting
    f.proposal(org=p.organisation, status="submitted", title="100% digital")
    found = db.session.execute(rv.inbox_query(None, q="100%")).scalars().all()
    assert [x.title for x in found] == ["100% digital"]
    assert db.session.execute(rv.inbox_query(None, q="_")).scalars().all() == []
