"""The review desk: per-criterion comments, the running total, completing with a confirmation
(also without JavaScript), reopening one's own review until the decision, and the inbox sorted
by the reviews' average and count (in SQL)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from innolab.domain.states import counting_reviews, ready_for_decision
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Check, Notification, Proposal, Review, ReviewAssignment, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

SCORES = {"innovation": "5", "benefit": "4", "feasibility": "4", "cost_effectiveness": "3",
          "privacy_security": "4", "recommendation": "approve", "comment": "Überzeugt."}


@pytest.fixture
def desk(app_ctx):
    org = f.organisation(owner=f.user(), name="Chatbot Nord GmbH")
    reviewer = f.staff("reviewer", name="Rita Gutachterin")
    p = f.proposal(org=org, status="in_review", title="Chatbot für das Bürgeramt")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.add(Check(proposal_id=p.id, kind="information_security",
                         officer_id=f.staff("iso").id, outcome="passed", comment="geprüft"))
    db.session.commit()
    return {"p": p, "reviewer": reviewer, "decider": f.staff("decider", name="Dora Decider")}


def _url(p, tail=""):
    return f"/staff/review/proposals/{p.id}/review{tail}"


def _review():
    db.session.expire_all()
    return db.session.query(Review).one()


def _proposal(p):
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def test_desk_shows_the_proposal_the_criteria_with_descriptions_and_the_total(
        client, login, desk):
    login(desk["reviewer"])
    html = client.get(_url(desk["p"])).get_data(as_text=True)
    assert 'class="review-desk"' in html and 'id="desk-proposal-heading"' in html
    assert "Chatbot für das Bürgeramt" in html and "Anhänge" in html
    assert "Wie neu ist der Ansatz für die Verwaltung?" in html  # a criterion's description
    assert html.count("kern-fieldset__body--horizontal") == 5
    assert 'name="innovation_comment"' in html
    assert "Noch keine Bewertung gewählt." in html
    assert 'role="status"' in html and 'id="review-total"' in html


def test_comments_per_criterion_are_saved_and_the_total_is_computed_on_the_server(
        client, login, desk):
    login(desk["reviewer"])
    data = {"innovation": "5", "benefit": "3", "innovation_comment": "Neu im Land.",
            "feasibility_comment": "Team klein.", "intent": "save"}
    assert client.post(_url(desk["p"]), data=data).status_code == 303
    r = _review()
    assert r.innovation_comment == "Neu im Land." and r.feasibility_comment == "Team klein."
    assert r.benefit_comment is None and r.submitted_at is None
    html = client.get(_url(desk["p"])).get_data(as_text=True)
    assert "Neu im Land." in html
    assert "Gesamtwert (gewichtet, Skala 1 bis 5): 4 (2 von 5 Kriterien bewertet)" in html


def test_completing_without_javascript_asks_first_and_changes_nothing(client, login, desk):
    login(desk["reviewer"])
    typed = {**SCORES, "benefit_comment": "Spart Wege.", "intent": "submit"}
    asked = client.post(_url(desk["p"]), data=typed)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Wirklich abschließen?" in html
    assert "5 – sehr gut" in html and "3 – befriedigend" in html  # the scores summarised
    assert "Gesamtwert (gewichtet, Skala 1 bis 5)" in html  # (5 + 4 + 4 + 3 + 4) / 5
    assert re.search(r"Gesamtwert \(gewichtet, Skala 1 bis 5\)</dt>\s*<dd[^>]*>4</dd>", html)
    assert 'name="confirmed" value="1"' in html and 'name="back" value="1"' in html
    assert 'value="Spart Wege."' in html  # everything typed is carried on
    assert db.session.query(Review).count() == 0  # nothing saved, nothing final

    back = client.post(_url(desk["p"]), data={**typed, "back": "1"})
    assert back.status_code == 200 and "Spart Wege." in back.get_data(as_text=True)
    assert db.session.query(Review).count() == 0

    done = client.post(_url(desk["p"]), data={**typed, "confirmed": "1"})
    assert done.status_code == 303
    r = _review()
    assert r.submitted_at is not None and r.benefit_comment == "Spart Wege."
    assert db.session.query(TimelineEntry).filter_by(action="review_submitted").count() == 1


def test_an_incomplete_review_is_not_asked_about_but_corrected(client, login, desk):
    login(desk["reviewer"])
    resp = client.post(_url(desk["p"]), data={"innovation": "4", "intent": "submit"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'name="confirmed" value="1"' not in html and "Bitte vergeben Sie eine Bewertung" in html


def _completed(desk):
    review = Review(proposal_id=desk["p"].id, reviewer_id=desk["reviewer"].id, innovation=4,
                    benefit=4, feasibility=4, cost_effectiveness=4, privacy_security=4,
                    recommendation="approve", submitted_at=utcnow())
    db.session.add(review)
    db.session.commit()
    return review


def test_reopening_before_the_decision_makes_a_draft_that_does_not_count(client, login, desk):
    _completed(desk)
    p = _proposal(desk["p"])
    p.decision_due_on = (utcnow() + timedelta(days=5)).date()
    db.session.commit()
    assert ready_for_decision(_proposal(desk["p"]))
    login(desk["reviewer"])
    mine = client.get("/staff/review/mine").get_data(as_text=True)
    assert "Wieder öffnen" in mine

    resp = client.post(_url(desk["p"], "/reopen"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(_url(desk["p"]))
    r = _review()
    assert r.submitted_at is None and r.innovation == 4  # a draft with what was written
    p = _proposal(desk["p"])
    assert counting_reviews(p) == [] and not ready_for_decision(p)
    assert p.decision_due_on is None  # not the deciders' turn any more
    assert db.session.query(TimelineEntry).filter_by(action="review_reopened").count() == 1
    assert db.session.query(AuditEvent).filter_by(action="review.reopen").count() == 1

    # the decision is refused while the review does not count
    login(desk["decider"])
    refused = client.post(f"/staff/review/proposals/{p.id}/act",
                          data={"action": "approve", "message": "Gut.", "confirmed": "1"})
    assert refused.status_code == 422 and _proposal(p).status == "in_review"

    # completed again, it counts again and the deciders are told once more
    login(desk["reviewer"])
    before = db.session.query(Notification).filter_by(kind="ready_for_decision").count()
    done = client.post(_url(p), data={**SCORES, "intent": "submit", "confirmed": "1"})
    assert done.status_code == 303
    p = _proposal(p)
    assert len(counting_reviews(p)) == 1 and ready_for_decision(p)
    after = db.session.query(Notification).filter_by(kind="ready_for_decision").count()
    assert after > before


def test_reopening_after_the_decision_is_refused_with_the_reason(client, login, desk):
    _completed(desk)
    p = _proposal(desk["p"])
    p.status = "approved"
    db.session.commit()
    login(desk["reviewer"])
    resp = client.post(_url(p, "/reopen"), follow_redirects=True)
    assert "Über den Vorschlag ist entschieden" in resp.get_data(as_text=True)
    assert _review().submitted_at is not None
    assert db.session.query(TimelineEntry).filter_by(action="review_reopened").count() == 0


def test_only_the_reviewer_reopens_their_own_review(client, login, desk):
    _completed(desk)
    other = f.staff("reviewer", name="Rolf Anderer")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=desk["p"].id, reviewer_id=other.id))
    db.session.commit()
    login(other)
    resp = client.post(_url(desk["p"], "/reopen"), follow_redirects=True)
    assert "kein abgeschlossenes Gutachten" in resp.get_data(as_text=True)
    assert _review().submitted_at is not None
    login(desk["decider"])  # not assigned at all
    assert client.post(_url(desk["p"], "/reopen")).status_code == 403


# ---------------------------------------------------------------- the inbox


@pytest.fixture
def inbox(app_ctx):
    """Three proposals in review: averages 2.0 (2 of 2 reviews), 4.4 (1 of 3), none (0 of 1)."""
    org = f.organisation(owner=f.user())
    reviewers = [f.staff("reviewer") for _ in range(3)]
    low, high, none = (f.proposal(org=org, status="in_review", title=t)
                       for t in ("Niedrig bewertet", "Hoch bewertet", "Noch ohne Gutachten"))

    def review(p, reviewer, scores, submitted=True):
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal_id=p.id, reviewer_id=reviewer.id))
        db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id,
                              **dict(zip(("innovation", "benefit", "feasibility",
                                          "cost_effectiveness", "privacy_security"), scores,
                                         strict=True)),
                              recommendation="approve",
                              submitted_at=utcnow() if submitted else None))

    review(low, reviewers[0], (2, 2, 2, 2, 2))
    review(low, reviewers[1], (1, 2, 3, 2, 2))
    review(high, reviewers[0], (5, 4, 4, 5, 4))
    review(high, reviewers[1], (1, 1, 1, 1, 1), submitted=False)  # a draft does not count
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=high.id, reviewer_id=reviewers[2].id))
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=none.id, reviewer_id=reviewers[2].id))
    db.session.commit()
    return {"low": low, "high": high, "none": none, "coordinator": f.staff("coordinator")}


def _order(html):
    titles = ("Niedrig bewertet", "Hoch bewertet", "Noch ohne Gutachten")
    return sorted(titles, key=html.index)


def test_inbox_shows_average_and_count_and_sorts_by_them_in_sql(client, login, inbox):
    login(inbox["coordinator"])
    html = client.get("/staff/review/?sort=average_desc").get_data(as_text=True)
    assert _order(html) == ["Hoch bewertet", "Niedrig bewertet", "Noch ohne Gutachten"]
    assert "4,4" in html and "2 von 2" in html and "1 von 3" in html and "0 von 1" in html
    assert 'aria-sort="descending"' in html
    assert "sort=average_asc" in html  # the header link turns the order

    html = client.get("/staff/review/?sort=average_asc").get_data(as_text=True)
    assert _order(html) == ["Niedrig bewertet", "Hoch bewertet", "Noch ohne Gutachten"]
    assert 'aria-sort="ascending"' in html

    html = client.get("/staff/review/?sort=reviews_desc").get_data(as_text=True)
    assert _order(html) == ["Niedrig bewertet", "Hoch bewertet", "Noch ohne Gutachten"]
    html = client.get("/staff/review/?sort=reviews_asc").get_data(as_text=True)
    assert _order(html) == ["Noch ohne Gutachten", "Hoch bewertet", "Niedrig bewertet"]


def test_inbox_sort_keeps_the_filters_and_paging(client, login, inbox, monkeypatch):
    login(inbox["coordinator"])
    html = client.get("/staff/review/?q=bewertet&sort=average_desc").get_data(as_text=True)
    assert "Noch ohne Gutachten" not in html
    assert "q=bewertet" in html.split('aria-sort="descending"')[1].split("</th>")[0]
    monkeypatch.setattr("innolab.review.routes.PER_PAGE", 2)
    first = client.get("/staff/review/?sort=average_desc").get_data(as_text=True)
    second = client.get("/staff/review/?sort=average_desc&page=2").get_data(as_text=True)
    assert "Hoch bewertet" in first and "Niedrig bewertet" in first
    assert "Noch ohne Gutachten" in second and "Hoch bewertet" not in second
    assert "sort=average_desc" in first.split('class="pagination"')[1]
