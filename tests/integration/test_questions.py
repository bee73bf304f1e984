"""Questions per challenge through the pages: coordinators set a challenge's questions, admins
the default set for initiative proposals; partners answer them in the proposal form; versions,
their diff, the CSV export and the staff page show the answers."""
from __future__ import annotations

import csv
import io
import re

import pytest

from innolab.extensions import db
from innolab.models import ChallengeQuestion, MemberRole, Membership, Proposal
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


# ---------------------------------------------------------------- answering in a proposal


@pytest.fixture
def asked(login):
    """A challenge with one question of each kind offered (the required ones: product, users,
    level, open source) and a signed-in partner."""
    c = f.challenge(title="Bauanträge schneller")
    kinds = {
        "product": f.question(c, label="Name des Produkts", required=True, label_en="Product"),
        "references": f.question(c, kind="long_text", label="Referenzen",
                                 help_de="Frühere Projekte"),
        "users": f.question(c, kind="number", label="Wie viele Nutzer?", unit="Nutzer",
                            required=True),
        "available": f.question(c, kind="date", label="Verfügbar ab"),
        "level": f.question(c, kind="single_choice", label="Ebene", required=True),
        "interfaces": f.question(c, kind="multiple_choice", label="Schnittstellen"),
        "open_source": f.question(c, kind="yes_no", label="Open Source?", required=True),
    }
    user = f.user(name="Erika Partnerin")
    org = f.organisation(owner=user, name="Digital Nord GmbH")
    login(user)
    return c, kinds, user, org


def _answers(kinds, **values) -> dict:
    return {f"q{kinds[name].id}": value for name, value in values.items()}


ALL_ANSWERS = dict(product="BauBot", references="- Amt Schwerin\n- Amt Rostock",
                   users="1.250", available="2027-03-01", level="Land",
                   interfaces=["Bund", "Kommune"], open_source="yes")


def test_the_questions_follow_the_fixed_fields_and_a_draft_may_be_incomplete(client, asked):
    c, kinds, _user, org = asked
    html = client.get(f"/proposals/new?challenge={c.id}").get_data(as_text=True)
    assert "Fragen zur Herausforderung" in html
    assert html.index('name="publication_consent"') < html.index(f'name="q{kinds["product"].id}"')
    assert f'id="q{kinds["available"].id}"' in html and 'type="date"' in html
    assert "Frühere Projekte" in html and "Einheit: Nutzer" in html
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, challenge_id=c.id, **_answers(kinds, product="BauBot")))
    assert resp.status_code == 303
    p = db.session.query(Proposal).one()
    assert {a.question_id: a.value for a in p.answers} == {kinds["product"].id: "BauBot"}
    html = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    assert 'value="BauBot"' in html


def test_a_wrong_answer_is_refused_at_its_field_and_keeps_what_was_typed(client, asked):
    c, kinds, _user, org = asked
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, challenge_id=c.id,
        **_answers(kinds, product="BauBot", users="viele", level="Kreis")))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="q{kinds["users"].id}-error"' in html
    assert "Bitte geben Sie eine Zahl an, zum Beispiel 1.250 oder 12,5." in html
    assert "Bitte wählen Sie eine der angebotenen Antworten." in html
    assert 'value="BauBot"' in html and 'value="viele"' in html
    assert db.session.query(Proposal).count() == 0


def test_submitting_needs_the_required_answers_and_names_them(client, asked, outbox):
    c, kinds, _user, org = asked
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, challenge_id=c.id, save="submit", confirmed="1",
        **_answers(kinds, product="BauBot", interfaces=["Land"])))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ("Bitte füllen Sie noch aus: Wie viele Nutzer?, Ebene, Open Source?"
            in html.replace("&#34;", '"'))
    assert f'id="q{kinds["level"].id}-error"' in html  # "Für das Einreichen erforderlich."
    p = db.session.query(Proposal).one()
    assert p.status == "draft" and len(p.answers) == 2  # what was typed is kept
    show = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Wie viele Nutzer?" in show and "Name des Produkts" in show
    resp = client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, save="submit", confirmed="1", **_answers(kinds, **ALL_ANSWERS)))
    assert resp.status_code == 303
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.status == "submitted"
    values = {a.question_id: a.value for a in p.answers}
    assert values[kinds["users"].id] == 1250 and values[kinds["open_source"].id] is True
    assert values[kinds["interfaces"].id] == ["Bund", "Kommune"]
    assert values[kinds["available"].id] == "2027-03-01"
    content = p.versions[0].content
    assert content[f"q{kinds['level'].id}"] == "Land"
    assert content[f"q{kinds['users'].id}"] == 1250
    show = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "1.250 Nutzer" in show and "01.03.2027" in show and "Bund, Kommune" in show
    assert "<li>Amt Schwerin</li>" in show  # long text as Markdown


