"""Decisions on the staff page: the reviews side by side, the co-signature (Mitzeichnung) above
the cost threshold, and the snapshot of the rules a decision applied."""
from __future__ import annotations

import pytest

from innolab.domain import settings, states
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Check, Decision, Membership, Notification, Proposal, Review, ReviewAssignment,
    ReviewScore, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

COSTLY = 250_000  # above the default threshold of 100 000 €


@pytest.fixture
def people(app_ctx):
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner, name="Chatbot Nord GmbH")
    return {
        "owner": owner, "org": org,
        "dora": f.staff("decider", name="Dora Entscheiderin"),
        "dirk": f.staff("decider", name="Dirk Zweitzeichner"),
        "reviewer": f.staff("reviewer", name="Rita Gutachterin"),
        "reviewer2": f.staff("reviewer", name="Ralf Gutachter"),
        "iso": f.staff("iso", name="Ines Sicherheit"),
        "coordinator": f.staff("coordinator", name="Cora Koordination"),
    }


def _ready(people, cost=COSTLY, recommendations=("approve", "reject"), score=4):
    p = f.proposal(org=people["org"], status="in_review", cost_estimate=cost)
    reviewers = (people["reviewer"], people["reviewer2"])
    for reviewer, rec in zip(reviewers, recommendations, strict=True):
        db.session.add(ReviewAssignment(proposal_id=p.id, reviewer_id=reviewer.id,
                                        no_conflict_confirmed_at=utcnow()))
        db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=score,
                              benefit=score, feasibility=score, cost_effectiveness=score,
                              privacy_security=2, recommendation=rec, submitted_at=utcnow()))
    db.session.add(Check(proposal_id=p.id, kind="information_security",
                         officer_id=people["iso"].id, outcome="passed", comment="geprüft"))
    db.session.commit()
    return p


def _reload(p) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _url(p, tail="act"):
    return f"/staff/review/proposals/{p.id}/{tail}"


def _approve(client, p, message="Passt gut zur Herausforderung.", **extra):
    return client.post(_url(p), data={"action": "approve", "confirmed": "1", "message": message,
                                      "seen_status": "in_review", **extra})


def _decisions(p) -> list[Decision]:
    db.session.expire_all()
    return db.session.query(Decision).filter_by(proposal_id=p.id).order_by(Decision.id).all()


# ---------------------------------------------------------------- above the threshold


def test_costly_approval_waits_for_co_signature_then_is_final(client, login, people, outbox):
    p = _ready(people)
    login(people["dora"])
    page = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert 'id="note-approve">Die Kostenschätzung liegt über 100.000' in page
    resp = _approve(client, p)
    assert resp.status_code == 303
    p = _reload(p)
    assert p.status == "in_review" and p.decided_at is None  # not final yet
    [pending] = _decisions(p)
    assert pending.state == "pending" and pending.decider_id == people["dora"].id
    assert pending.rationale == "Passt gut zur Herausforderung."
    assert outbox(people["owner"].email) == []  # the partner hears only of a final decision
    asked = db.session.query(Notification).filter_by(kind="co_signature_needed").all()
    assert {n.user_id for n in asked} == {people["dirk"].id}

    page = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Wartet auf Mitzeichnung" in page
    assert "Ihre Entscheidung wird wirksam, sobald eine zweite Person" in page
    assert f'action="/staff/review/proposals/{p.id}/co-sign"' not in page

    login(people["dirk"])
    page = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert f'action="/staff/review/proposals/{p.id}/co-sign"' in page
    assert "Mitzeichnung verweigern" in page
    # approving again beside the pending decision is refused with the reason
    assert "Eine Entscheidung wartet auf Mitzeichnung" in page

    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review", "confirmed": "1"})
    assert resp.status_code == 303
    p = _reload(p)
    assert p.status == "approved" and p.decision_rationale == "Passt gut zur Herausforderung."
    [final] = _decisions(p)
    assert final.state == "final" and final.co_signer_id == people["dirk"].id
    assert final.basis["co_signature_required"] is True
    assert final.basis["cost_estimate"] == COSTLY and final.basis["threshold"] == 100_000
    assert len(outbox(people["owner"].email)) == 1
    actions = [e.action for e in db.session.query(TimelineEntry).filter_by(proposal_id=p.id)]
    assert actions == ["co_sign_requested", "approve", "co_signed"]
    audited = {e.action for e in db.session.query(AuditEvent)}
    assert {"decision.co_sign_requested", "decision.co_signed", "proposal.approve"} <= audited


