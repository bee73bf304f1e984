"""The feedback mechanism of the accessibility statement: a form that stores the report, mails
it to the responsible unit and acknowledges it to the sender (real SMTP), and the admins'
list with the status "offen / beantwortet"."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.domain import mailer
from innolab.extensions import db
from innolab.models import AccessibilityFeedback, AuditEvent, PlatformSetting
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

GOOD = {
    "name": "Bea Beispiel",
    "email": "bea@example.org",
    "page_url": "https://innolab.example/pilots",
    "description": "Der Filter auf der Seite Piloten lässt sich nicht mit der Tastatur öffnen.",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_feedback_is_stored_mailed_to_the_unit_and_acknowledged(client, smtp_server):
    db.session.add(PlatformSetting(key="legal.a11y_feedback_email",
                                   value="barrierefreiheit@zdmv.example"))
    db.session.commit()
    response = client.post("/barrierefreiheit/rueckmeldung", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/pages/barrierefreiheit")
    page = text(client.get(response.headers["Location"]))
    assert "Vielen Dank für Ihre Rückmeldung" in page and "innerhalb von 6 Wochen" in page

    item = db.session.execute(select(AccessibilityFeedback)).scalar_one()
    assert (item.name, item.email, item.page_url, item.status) == (
        "Bea Beispiel", "bea@example.org", "https://innolab.example/pilots", "open")
    assert item.description == GOOD["description"]
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "accessibility.feedback")).scalar_one().object_id == item.id

    assert mailer.deliver_pending() == 2
    received = {rcpts[0]: msg for rcpts, msg in smtp_server.inbox.messages}
    assert set(received) == {"barrierefreiheit@zdmv.example", "bea@example.org"}
    unit = received["barrierefreiheit@zdmv.example"]
    assert f"Nr. {item.id}" in unit["Subject"]
    unit_body = _body(unit)
    assert "bea@example.org" in unit_body and "Bea Beispiel" in unit_body
    assert "https://innolab.example/pilots" in unit_body
    assert GOOD["description"] in unit_body
    assert "/admin/feedback" in unit_body
    ack = received["bea@example.org"]
    assert "eingegangen" in ack["Subject"]
    ack_body = _body(ack)
    assert "Guten Tag Bea Beispiel" in ack_body
    assert "innerhalb von 6 Wochen" in ack_body
    assert "/pages/barrierefreiheit" in ack_body


def test_name_and_page_are_optional(client, outbox):
    response = client.post("/barrierefreiheit/rueckmeldung", data={
        "email": "anonym@example.org", "description": "Die Kontraste sind zu schwach."})
    assert response.status_code == 303
    item = db.session.execute(select(AccessibilityFeedback)).scalar_one()
    assert item.name is None and item.page_url is None
    # the default unit is the ZDMV's central mailbox
    assert [m.recipient for m in outbox()] == ["poststelle@zd.mv-regierung.de",
                                               "anonym@example.org"]


@pytest.mark.parametrize("data,message", [
    ({**GOOD, "email": ""}, "Bitte geben Sie Ihre E-Mail-Adresse an, damit wir Ihnen antworten"),
    ({**GOOD, "email": "bea-at-example"}, "Bitte geben Sie eine gültige E-Mail-Adresse an"),
    ({**GOOD, "description": ""}, "Bitte beschreiben Sie, was nicht barrierefrei ist."),
    ({**GOOD, "description": "kurz"}, "Bitte beschreiben Sie die Barriere mit 10 bis 5000"),
    ({**GOOD, "name": "Bea\nBcc: x@y"}, "keine Zeilenumbrüche"),
])
def test_bad_input_keeps_what_was_typed_with_german_messages(client, outbox, data, message):
    response = client.post("/barrierefreiheit/rueckmeldung", data=data)
    body = text(response)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in body and 'id="error-summary"' in body
    assert message in body
    assert 'value="https://innolab.example/pilots"' in body
    if data["description"]:
        assert data["description"] in body
    assert db.session.execute(select(AccessibilityFeedback)).first() is None
    assert outbox() == []


def test_form_page_prefills_the_page_concerned(client):
    body = text(client.get("/barrierefreiheit/rueckmeldung?page=/pilots/7"))
    assert 'value="/pilots/7"' in body
    assert body.count("<h1") == 1
    assert 'for="email"' in body and 'for="description"' in body
    assert 'name="_once"' in body


def test_statement_links_to_the_form(client):
    assert 'href="/barrierefreiheit/rueckmeldung"' in text(client.get("/pages/barrierefreiheit"))


def test_feedback_form_is_rate_limited(limited_client):
    codes = [limited_client.post("/barrierefreiheit/rueckmeldung", data={}).status_code
             for _ in range(6)]
    assert codes[:5] == [422] * 5 and codes[5] == 429
    assert limited_client.get("/barrierefreiheit/rueckmeldung").status_code == 200


def test_acknowledgements_to_one_address_are_limited(client, outbox):
    for _ in range(4):
        assert client.post("/barrierefreiheit/rueckmeldung", data=GOOD).status_code == 303
    assert len(db.session.execute(select(AccessibilityFeedback)).all()) == 4
    assert len(outbox("bea@example.org")) == 3  # MAIL_LIMIT_PER_HOUR
    assert len(outbox("poststelle@zd.mv-regierung.de")) == 4  # the unit gets every report


def test_admin_lists_feedback_and_marks_it_answered(app, client, login):
    client.post("/barrierefreiheit/rueckmeldung", data=GOOD)
    item = db.session.execute(select(AccessibilityFeedback)).scalar_one()
    admin = f.staff("admin", email="ada@zdmv.example")
    login(admin)
    body = text(client.get("/admin/feedback"))
    assert "bea@example.org" in body and GOOD["description"] in body and "offen" in body
    response = client.post(f"/admin/feedback/{item.id}/status", data={"status": "answered"})
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.get(AccessibilityFeedback, item.id)
    assert item.status == "answered" and item.answered_by_id == admin.id
    assert item.answered_at is not None
    assert "bea@example.org" in text(client.get("/admin/feedback?status=answered"))
    assert "bea@example.org" not in text(client.get("/admin/feedback?status=open"))
    client.post(f"/admin/feedback/{item.id}/status", data={"status": "open"})
    db.session.expire_all()
    assert db.session.get(AccessibilityFeedback, item.id).status == "open"
    assert client.post(f"/admin/feedback/{item.id}/status",
                       data={"status": "weg"}).status_code == 400


def test_feedback_list_is_for_admins_only(app, client, login):
    client.post("/barrierefreiheit/rueckmeldung", data=GOOD)
    item = db.session.execute(select(AccessibilityFeedback)).scalar_one()
    login(f.staff("coordinator", email="koordination@zdmv.example"))
    assert client.get("/admin/feedback").status_code in (403, 404)
    assert client.post(f"/admin/feedback/{item.id}/status",
                       data={"status": "answered"}).status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(AccessibilityFeedback, item.id).status == "open"