def test_english_pages_ask_and_show_in_english(client, asked, login):
    c, kinds, user, org = asked
    p = f.proposal(org, challenge_=c)
    user.locale = "en"
    db.session.commit()
    login(user)
    html = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    assert "Questions about the challenge" in html
    assert f'for="q{kinds["product"].id}">Product' in html  # the English label
    assert "Federal" in html  # the English option; "Kommune" has none and stays German
    # German texts on the English page are marked as German: question, option, help text
    assert '<span lang="de">Wie viele Nutzer?</span>' in html
    assert '<span lang="de">Kommune</span>' in html
    assert '<span lang="de">Frühere Projekte</span>' in html
    resp = client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, **_answers(kinds, users="12,5")))
    assert resp.status_code == 422
    assert "Please enter a number, for example 1,250 or 12.5." in resp.get_data(as_text=True)
    client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, **_answers(kinds, users="1,250", open_source="no")))
    db.session.expire_all()
    values = {a.question_id: a.value for a in db.session.get(Proposal, p.id).answers}
    assert values[kinds["users"].id] == 1250 and values[kinds["open_source"].id] is False
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "1,250 Nutzer" in html


def test_an_initiative_proposal_answers_the_default_set(client, asked):
    _c, _kinds, _user, org = asked
    default = f.question(None, label="Gibt es schon einen Pilotversuch?", kind="yes_no",
                         required=True)
    html = client.get("/proposals/new").get_data(as_text=True)
    assert "Weitere Fragen" in html and "Gibt es schon einen Pilotversuch?" in html
    assert "Name des Produkts" not in html
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, save="submit", confirmed="1"))
    assert resp.status_code == 422
    assert "Gibt es schon einen Pilotversuch?" in resp.get_data(as_text=True)
    p = db.session.query(Proposal).one()
    resp = client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        save="submit", confirmed="1", **{f"q{default.id}": "no"}))
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).status == "submitted"


# ---------------------------------------------------------------- what staff see


def _submitted(client, kinds, org, c) -> Proposal:
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, challenge_id=c.id, save="submit", confirmed="1",
        **_answers(kinds, **ALL_ANSWERS)))
    assert resp.status_code == 303
    return db.session.query(Proposal).one()


def test_staff_see_the_answers_and_a_retired_question_stays_readable(client, asked, login):
    c, kinds, _user, org = asked
    p = _submitted(client, kinds, org, c)
    coordinator = f.staff("coordinator")
    login(coordinator)
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Antworten auf die Fragen" in html
    assert "Wie viele Nutzer?" in html and "1.250 Nutzer" in html
    assert "Open Source?" in html and "Bund, Kommune" in html
    # the answered question is frozen: its kind stays, removing it retires it
    level = kinds["level"]
    resp = client.post(f"/staff/challenges/{c.id}/questions/{level.id}/edit", data={
        "kind": "short_text", "label_de": "Ebene", "required": "y"})
    assert resp.status_code == 422 and "bereits beantwortet" in resp.get_data(as_text=True)
    assert client.post(f"/staff/challenges/{c.id}/questions/{level.id}/remove",
                       data={"confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ChallengeQuestion, level.id).retired_at is not None
    html = client.get(f"/staff/challenges/{c.id}/questions").get_data(as_text=True)
    assert "Nicht mehr gestellte Fragen" in html
    html = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Ebene" in html and "nicht mehr gestellt" in html and "Land" in html


def test_versions_keep_the_answers_and_the_diff_shows_changed_ones(client, asked, login):
    c, kinds, _user, org = asked
    p = _submitted(client, kinds, org, c)
    p.status = "changes_requested"
    db.session.commit()
    resp = client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, save="submit", confirmed="1",
        **_answers(kinds, **{**ALL_ANSWERS, "users": "2.000", "open_source": "no",
                             "interfaces": ["Land"]})))
    assert resp.status_code == 303
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    first, second = p.versions
    assert first.content[f"q{kinds['users'].id}"] == 1250
    assert second.content[f"q{kinds['users'].id}"] == 2000
    html = client.get(f"/proposals/{p.id}/versions").get_data(as_text=True)
    assert "Änderungen gegenüber Fassung 1" in html
    diff = html[html.index("Änderungen gegenüber Fassung 1"):]
    assert "Wie viele Nutzer?" in diff and "1.250 Nutzer" in diff and "2.000 Nutzer" in diff
    assert "Open Source?" in diff and "Schnittstellen" in diff
    assert "Name des Produkts" not in diff  # unchanged
    login(f.staff("coordinator"))
    html = client.get(f"/proposals/{p.id}/versions").get_data(as_text=True)
    assert "2.000 Nutzer" in html


