"""Conflicts before content, and fair, fast assignment: the reviewer confirms before they see
anything of a proposal; coordinators assign many pairs at once, see each reviewer's workload
and may take a suggestion that balances the load and avoids conflicts and shared surnames."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from innolab.domain import assignment
from innolab.extensions import db
from innolab.models import (
    Attachment, AuditEvent, Membership, Notification, Review, ReviewAssignment, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

GATE = "/staff/review/proposals/{id}/gate"
BULK = "/staff/review/assign"


@pytest.fixture
def people(app_ctx):
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner, name="Chatbot Nord GmbH")
    return {
        "owner": owner, "org": org,
        "coordinator": f.staff("coordinator", name="Klara Koordination"),
        "decider": f.staff("decider", name="Dora Entscheidung"),
        "reviewers": [f.staff("reviewer", name=n)
                      for n in ("Anna Albrecht", "Bert Brandt", "Cora Claasen")],
    }


def _proposal(people, **kw):
    kw.setdefault("status", "in_review")
    return f.proposal(org=people["org"], problem="Geheimer Inhalt: lange Wartezeiten.", **kw)


def _unconfirmed(p, reviewer, **kw):
    a = ReviewAssignment(proposal_id=p.id, reviewer_id=reviewer.id, **kw)
    db.session.add(a)
    db.session.commit()
    return a


def _html(resp) -> str:
    return unescape(resp.get_data(as_text=True))


# ---------------------------------------------------------------- conflicts before content


def test_a_reviewer_sees_nothing_of_the_content_before_confirming(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    login(reviewer)
    for path in (f"/staff/review/proposals/{p.id}", f"/staff/review/proposals/{p.id}/review"):
        resp = client.get(path)
        assert resp.status_code == 303, path
        assert resp.headers["Location"].startswith(GATE.format(id=p.id)), path
    gate = client.get(GATE.format(id=p.id))
    html = _html(gate)
    assert gate.status_code == 200
    # who proposes it (what a conflict is judged on) is shown, the content is not
    assert "Chatbot Nord GmbH" in html and "Erika Mustermann" in html
    assert "Olga Eigentümerin" in html
    assert "Geheimer Inhalt" not in html
    assert "Weniger Anrufe in der Hotline" not in html


def test_an_attachment_waits_for_the_confirmation_too(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    att = Attachment(proposal_id=p.id, filename="konzept.pdf", stored_name="b" * 32,
                     content_type="application/pdf", size=10)
    db.session.add(att)
    db.session.commit()
    login(reviewer)
    resp = client.get(f"/proposals/attachments/{att.id}")
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith(GATE.format(id=p.id))


def test_the_confirmation_is_required_and_recorded(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    login(reviewer)
    refused = client.post(GATE.format(id=p.id), data={})
    assert refused.status_code == 422
    assert "Bitte bestätigen Sie, dass kein Interessenkonflikt besteht" in _html(refused)
    assert db.session.query(ReviewAssignment).one().no_conflict_confirmed_at is None

    back = f"/staff/review/proposals/{p.id}/review"
    resp = client.post(GATE.format(id=p.id), data={"confirm": "y", "next": back})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(back)
    a = db.session.query(ReviewAssignment).one()
    db.session.refresh(a)
    assert a.confirmed
    assert client.get(back).status_code == 200
    page = _html(client.get(f"/staff/review/proposals/{p.id}"))
    assert "Geheimer Inhalt" in page
    assert db.session.query(AuditEvent).filter_by(action="review.no_conflict").count() == 1
    entry = db.session.query(TimelineEntry).filter_by(action="no_conflict_confirmed").one()
    assert entry.internal and entry.actor_id == reviewer.id
    # a second confirmation (a reload, a double click) changes nothing
    assert client.post(GATE.format(id=p.id), data={"confirm": "y"}).status_code == 303
    assert db.session.query(AuditEvent).filter_by(action="review.no_conflict").count() == 1


def test_a_gate_keeps_its_target_on_this_site_only(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    login(reviewer)
    resp = client.post(GATE.format(id=p.id),
                       data={"confirm": "y", "next": "https://evil.example/"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/review/proposals/{p.id}")


def test_declaring_at_the_gate_keeps_the_content_closed(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    login(reviewer)
    empty = client.post(f"{GATE.format(id=p.id)}/conflict", data={"reason": " "})
    assert empty.status_code == 422
    assert "Bitte nennen Sie den Grund" in _html(empty)
    resp = client.post(f"{GATE.format(id=p.id)}/conflict",
                       data={"reason": "Mein Schwager arbeitet dort."})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/review/mine")
    a = db.session.query(ReviewAssignment).one()
    db.session.refresh(a)
    assert a.conflict_declared_at is not None and not a.confirmed
    page = client.get(f"/staff/review/proposals/{p.id}")
    assert page.status_code == 403
    assert "Geheimer Inhalt" not in _html(page)
    login(people["coordinator"])
    html = _html(client.get(f"/staff/review/proposals/{p.id}"))
    assert "Mein Schwager arbeitet dort." in html


def test_my_reviews_lead_to_the_question_first(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    _unconfirmed(p, reviewer)
    login(reviewer)
    html = _html(client.get("/staff/review/mine"))
    assert "Interessenkonflikt prüfen" in html
    assert GATE.format(id=p.id) in html


def test_a_coordinator_who_also_reviews_confirms_before_writing(client, login, people):
    both = f.staff("coordinator", "reviewer", name="Beate Beides")
    p = _proposal(people)
    _unconfirmed(p, both)
    login(both)
    assert client.get(f"/staff/review/proposals/{p.id}").status_code == 200  # overseeing
    resp = client.get(f"/staff/review/proposals/{p.id}/review")
    assert resp.status_code == 303 and GATE.format(id=p.id) in resp.headers["Location"]


def test_the_gate_answers_others_as_the_proposal_does(client, login, people):
    p = _proposal(people)
    login(people["reviewers"][1])  # not assigned
    assert client.get(GATE.format(id=p.id)).status_code == 404
    login(people["coordinator"])  # nothing to confirm: on to the proposal
    resp = client.get(GATE.format(id=p.id))
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/review/proposals/{p.id}")


def test_the_gate_in_english(client, login, people):
    p = _proposal(people)
    reviewer = f.staff("reviewer", name="Eve English", locale="en")
    _unconfirmed(p, reviewer)
    login(reviewer)
    html = _html(client.get(GATE.format(id=p.id), headers={"Accept-Language": "en"}))
    assert "conflict of interest" in html.lower()
    assert "Interessenkonflikt prüfen" not in html


# ---------------------------------------------------------------- surnames, a hint


def test_a_shared_surname_is_a_hint_in_the_assignment_form(client, login, people):
    namesake = f.staff("reviewer", name="Max Mustermann")  # the contact is Erika Mustermann
    p = _proposal(people, status="submitted")
    login(people["coordinator"])
    html = _html(client.get(f"/staff/review/proposals/{p.id}"))
    option = re.search(rf'<option[^>]*value="{namesake.id}"[^>]*>([^<]*)</option>', html)
    assert option is not None, "the namesake stays assignable: a hint is not a conflict"
    assert "gleicher Nachname wie eine Kontaktperson (Mustermann)" in option.group(1)
    other = re.search(rf'<option[^>]*value="{people["reviewers"][0].id}"[^>]*>([^<]*)</option>',
                      html)
    assert "Nachname" not in other.group(1)


def test_the_reviewer_sees_the_surname_hint_at_the_gate(client, login, people):
    namesake = f.staff("reviewer", name="Max MUSTERMANN")
    p = _proposal(people)
    _unconfirmed(p, namesake)
    login(namesake)
    assert "Ihr Nachname gleicht dem einer Person der Organisation (Mustermann)" in _html(
        client.get(GATE.format(id=p.id)))


# ---------------------------------------------------------------- many at once


def _pairs(*pairs):
    return {"pair": [f"{p.id}:{u.id}" for p, u in pairs]}


def test_bulk_assignment_assigns_each_pair_and_says_why_not(client, login, people, outbox):
    a, b, c = people["reviewers"]
    p1, p2 = _proposal(people), _proposal(people, status="submitted")
    decided = _proposal(people, status="approved")
    member = f.staff("reviewer", name="Mia Mitglied")
    people["org"].memberships.append(Membership(user=member))
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(), proposal_id=p1.id,
                                    reviewer_id=c.id))
    db.session.commit()
    login(people["coordinator"])
    due = (date.today() + timedelta(days=10)).isoformat()
    data = {"p": [p1.id, p2.id, decided.id], "due_date": due,
            **_pairs((p1, a), (p1, b), (p2, a), (p1, c), (p2, member), (decided, b))}
    resp = client.post(BULK, data=data)
    html = _html(resp)
    assert resp.status_code == 200  # some pairs were refused: the page says which
    assigned = {(x.proposal_id, x.reviewer_id) for x in db.session.query(ReviewAssignment)}
    assert {(p1.id, a.id), (p1.id, b.id), (p2.id, a.id)} <= assigned
    assert (p2.id, member.id) not in assigned and (decided.id, b.id) not in assigned
    assert "3 Zuweisungen vorgenommen" in html and "3 nicht möglich" in html
    assert "bereits zugewiesen" in html
    assert "Interessenkonflikt: Mitglied der vorschlagenden Organisation" in html
    assert "nicht eingereicht oder in Begutachtung" in html
    rows = db.session.query(ReviewAssignment).filter_by(proposal_id=p1.id, reviewer_id=a.id).one()
    assert rows.due_date.isoformat() == due and not rows.confirmed
    assert db.session.query(Notification).filter_by(
        user_id=a.id, kind="reviewer_assigned").count() == 2


def test_bulk_assignment_without_refusals_returns_to_the_inbox(client, login, people):
    a, b, _c = people["reviewers"]
    p1, p2 = _proposal(people), _proposal(people)
    login(people["coordinator"])
    resp = client.post(BULK, data={"p": [p1.id, p2.id], **_pairs((p1, a), (p2, b))})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/review/")
    assert "2 Zuweisungen vorgenommen" in _html(client.get("/staff/review/"))


def test_bulk_assignment_refuses_too_many_and_an_empty_choice(client, login, people, monkeypatch):
    a, b, _c = people["reviewers"]
    p = _proposal(people)
    login(people["coordinator"])
    empty = client.post(BULK, data={"p": [p.id]})
    assert empty.status_code == 422
    assert "Bitte wählen Sie mindestens eine Zuweisung aus" in _html(empty)
    monkeypatch.setattr(assignment, "MAX_PAIRS", 1)
    many = client.post(BULK, data={"p": [p.id], **_pairs((p, a), (p, b))})
    assert many.status_code == 422
    assert "Höchstens 1 Zuweisungen auf einmal" in _html(many)
    assert db.session.query(ReviewAssignment).count() == 0
    past = client.post(BULK, data={"p": [p.id], "due_date": "2020-01-01", **_pairs((p, a))})
    assert past.status_code == 422
    html = _html(past)
    assert "Das Fälligkeitsdatum darf nicht in der Vergangenheit liegen" in html
    assert f'value="{p.id}:{a.id}" checked' in html  # what was ticked stays ticked


@pytest.mark.parametrize("who", ["decider", "reviewer"])
def test_bulk_assignment_and_workload_are_for_coordinators(client, login, people, who):
    p = _proposal(people)
    login(people[who] if who != "reviewer" else people["reviewers"][0])
    assert client.get(f"{BULK}?p={p.id}").status_code == 403
    assert client.post(BULK, data={"p": [p.id], **_pairs((p, people["reviewers"][1]))}
                       ).status_code == 403
    assert client.get("/staff/review/workload").status_code == 403
    assert db.session.query(ReviewAssignment).count() == 0


def test_the_inbox_offers_the_selection_to_coordinators(client, login, people):
    p = _proposal(people)
    login(people["coordinator"])
    html = _html(client.get("/staff/review/"))
    assert f'name="p" value="{p.id}"' in html and "Ausgewählten Vorschlägen zuweisen" in html
    login(people["decider"])
    assert f'name="p" value="{p.id}"' not in _html(client.get("/staff/review/"))


def test_the_bulk_page_without_a_choice_explains_what_to_do(client, login, people):
    login(people["coordinator"])
    resp = client.get(BULK)
    assert resp.status_code == 200
    assert "Kein Vorschlag ausgewählt" in _html(resp)


# ---------------------------------------------------------------- the suggestion


def test_the_suggestion_fills_up_to_the_reviews_needed_and_balances(app_ctx, people):
    a, b, c = people["reviewers"]
    ch = f.challenge()
    ch.reviews_needed = 2
    db.session.commit()
    busy = [_proposal(people) for _ in range(2)]
    for p in busy:
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(), proposal_id=p.id,
                                        reviewer_id=a.id))
    db.session.commit()
    new = [_proposal(people, challenge_=ch) for _ in range(3)]
    pairs = assignment.suggest(new)
    per_proposal = {p.id: {u for q, u in pairs if q == p.id} for p in new}
    assert all(len(chosen) == 2 for chosen in per_proposal.values())
    given = {u: sum(1 for _q, x in pairs if x == u) for u in (a.id, b.id, c.id)}
    # six reviews: Anna had two open already, so she gets the fewest
    assert given[a.id] <= given[b.id] and given[a.id] <= given[c.id]
    assert given[a.id] + 2 >= given[b.id]
    assert sum(given.values()) == 6


def test_the_suggestion_avoids_conflicts_and_namesakes(app_ctx, people):
    a, b, c = people["reviewers"]
    f.staff("reviewer", name="Max Mustermann")  # the contact is Erika Mustermann
    member = f.staff("reviewer", name="Mia Mitglied")
    people["org"].memberships.append(Membership(user=member))
    db.session.commit()
    ch = f.challenge()
    ch.reviews_needed = 10
    db.session.commit()
    p = _proposal(people, challenge_=ch)
    chosen = {u for _q, u in assignment.suggest([p])}
    assert chosen == {a.id, b.id, c.id}  # fewer than needed rather than a doubtful one


def test_the_suggestion_counts_what_is_assigned_and_skips_decided(app_ctx, people):
    a, b, c = people["reviewers"]
    p = _proposal(people)  # an initiative proposal: INITIATIVE_REVIEWS_NEEDED (2)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(), proposal_id=p.id,
                                    reviewer_id=a.id))
    db.session.commit()
    decided = _proposal(people, status="approved")
    pairs = assignment.suggest([p, decided])
    assert len(pairs) == 1 and all(q == p.id for q, _u in pairs)
    assert next(iter(pairs))[1] in (b.id, c.id)


def test_the_suggested_pairs_arrive_ticked(client, login, people):
    p = _proposal(people)
    login(people["coordinator"])
    html = _html(client.get(f"{BULK}?p={p.id}&suggest=1"))
    assert len(re.findall(rf'name="pair" value="{p.id}:\d+" checked', html)) == 2
    assert "Vorgeschlagen: 2 Zuweisungen" in html
    assert db.session.query(ReviewAssignment).count() == 0  # nothing saved yet


# ---------------------------------------------------------------- workload


def test_the_workload_counts_open_due_done_and_time(client, login, people):
    a, b, _c = people["reviewers"]
    today = date.today()
    late, soon, later, done = (_proposal(people) for _ in range(4))
    declared = _proposal(people)
    for p, due in ((late, today - timedelta(days=1)), (soon, today + timedelta(days=3)),
                   (later, today + timedelta(days=30)), (done, today)):
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(), proposal_id=p.id,
                                        reviewer_id=a.id, due_date=due,
                                        created_at=utcnow() - timedelta(days=4)))
    db.session.add(ReviewAssignment(proposal_id=declared.id, reviewer_id=a.id,
                                    conflict_declared_at=utcnow(), conflict_reason="befangen"))
    db.session.add(Review(proposal_id=done.id, reviewer_id=a.id, innovation=4,
                          recommendation="approve", submitted_at=utcnow()))
    db.session.commit()
    loads = {load.reviewer.id: load for load in assignment.workload()}
    anna = loads[a.id]
    assert (anna.open, anna.overdue, anna.due_soon, anna.done, anna.conflicts) == (3, 1, 1, 1, 1)
    assert anna.average_days == pytest.approx(4, abs=0.01)
    assert loads[b.id].open == 0 and loads[b.id].average_days is None
    login(people["coordinator"])
    html = _html(client.get("/staff/review/workload"))
    assert "Anna Albrecht" in html and "4 Tage" in html


def test_workload_in_english(client, login, people):
    login(f.staff("coordinator", locale="en"))
    html = _html(client.get("/staff/review/workload", headers={"Accept-Language": "en"}))
    assert "Workload" in html or "workload" in html
    assert "Arbeitslast" not in html


# ---------------------------------------------------------------- reviews needed


def test_the_reviews_needed_are_a_setting_of_the_challenge(client, login, people):
    ch = f.challenge()
    login(people["coordinator"])
    url = f"/staff/challenges/{ch.id}/reviews-needed"
    bad = client.post(url, data={"reviews_needed": "0"})
    assert bad.status_code == 422
    assert "Bitte wählen Sie einen der angebotenen Werte" in _html(bad)
    assert client.post(url, data={"reviews_needed": "3"}).status_code == 303
    db.session.refresh(ch)
    assert ch.reviews_needed == 3
    p = _proposal(people, challenge_=ch)
    assert assignment.reviews_needed(p) == 3
    assert "Dieser Vorschlag braucht 3 Gutachten" in _html(
        client.get(f"/staff/review/proposals/{p.id}"))
    public = _html(client.get(f"/challenges/{ch.id}"))
    assert "von 3 Gutachterinnen und Gutachtern" in public
    login(people["decider"])
    assert client.post(url, data={"reviews_needed": "5"}).status_code == 403
    db.session.refresh(ch)
    assert ch.reviews_needed == 3



def test_the_reviewers_task_leads_to_the_question_then_to_the_review(client, login, people):
    p = _proposal(people)
    reviewer = people["reviewers"][0]
    a = _unconfirmed(p, reviewer)
    login(reviewer)
    html = _html(client.get("/tasks/"))
    assert GATE.format(id=p.id) in html
    assert f"/staff/review/proposals/{p.id}/review" not in html
    a.no_conflict_confirmed_at = utcnow()
    db.session.commit()
    html = _html(client.get("/tasks/"))
    assert f"/staff/review/proposals/{p.id}/review" in html
