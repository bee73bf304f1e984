"""Criteria per challenge through the pages: coordinators set them, the public challenge page
shows them, the review form scores on them, the inbox, the staff page and the CSV export show
the weighted total and a knock-out."""
from __future__ import annotations

import csv
import io
import re

import pytest

from innolab.extensions import db
from innolab.models import (
    ChallengeCriterion, FormReceipt, Review, ReviewAssignment, ReviewScore,
)
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def _criteria(c):
    db.session.expire_all()
    return (db.session.query(ChallengeCriterion).filter_by(challenge_id=c.id)
            .order_by(ChallengeCriterion.position).all())


# ---------------------------------------------------------------- the coordinators' page


def test_a_coordinator_sets_up_criteria_from_the_default_five(client, login):
    c = f.challenge(status="draft")
    login(f.staff("coordinator"))
    url = f"/staff/challenges/{c.id}/criteria"
    html = client.get(url).get_data(as_text=True)
    assert "Die fünf üblichen Kriterien" in html and "Innovationsgrad" in html
    assert client.post(f"{url}/customise").status_code == 303
    assert [r.name_de for r in _criteria(c)][0] == "Innovationsgrad"
    resp = client.post(url, data={"name_de": "Barrierefreiheit", "name_en": "Accessibility",
                                  "description_de": "Nach BITV 2.0?", "weight": "3",
                                  "scale_max": "10", "knockout_min": "6"})
    assert resp.status_code == 303
    added = _criteria(c)[-1]
    assert (added.name_de, added.weight, added.scale_max, added.knockout_min) == (
        "Barrierefreiheit", 3, 10, 6)
    html = client.get(url).get_data(as_text=True)
    assert "Gewicht 3, Skala 1 bis 10" in html and "Mindestwert 6" in html
    assert "Nach oben" in html and "Nach unten" in html