def test_the_csv_export_has_the_answers(client, asked, login):
    c, kinds, _user, org = asked
    p = _submitted(client, kinds, org, c)
    f.proposal(org, status="submitted", title="Ohne Antworten")
    login(f.staff("coordinator"))
    raw = client.get("/staff/export/proposals.csv?status=all").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    header = table[0]
    assert header[-1] == "Antworten"
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in table[1:]}
    answers = rows[p.title]["Antworten"]
    assert answers.startswith("Name des Produkts: BauBot; Referenzen: - Amt Schwerin")
    assert "Wie viele Nutzer?: 1.250 Nutzer; Verfügbar ab: 01.03.2027; Ebene: Land; " \
        "Schnittstellen: Bund, Kommune; Open Source?: Ja" in answers
    assert rows["Ohne Antworten"]["Antworten"] == ""


def test_an_answer_changed_by_another_member_meanwhile_is_an_edit_conflict(
        client, asked, new_client, login):
    c, kinds, _user, org = asked
    p = f.proposal(org, challenge_=c)
    other = f.user(name="Bernd Kollege")
    db.session.add(Membership(organisation_id=org.id, user_id=other.id,
                              role=MemberRole.MEMBER.value))
    db.session.commit()
    bernd = new_client()
    login(other, bernd)
    page = bernd.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    seen = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    key = f"q{kinds['product'].id}"
    assert client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, **{key: "BauBot"})).status_code == 303
    refused = bernd.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, version=seen, **{key: "AktenBot"}))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Name des Produkts" in html and "BauBot" in html
    db.session.expire_all()
    assert [a.value for a in db.session.get(Proposal, p.id).answers] == ["BauBot"]


# ---------------------------------------------------------------- a named document

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def test_a_file_question_asks_for_a_named_document_of_the_allowed_types(client, login):
    c = f.challenge()
    coordinator = f.staff("coordinator")
    login(coordinator)
    url = f"/staff/challenges/{c.id}/questions"
    resp = client.post(url, data={"kind": "file", "label_de": "Sicherheitskonzept",
                                  "required": "y", "file_types": "exe"})
    assert resp.status_code == 422 and 'id="file_types-error"' in resp.get_data(as_text=True)
    assert client.post(url, data={"kind": "file", "label_de": "Sicherheitskonzept",
                                  "required": "y", "file_types": ".PDF, odt"}
                       ).status_code == 303
    (q,) = _questions(c.id)
    assert (q.kind, q.file_types) == ("file", "pdf,odt")

    user = f.user()
    org = f.organisation(owner=user)
    login(user)
    form = client.get(f"/proposals/new?challenge={c.id}").get_data(as_text=True)
    assert "auf der Seite des Vorschlags hoch" in form and "Sicherheitskonzept" in form
    resp = client.post("/proposals/new", data=f.proposal_form(
        organisation_id=org.id, challenge_id=c.id, save="submit", confirmed="1"))
    assert resp.status_code == 422
    assert "Bitte füllen Sie noch aus: Sicherheitskonzept" in resp.get_data(as_text=True)
    p = db.session.query(Proposal).one()
    show = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Geforderte Dokumente" in show and 'accept=".pdf,.odt"' in show
    target = f"/proposals/{p.id}/questions/{q.id}/document"
    resp = client.post(target, data={"file": (io.BytesIO(b"PK\x03\x04"), "konzept.docx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    assert "Erlaubt sind hier: PDF, ODT." in client.get(
        f"/proposals/{p.id}").get_data(as_text=True)
    assert client.post(target, data={"file": (io.BytesIO(PDF), "konzept.pdf")},
                       content_type="multipart/form-data").status_code == 303
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    (attachment,) = p.attachments
    assert [a.value for a in p.answers] == [attachment.id]
    show = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Hochgeladen:" in show and "konzept.pdf" in show
    resp = client.post(f"/proposals/{p.id}/edit", data=f.proposal_form(
        challenge_id=c.id, save="submit", confirmed="1"))
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).status == "submitted"
    login(coordinator)
    staff = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert f'/proposals/attachments/{attachment.id}"' in staff and "konzept.pdf" in staff
