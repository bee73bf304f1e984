"""Pages of signed-in people cost the same number of SQL statements however many rows they
show: what a row's permission checks and labels read is loaded for all rows at once. Counts
only, never timings (bench/profile_pages.py measures the time)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from innolab.extensions import db
from innolab.models import Review, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def _count(client, address, **kw):
    """The response to a GET of `address` and the number of SQL statements it sent."""
    seen = []

    def record(*args):
        seen.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(address, **kw)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, (address, response.status_code)
    db.session.expire_all()  # the next request loads afresh, as a new request would
    return response, len(seen)


def _review(p, reviewer, submitted=True):
    db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=4, benefit=4,
                          feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", comment="Solide Idee.",
                          submitted_at=utcnow() if submitted else None))
    db.session.commit()


def _assigned(reviewer, other, n, start=0):
    """`n` rounds of assignments of `reviewer`, each round one of every kind the page tells
    apart: to write, with a draft, completed, with a declared conflict, and decided."""
    titles = []
    for i in range(start, start + n):
        org = f.organisation(owner=f.user())
        rows = [
            (f.proposal(org=org, status="in_review", title=f"Offen {i}"), None),
            (f.proposal(org=org, status="in_review", title=f"Entwurf {i}"), False),
            (f.proposal(org=org, status="in_review", title=f"Fertig {i}"), True),
            (f.proposal(org=org, status="in_review", title=f"Befangen {i}"), "conflict"),
            (f.proposal(org=org, status="approved", title=f"Bewilligt {i}"), True),
        ]
        for p, review in rows:
            a = ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                 proposal_id=p.id, reviewer_id=reviewer.id)
            if review == "conflict":
                a.conflict_declared_at, a.conflict_reason = utcnow(), "früher dort tätig"
            db.session.add(a)
            db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                            proposal_id=p.id, reviewer_id=other.id))
            db.session.commit()
            if review in (True, False):
                _review(p, reviewer, submitted=review)
            titles.append(p.title)
    return titles


def test_my_reviews_cost_the_same_statements_for_many_assignments(client, login):
    reviewer, other = f.staff("reviewer"), f.staff("reviewer")
    _assigned(reviewer, other, 1)
    c = login(reviewer)
    few, few_sql = _count(c, "/staff/review/mine")
    _assigned(reviewer, other, 4, start=1)
    many, many_sql = _count(c, "/staff/review/mine")
    assert many_sql == few_sql
    html = many.get_data(as_text=True)
    # what the reviewer reads on each kind of row stays
    for i in range(5):
        assert f"Offen {i}" in html and f"Bewilligt {i}" in html
    assert html.count("Gutachten schreiben") == 5
    assert html.count("Entwurf fortsetzen") == 5
    assert html.count("Wieder öffnen") == 5
    assert html.count("Interessenkonflikt erklärt") == 5


def _reviewers(org_domain, start, n):
    """`n` reviewers; every third shares the mail domain of the proposing organisation's
    members (a flag: a conflict until a coordinator decides it)."""
    return [f.staff("reviewer", name=f"Gutachter {i:02d}",
                    email=f"g{i}@{org_domain if i % 3 == 0 else 'innolab.test'}")
            for i in range(start, start + n)]


def test_the_staff_page_costs_the_same_statements_for_many_staff_members(client, login):
    org = f.organisation(owner=f.user(email="inhaber@stadtwerke-nord.de"))
    p = f.proposal(org=org, status="submitted", title="Digitale Bauakte")
    coordinator = f.staff("coordinator")
    _reviewers("stadtwerke-nord.de", 0, 3)
    c = login(coordinator)
    _, few_sql = _count(c, f"/staff/review/proposals/{p.id}")
    _reviewers("stadtwerke-nord.de", 3, 9)
    many, many_sql = _count(c, f"/staff/review/proposals/{p.id}")
    assert many_sql == few_sql
    html = many.get_data(as_text=True)
    assert "gleiche E-Mail-Domain wie ein Mitglied der Organisation" in html
    options = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', html)
    eligible = sorted(o.strip() for o in options if o.strip().startswith("Gutachter"))
    assert eligible == [f"Gutachter {i:02d} (g{i}@innolab.test) · 0 offen" for i in range(12)
                        if i % 3 != 0]


def test_the_inbox_counts_open_flags_in_the_same_statements_for_many_staff_members(client,
                                                                                   login):
    org = f.organisation(owner=f.user(email="inhaber@stadtwerke-nord.de"))
    f.proposal(org=org, status="submitted", title="Digitale Bauakte")
    coordinator = f.staff("coordinator")
    _reviewers("stadtwerke-nord.de", 0, 3)
    c = login(coordinator)
    few, few_sql = _count(c, "/staff/review/")
    _reviewers("stadtwerke-nord.de", 3, 9)
    many, many_sql = _count(c, "/staff/review/")
    assert many_sql == few_sql
    # the coordinators' pointer counts every open flag (every third reviewer's)
    assert "1 offener Hinweis auf einen Interessenkonflikt" in few.get_data(as_text=True)
    assert "4 offene Hinweise auf Interessenkonflikte" in many.get_data(as_text=True)
    assert "Digitale Bauakte" in many.get_data(as_text=True)
