"""Rules of the results report, without the web layer."""
from __future__ import annotations

import pytest

from innolab.domain import permissions, results, showcase
from innolab.extensions import db
from innolab.models import ResultsReport
from innolab.models._base import utcnow
from tests import factories as f


@pytest.fixture
def pilot(app_ctx):
    partner = f.user()
    p = f.proposal(f.organisation(owner=partner), status="running")
    f.goal(p)
    return p, partner, f.staff("coordinator")


def _fill(p, partner, **over):
    g = p.goals[0]
    content = dict(summary="S", what_worked="W", what_did_not_work="N", lessons_learned="L",
                   recommendation="extend", reuse_requirements="R", publication_consent=True)
    content.update(over)
    return results.save_draft(p, partner, content,
                              {g.id: {"value_reached": "7 Tage", "reached": True}})


def test_missing_lists_every_field_and_goal_of_an_empty_report(pilot):
    p, _partner, _ = pilot
    names = [name for name, _label in results.missing(p)]
    assert names[:6] == ["summary", "what_worked", "what_did_not_work", "lessons_learned",
                         "recommendation", "reuse_requirements"]
    g = p.goals[0]
    assert f"goal_{g.id}_value" in names and f"goal_{g.id}_reached" in names


def test_missing_is_empty_for_a_complete_report(pilot):
    p, partner, _ = pilot
    _fill(p, partner)
    assert results.missing(p) == []


def test_unknown_recommendation_is_not_stored(pilot):
    p, partner, _ = pilot
    report = _fill(p, partner, recommendation="abschaffen")
    assert report.recommendation is None


def test_whitespace_only_counts_as_empty(pilot):
    p, partner, _ = pilot
    _fill(p, partner, summary="   ")
    assert [n for n, _ in results.missing(p)] == ["summary"]


def test_submit_refuses_an_incomplete_report_with_german_reason(pilot):
    p, partner, _ = pilot
    _fill(p, partner, lessons_learned="")
    with pytest.raises(results.ReportRefused) as exc:
        results.submit(p, partner)
    assert "Erkenntnisse" in str(exc.value.reason)


def test_accept_refused_unless_submitted(pilot):
    p, partner, coordinator = pilot
    _fill(p, partner)
    with pytest.raises(results.ReportRefused):
        results.accept(p, coordinator)
    assert p.status == "running"


def test_accept_completes_the_pilot(pilot):
    p, partner, coordinator = pilot
    _fill(p, partner)
    results.submit(p, partner)
    results.accept(p, coordinator)
    assert p.status == "completed" and p.results_report.status == "accepted"


def test_write_permission_follows_the_report_status(pilot):
    p, partner, _ = pilot
    assert permissions.write_report(partner, p)
    _fill(p, partner)
    for status, allowed in (("draft", True), ("returned", True), ("submitted", False),
                            ("accepted", False)):
        p.results_report.status = status
        assert bool(permissions.write_report(partner, p)) is allowed, status


def test_public_results_rules(pilot):
    p, partner, _coordinator = pilot
    report = _fill(p, partner)
    report.status = "accepted"
    report.published_at = utcnow()
    p.published_at = utcnow()
    db.session.commit()
    assert showcase.is_public_results(report)
    for attr, value in (("publication_consent", False), ("status", "submitted"),
                        ("published_at", None)):
        saved = getattr(report, attr)
        setattr(report, attr, value)
        assert not showcase.is_public_results(report), attr
        setattr(report, attr, saved)
    p.published_at = None
    assert not showcase.is_public_results(report)


def test_public_results_carry_no_private_fields(pilot):
    p, partner, _ = pilot
    report = _fill(p, partner)
    report.status, report.published_at, report.return_comment = "accepted", utcnow(), "intern"
    p.published_at = utcnow()
    db.session.commit()
    public = showcase.PublicResults.of(report)
    fields = set(public.__dataclass_fields__)
    assert not fields & {"return_comment", "publication_consent", "status", "problem",
                         "contact_email"}
    assert isinstance(p.results_report, ResultsReport)
