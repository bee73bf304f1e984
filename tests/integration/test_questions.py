"""Questions per challenge through the pages: coordinators set a challenge's questions, admins
the default set for initiative proposals; partners answer them in the proposal form; versions,
their diff, the CSV export and the staff page show the answers."""
from __future__ import annotations

import pytest

from innolab.extensions import db
from innolab.models import ChallengeQuestion
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def _questions(challenge_id):
    db.session.expire_all()
    return (db.session.query(ChallengeQuestion).filter_by(challenge_id=challenge_id)
            .order_by(ChallengeQuestion.position, ChallengeQuestion.id).all())


# ---------------------------------------------------------------- setting up the questions


def test_a_coordinator_adds_a_question_of_each_kind(client, login):
    c = f.challenge(status="draft")
    login(f.staff("coordinator"))
    edit_page = client.get(f"/staff/challenges/{c.id}/edit").get_data(as_text=True)
    assert f"/staff/challenges/{c.id}/questions" in edit_page
    assert f"/staff/challenges/{c.id}/questions" in client.get("/staff/challenges/").get_data(
        as_text=True)
    url = f"/staff/challenges/{c.id}/questions"
    html = client.get(url).get_data(as_text=True)
    assert "Noch keine Fragen." in html and "Frage hinzufügen" in html
    forms = [
        {"kind": "short_text", "label_de": "Name des Produkts", "label_en": "Product name",
         "required": "y"},
        {"kind": "long_text", "label_de": "Referenzen", "help_de": "Markdown ist erlaubt."},
        {"kind": "number", "label_de": "Wie viele Nutzer?", "unit": "Nutzer", "required": "y"},
        {"kind": "date", "label_de": "Verfügbar ab"},
        {"kind": "single_choice", "label_de": "Ebene", "options_de": "Bund\nLand\nKommune",
         "options_en": "Federal\nState", "required": "y"},
        {"kind": "multiple_choice", "label_de": "Schnittstellen", "options_de": "REST\nSOAP"},
        {"kind": "yes_no", "label_de": "Open Source?", "required": "y"},
    ]
    for data in forms:
        assert client.post(url, data=data).status_code == 303, data
    rows = _questions(c.id)
    assert [q.kind for q in rows] == [d["kind"] for d in forms]
    assert [q.position for q in rows] == list(range(7))
    number, single = rows[2], rows[4]
    assert (number.unit, number.required) == ("Nutzer", True)
    assert single.options == [{"de": "Bund", "en": "Federal"}, {"de": "Land", "en": "State"},
                              {"de": "Kommune", "en": None}]
    assert rows[0].label_en == "Product name" and rows[1].help_de == "Markdown ist erlaubt."
    html = client.get(url).get_data(as_text=True)
    assert "Zahl mit Einheit · Pflichtfrage · Einheit: Nutzer" in html
    assert 'Nach oben<span class="visually-hidden">: Ebene</span>' in html


def test_a_wrong_question_is_refused_at_its_field_and_keeps_what_was_typed(client, login):
    c = f.challenge(status="draft")
    login(f.staff("coordinator"))
    url = f"/staff/challenges/{c.id}/questions"
    resp = client.post(url, data={"kind": "single_choice", "label_de": "Ebene",
                                  "help_de": "Bleibt stehen", "options_de": "Bund"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ('id="options_de-error"' in html
            and "Bitte geben Sie mindestens zwei Antwortmöglichkeiten an" in html)
    assert "Bleibt stehen" in html and 'value="Ebene"' in html
    resp = client.post(url, data={"kind": "short_text", "label_de": ""})
    assert resp.status_code == 422 and 'id="label_de-error"' in resp.get_data(as_text=True)
    resp = client.post(url, data={"kind": "essay", "label_de": "Frage"})
    assert resp.status_code == 422
    assert _questions(c.id) == []
    login(f.staff("coordinator", locale="en"))
    html = client.post(url, data={"kind": "multiple_choice", "label_de": "Ebene",
                                  "options_de": "Bund\nLand", "options_en": "A\nB\nC"}
                       ).get_data(as_text=True)
    assert "There are more English than German choices." in html
    assert 'id="options_en-error"' in html


def test_reorder_edit_and_remove_a_question(client, login):
    c = f.challenge(status="draft")
    first = f.question(c, label="Erste")
    second = f.question(c, kind="number", label="Zweite", unit="Euro")
    login(f.staff("coordinator"))
    base = f"/staff/challenges/{c.id}/questions"
    assert client.post(f"{base}/{second.id}/move", data={"direction": "up"}).status_code == 303
    assert [q.label_de for q in _questions(c.id)] == ["Zweite", "Erste"]
    client.post(f"{base}/{second.id}/move", data={"direction": "up"})  # already first
    assert [q.label_de for q in _questions(c.id)] == ["Zweite", "Erste"]
    html = client.get(f"{base}/{second.id}/edit").get_data(as_text=True)
    assert 'value="Euro"' in html
    resp = client.post(f"{base}/{second.id}/edit", data={
        "kind": "number", "label_de": "Kosten im Jahr", "unit": "Euro", "required": "y"})
    assert resp.status_code == 303
    assert (_questions(c.id)[0].label_de, _questions(c.id)[0].required) == (
        "Kosten im Jahr", True)
    asked = client.post(f"{base}/{first.id}/remove")
    assert asked.status_code == 200 and "wirklich?" in asked.get_data(as_text=True)
    assert len(_questions(c.id)) == 2
    assert client.post(f"{base}/{first.id}/remove", data={"confirmed": "1"}).status_code == 303
    assert [q.label_de for q in _questions(c.id)] == ["Kosten im Jahr"]
    other = f.challenge()
    assert client.post(f"/staff/challenges/{other.id}/questions/{second.id}/remove",
                       data={"confirmed": "1"}).status_code == 404


def test_only_coordinators_set_questions_and_only_admins_the_default_set(client, login):
    c = f.challenge()
    login(f.staff("reviewer"))
    assert client.get(f"/staff/challenges/{c.id}/questions").status_code == 403
    assert client.post(f"/staff/challenges/{c.id}/questions",
                       data={"kind": "yes_no", "label_de": "Frage"}).status_code == 403
    login(f.staff("coordinator"))
    assert client.get("/admin/questions").status_code == 403
    assert _questions(c.id) == [] and _questions(None) == []


def test_the_admin_maintains_the_default_set(client, login):
    login(f.staff("admin"))
    assert "/admin/questions" in client.get("/admin/").get_data(as_text=True)
    html = client.get("/admin/questions").get_data(as_text=True)
    assert "Initiativvorschlag" in html
    assert client.post("/admin/questions", data={
        "kind": "yes_no", "label_de": "Gibt es schon einen Piloten?", "required": "y"}
    ).status_code == 303
    (q,) = _questions(None)
    assert (q.kind, q.required, q.challenge_id) == ("yes_no", True, None)
    assert client.post(f"/admin/questions/{q.id}/edit", data={
        "kind": "yes_no", "label_de": "Gibt es schon einen Pilotversuch?", "required": "y",
        "label_en": "Is there a pilot already?"}).status_code == 303
    login(f.staff("admin", locale="en"))
    html = client.get("/admin/questions").get_data(as_text=True)
    assert "Questions for the proposals" in html and "Is there a pilot already?" in html
    assert client.post(f"/admin/questions/{q.id}/remove",
                       data={"confirmed": "1"}).status_code == 303
    assert _questions(None) == []