def test_a_wrong_criterion_is_refused_with_messages_and_keeps_what_was_typed(client, login):
    c = f.challenge(status="draft")
    f.criteria(c, ("Wirkung", 1, 5))
    login(f.staff("coordinator"))
    url = f"/staff/challenges/{c.id}/criteria"
    resp = client.post(url, data={"name_de": "", "description_de": "Eine Beschreibung bleibt",
                                  "weight": "99", "scale_max": "4", "knockout_min": "5"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Bitte geben Sie einen Namen ein." in html
    assert "Bitte wählen Sie einen der angebotenen Werte." in html  # weight 99
    assert "Der Mindestwert darf nicht über dem Höchstwert der Skala (4) liegen." in html
    assert "Eine Beschreibung bleibt" in html
    assert len(_criteria(c)) == 1
    login(f.staff("coordinator", locale="en"))
    html = client.post(url, data={"name_de": "", "weight": "1", "scale_max": "5"}).get_data(
        as_text=True)
    assert "Please enter a name." in html


def test_reorder_with_buttons_edit_and_remove(client, login):
    c = f.challenge(status="draft")
    first, second = f.criteria(c, ("Wirkung", 1, 5), ("Kosten", 2, 5))
    login(f.staff("coordinator"))
    base = f"/staff/challenges/{c.id}/criteria"
    assert client.post(f"{base}/{second.id}/move", data={"direction": "up"}).status_code == 303
    assert [r.name_de for r in _criteria(c)] == ["Kosten", "Wirkung"]
    client.post(f"{base}/{second.id}/move", data={"direction": "up"})  # already first
    assert [r.name_de for r in _criteria(c)] == ["Kosten", "Wirkung"]
    resp = client.post(f"{base}/{first.id}/edit", data={"name_de": "Wirkung im Amt",
                                                         "weight": "4", "scale_max": "7"})
    assert resp.status_code == 303
    assert [(r.name_de, r.weight, r.scale_max) for r in _criteria(c)][1] == (
        "Wirkung im Amt", 4, 7)
    asked = client.post(f"{base}/{first.id}/remove")
    assert asked.status_code == 200 and "wirklich?" in asked.get_data(as_text=True)
    assert len(_criteria(c)) == 2
    assert client.post(f"{base}/{first.id}/remove", data={"confirmed": "1"}).status_code == 303
    assert [r.name_de for r in _criteria(c)] == ["Kosten"]
    other = f.challenge()
    assert client.post(f"/staff/challenges/{other.id}/criteria/{second.id}/remove",
                       data={"confirmed": "1"}).status_code == 404


def test_frozen_criteria_say_so_and_refuse_weights_and_removal(client, login):
    c = f.challenge()
    (row,) = f.criteria(c, ("Wirkung", 1, 5))
    p = f.proposal(status="in_review", challenge_=c)
    reviewer = f.staff("reviewer")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    review = Review(proposal_id=p.id, reviewer_id=reviewer.id, recommendation="approve",
                    submitted_at=utcnow())
    review.score_rows.append(ReviewScore(criterion_id=row.id, score=4))
    db.session.add(review)
    db.session.commit()
    login(f.staff("coordinator"))
    base = f"/staff/challenges/{c.id}/criteria"
    html = client.get(base).get_data(as_text=True)
    assert "Die Kriterien sind festgeschrieben." in html
    assert 'id="add-heading"' not in html and f"{row.id}/remove" not in html
    resp = client.post(f"{base}/{row.id}/edit", data={"name_de": "Wirkung", "weight": "2",
                                                      "scale_max": "5"})
    assert resp.status_code == 422 and "bereits ein Gutachten abgeschlossen" in resp.get_data(
        as_text=True)
    client.post(f"{base}/{row.id}/remove", data={"confirmed": "1"})
    client.post(base, data={"name_de": "Neu", "weight": "1", "scale_max": "5"})
    assert [(r.name_de, r.weight) for r in _criteria(c)] == [("Wirkung", 1)]
    assert client.post(f"{base}/{row.id}/edit", data={"name_de": "Wirkung im Amt",
                                                      "weight": "1", "scale_max": "5"}
                       ).status_code == 303
    assert _criteria(c)[0].name_de == "Wirkung im Amt"


def test_only_coordinators_set_criteria(client, login):
    c = f.challenge()
    login(f.staff("reviewer"))
    assert client.get(f"/staff/challenges/{c.id}/criteria").status_code == 403
    assert client.post(f"/staff/challenges/{c.id}/criteria/customise").status_code == 403
    assert _criteria(c) == []


# ---------------------------------------------------------------- the public page


def test_the_public_challenge_page_shows_the_criteria_before_anyone_applies(client):
    c = f.challenge()
    f.criteria(c, ("Wirkung", 3, 5), ("Datenschutz", 1, 10, 6))
    html = client.get(f"/challenges/{c.id}").get_data(as_text=True)
    assert "Wie Vorschläge bewertet werden" in html
    assert "Wirkung" in html and "Wie gut ist Wirkung?" in html
    assert "75 %" in html and "25 %" in html  # the weights' shares of the total
    assert "1 bis 10" in html and "mindestens 6 (Ausschlusskriterium)" in html
    plain = f.challenge()
    html = client.get(f"/challenges/{plain.id}").get_data(as_text=True)
    assert "Innovationsgrad" in html and "1 bis 5" in html and "Ausschlusskriterium" not in html


def test_the_english_page_shows_the_english_names(client, login):
    c = f.challenge()
    f.criteria(c, ("Wirkung", 1, 5))
    plain = f.challenge()
    login(f.user(locale="en"))
    html = client.get(f"/challenges/{c.id}").get_data(as_text=True)
    assert "How proposals are assessed" in html and "Wirkung (en)" in html
    html = client.get(f"/challenges/{plain.id}").get_data(as_text=True)
    assert "Degree of innovation" in html


# ---------------------------------------------------------------- review, inbox, CSV


@pytest.fixture
def scored(login):
    c = f.challenge(title="Digitale Bauakte")
    impact, privacy = f.criteria(c, ("Wirkung", 3, 5), ("Datenschutz", 1, 10, 6))
    p = f.proposal(status="in_review", challenge_=c, title="Bauakte digital")
    reviewer = f.staff("reviewer")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.commit()
    return {"c": c, "impact": impact, "privacy": privacy, "p": p, "reviewer": reviewer}


def test_the_review_form_scores_on_the_challenge_criteria(client, login, scored):
    p, impact, privacy = scored["p"], scored["impact"], scored["privacy"]
    login(scored["reviewer"])
    url = f"/staff/review/proposals/{p.id}/review"
    html = client.get(url).get_data(as_text=True)
    assert f'name="c{impact.id}"' in html and f'name="c{privacy.id}_comment"' in html
    assert 'name="innovation"' not in html
    assert "10 – sehr gut" in html and 'data-weight="3"' in html
    assert "Ausschlusskriterium: Mindestwert 6" in html
    bad = client.post(url, data={f"c{impact.id}": "9", "intent": "save"})
    assert bad.status_code == 422 and db.session.query(Review).count() == 0
    data = {f"c{impact.id}": "4", f"c{privacy.id}": "3", f"c{privacy.id}_comment": "Hosting?",
            "recommendation": "approve", "intent": "submit", "confirmed": "1"}
    assert client.post(url, data=data).status_code == 303
    db.session.expire_all()
    r = db.session.query(Review).one()
    assert r.submitted_at is not None
    assert {row.criterion_id: (row.score, row.comment) for row in r.score_rows} == {
        impact.id: (4, None), privacy.id: (3, "Hosting?")}


def test_the_english_review_form_marks_a_german_criterion_name(client, login, scored):
    p, impact = scored["p"], scored["impact"]
    impact.name_en = None  # only German: the English page falls back to it, marked
    db.session.commit()
    scored["reviewer"].locale = "en"
    db.session.commit()
    login(scored["reviewer"])
    html = client.get(f"/staff/review/proposals/{p.id}/review").get_data(as_text=True)
    assert '<legend class="kern-label" lang="de">Wirkung</legend>' in html
    assert '<legend class="kern-label">Datenschutz (en)</legend>' in html
    scored["reviewer"].locale = "de"
    db.session.commit()
    html = client.get(f"/staff/review/proposals/{p.id}/review").get_data(as_text=True)
    assert '<legend class="kern-label">Wirkung</legend>' in html


def _submit(scored):
    r = Review(proposal_id=scored["p"].id, reviewer_id=scored["reviewer"].id,
               recommendation="approve", submitted_at=utcnow())
    r.score_rows.append(ReviewScore(criterion_id=scored["impact"].id, score=4))
    r.score_rows.append(ReviewScore(criterion_id=scored["privacy"].id, score=10))
    db.session.add(r)
    db.session.commit()
    return r


def test_inbox_staff_page_and_csv_show_the_weighted_total(client, login, scored):
    _submit(scored)  # (3·4 + 1·5) / 4 = 4.25
    login(f.staff("coordinator"))
    inbox = client.get("/staff/review/").get_data(as_text=True)
    assert "Gesamtwert (gewichtet)" in inbox and "4,25" in inbox
    assert "unter Mindestwert" not in inbox
    page = client.get(f"/staff/review/proposals/{scored['p'].id}").get_data(as_text=True)
    assert "4,25" in page and "Wirkung" in page and "1 bis 10" in page
    raw = client.get("/staff/export/proposals.csv").get_data().decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(raw), delimiter=";"))[:2]
    values = dict(zip(header, row, strict=True))
    assert values["Gesamtwert (gewichtet, Skala 1 bis 5)"] == "4,25"
    assert "Wirkung (Gewicht 3, 1–5): 4,00" in values["Bewertungen je Kriterium"]
    assert values["Unter Mindestwert"] == "" and values["Innovationsgrad"] == ""