def test_co_sign_asks_first_without_javascript(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    login(people["dirk"])
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Mitzeichnen: wirklich?" in html and "Passt gut zur Herausforderung." in html
    assert _reload(p).status == "in_review"
    assert _decisions(p)[0].state == "pending"


def test_first_decider_confirm_page_says_a_co_signature_is_needed(client, login, people):
    p = _ready(people)
    login(people["dora"])
    resp = client.post(_url(p), data={"action": "approve", "message": "Gut.",
                                      "seen_status": "in_review"})
    assert resp.status_code == 200
    assert "erst wirksam, wenn eine zweite Person" in resp.get_data(as_text=True)
    assert _decisions(p) == []


def test_same_person_cannot_co_sign(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review", "confirmed": "1"})
    assert resp.status_code == 422
    assert "mitzeichnen muss eine andere Person" in resp.get_data(as_text=True)
    assert _reload(p).status == "in_review"


def test_co_signer_with_conflict_of_interest_is_refused(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    conflicted = people["dirk"]
    db.session.add(Membership(organisation_id=people["org"].id, user_id=conflicted.id,
                              role="member"))
    db.session.commit()
    login(conflicted)
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review", "confirmed": "1"})
    assert resp.status_code in (403, 404, 422)
    assert _reload(p).status == "in_review"
    assert _decisions(p)[0].state == "pending"


def test_partner_or_other_roles_cannot_co_sign(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    login(people["coordinator"])
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review", "confirmed": "1"})
    assert resp.status_code == 403
    assert _reload(p).status == "in_review"


def test_refusing_the_co_signature_needs_a_reason_and_cancels(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    login(people["dirk"])
    resp = client.post(_url(p, "co-sign/refuse"), data={"seen_status": "in_review",
                                                        "reason": "  "})
    assert resp.status_code == 422
    assert "warum Sie die Mitzeichnung verweigern" in resp.get_data(as_text=True)
    assert _decisions(p)[0].state == "pending"

    resp = client.post(_url(p, "co-sign/refuse"),
                       data={"seen_status": "in_review", "reason": "Kosten nicht belegt."})
    assert resp.status_code == 303
    [refused] = _decisions(p)
    assert refused.state == "refused" and refused.refusal_reason == "Kosten nicht belegt."
    assert refused.refused_by_id == people["dirk"].id
    assert _reload(p).status == "in_review"
    told = db.session.query(Notification).filter_by(kind="co_signature_refused").all()
    assert [n.user_id for n in told] == [people["dora"].id]
    # the proposal can be decided again
    login(people["dirk"])
    assert _approve(client, p, message="Nach Klärung der Kosten.").status_code == 303
    assert [d.state for d in _decisions(p)] == ["refused", "pending"]


def test_refusal_refused_keeps_the_typed_reason(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    resp = client.post(_url(p, "co-sign/refuse"),
                       data={"seen_status": "in_review", "reason": "Mein eigener Grund"})
    assert resp.status_code == 422  # dora asked for it: she cannot refuse it herself
    # the form is shown only to other deciders; the message says why
    assert "über die Mitzeichnung entscheidet eine andere Person" in resp.get_data(as_text=True)
    login(people["dirk"])
    resp = client.post(_url(p, "co-sign/refuse"),
                       data={"seen_status": "submitted", "reason": "Mein getippter Grund"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "inzwischen bearbeitet" in html and "Mein getippter Grund</textarea>" in html


def test_rejection_is_final_at_once_above_the_threshold(client, login, people, outbox):
    p = _ready(people)
    login(people["dora"])
    resp = client.post(_url(p), data={"action": "reject", "confirmed": "1",
                                      "message": "Nicht wirtschaftlich."})
    assert resp.status_code == 303
    assert _reload(p).status == "rejected"
    [d] = _decisions(p)
    assert d.state == "final" and d.basis["co_signature_required"] is False
    assert len(outbox(people["owner"].email)) == 1


def test_another_move_voids_the_pending_decision(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    login(people["coordinator"])
    resp = client.post(_url(p), data={"action": "request_changes", "message": "Bitte Kosten."})
    assert resp.status_code == 303
    assert _decisions(p)[0].state == "superseded"
    assert states.pending_decision(_reload(p)) is None


# ---------------------------------------------------------------- the threshold


def test_below_threshold_approval_is_final_at_once(client, login, people):
    p = _ready(people, cost=100_000)  # not above the threshold
    login(people["dora"])
    assert _approve(client, p).status_code == 303
    assert _reload(p).status == "approved"
    [d] = _decisions(p)
    assert d.state == "final" and d.co_signature_required is False


def test_threshold_zero_never_asks_for_co_signature(client, login, people):
    settings.set_setting(people["coordinator"], states.CO_SIGN_SETTING, "0")
    db.session.commit()
    p = _ready(people, cost=5_000_000)
    login(people["dora"])
    assert _approve(client, p).status_code == 303
    assert _reload(p).status == "approved"


def test_admin_sets_the_threshold(client, login, people):
    admin = f.staff("admin")
    login(admin)
    page = client.get("/admin/decisions")
    assert page.status_code == 200 and "100.000" in page.get_data(as_text=True)
    resp = client.post("/admin/decisions", data={"threshold": "12,5"})
    assert resp.status_code == 422
    assert "12,5" in resp.get_data(as_text=True)
    resp = client.post("/admin/decisions", data={"threshold": "50.000"})
    assert resp.status_code == 303
    assert states.co_sign_threshold() == 50_000
    p = _ready(people, cost=60_000)
    login(people["dora"])
    _approve(client, p)
    assert _decisions(p)[0].state == "pending"


# ---------------------------------------------------------------- the pages


def test_decision_overview_side_by_side_in_both_languages(client, login, people):
    p = _ready(people, recommendations=("approve", "reject"))
    login(people["dora"])
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Entscheidungsgrundlage" in html
    assert "Die zählenden Gutachten nebeneinander" in html
    assert '<th scope="row" class="kern-table__cell">Rita Gutachterin</th>' in html
    assert '<th scope="row" class="kern-table__cell">Ralf Gutachter</th>' in html
    assert "Bewilligung empfehlen: 1" in html and "Ablehnung empfehlen: 1" in html

    english = f.staff("decider", locale="en", name="Eve English")
    login(english)
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Basis for the decision" in html
    assert "Recommend approval: 1" in html


def test_knockout_result_shown_in_overview_and_snapshot(client, login, people):
    ch = f.challenge()
    nutzen, reife = f.criteria(ch, ("Nutzen", 2, 5, 3), ("Reife", 1, 10))
    p = f.proposal(org=people["org"], status="in_review", challenge_=ch, cost_estimate=1000)
    reviewers = (people["reviewer"], people["reviewer2"])
    for reviewer, (n, r) in zip(reviewers, ((2, 10), (3, 1)), strict=True):
        db.session.add(ReviewAssignment(proposal_id=p.id, reviewer_id=reviewer.id,
                                        no_conflict_confirmed_at=utcnow()))
        review = Review(proposal_id=p.id, reviewer_id=reviewer.id, recommendation="revise",
                        submitted_at=utcnow())
        db.session.add(review)
        db.session.flush()
        db.session.add_all([ReviewScore(review_id=review.id, criterion_id=nutzen.id, score=n),
                            ReviewScore(review_id=review.id, criterion_id=reife.id, score=r)])
    db.session.add(Check(proposal_id=p.id, kind="information_security",
                         officer_id=people["iso"].id, outcome="passed", comment="geprüft"))
    db.session.commit()
    login(people["dora"])
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Die zählenden Gutachten nebeneinander" in html
    # Nutzen: mean 2.5 below its minimum 3; Reife has no minimum
    assert "unter dem Mindestwert 3 (Durchschnitt 2,5)" in html
    assert "Nachbesserung empfehlen: 2" in html
    assert _approve(client, p).status_code == 303
    [d] = _decisions(p)
    assert d.basis["below_minimum"] == [f"c{nutzen.id}"]
    assert [(c["name"], c["weight"], c["scale"], c["minimum"]) for c in d.basis["criteria"]] == [
        ("Nutzen", 2, 5, 3), ("Reife", 1, 10, None)]
    assert d.basis["reviews"] == 2
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Grundlage der Entscheidung" in html and "unter Mindestwert" in html


def test_snapshot_shown_after_the_decision(client, login, people):
    p = _ready(people, cost=40_000)
    login(people["dora"])
    assert _approve(client, p).status_code == 303
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Grundlage der Entscheidung" in html
    assert "Kriterien, wie sie bei der Entscheidung galten" in html
    assert "nicht erforderlich" in html and "40.000" in html
    assert "Dora Entscheiderin" in html


def test_co_signature_task_for_other_deciders(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    login(people["dirk"])
    html = client.get("/tasks/").get_data(as_text=True)
    assert "Mitzeichnung ausstehend" in html and p.title in html
    login(people["dora"])
    html = client.get("/tasks/").get_data(as_text=True)
    assert "Mitzeichnung ausstehend" not in html


def test_co_signature_pages_in_english(client, login, people):
    p = _ready(people)
    login(people["dora"])
    _approve(client, p)
    second = f.staff("decider", locale="en", name="Eve English")
    login(second)
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Waiting for co-signature" in html and "Refuse co-signature" in html
    assert "A decision is waiting for co-signature." in html  # approve and reject held back
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review"})
    assert "Co-sign: are you sure?" in resp.get_data(as_text=True)
    resp = client.post(_url(p, "co-sign/refuse"), data={"seen_status": "in_review",
                                                        "reason": ""})
    assert resp.status_code == 422
    assert "Please say why you refuse the co-signature." in resp.get_data(as_text=True)
    resp = client.post(_url(p, "co-sign"), data={"seen_status": "in_review", "confirmed": "1"})
    assert resp.status_code == 303
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "What the decision was based on" in html and "co-signed by Eve English" in html