def test_a_knock_out_is_marked_in_inbox_staff_page_and_csv(client, login, scored):
    r = _submit(scored)
    r.score_rows[1].score = 4  # Datenschutz 4 of 10, below the minimum 6
    db.session.commit()
    login(f.staff("coordinator"))
    inbox = client.get("/staff/review/").get_data(as_text=True)
    assert "unter Mindestwert bei „Datenschutz“" in inbox
    page = client.get(f"/staff/review/proposals/{scored['p'].id}").get_data(as_text=True)
    assert "Unter dem Mindestwert bei „Datenschutz“" in page
    raw = client.get("/staff/export/proposals.csv").get_data().decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(raw), delimiter=";"))[:2]
    assert dict(zip(header, row, strict=True))["Unter Mindestwert"] == (
        "unter Mindestwert bei „Datenschutz“")


def test_a_criterion_form_sent_twice_gets_the_first_answer_and_adds_once(client, login):
    """The flash of the first post is kept with the form's receipt (as plain text), so the
    second post of the same form is answered like the first, not asked to reload."""
    c = f.challenge(status="draft")
    login(f.staff("coordinator"))
    url = f"/staff/challenges/{c.id}/criteria"
    token = re.search(r'name="_once" value="([^"]+)"',
                      client.get(url).get_data(as_text=True)).group(1)
    data = {"name_de": "Barrierefreiheit", "weight": "1", "scale_max": "5", "_once": token}
    first = client.post(url, data=data)
    assert first.status_code == 303
    receipt = db.session.query(FormReceipt).filter_by(token=token).one()
    assert receipt.location and "Barrierefreiheit" in str(receipt.flashes)
    second = client.post(url, data=data)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert [r.name_de for r in _criteria(c)].count("Barrierefreiheit") == 1
    assert "Das Kriterium „Barrierefreiheit“ wurde hinzugefügt." in client.get(url).get_data(
        as_text=True)
