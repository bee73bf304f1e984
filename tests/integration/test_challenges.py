"""Coordinators write, publish and close challenges; nobody else may."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from innolab.domain import workflow
from innolab.extensions import db
from innolab.models import AuditEvent, Challenge
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

OTHER_STAFF = ("admin", "reviewer", "decider", "dpo", "iso")

YES = {"confirmed": "1"}  # the irreversible step confirmed (web/confirm.py)


@pytest.fixture
def coordinator(login):
    user = f.staff("coordinator")
    login(user)
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


def audit(action):
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def valid(authority, topics=(), **kw):
    data = {"title": "Digitale Fischereiaufsicht",
            "summary": "Kontrollen auf dem Wasser digital erfassen.",
            "description": "Die Behörde braucht eine **mobile** Lösung.",
            "authority": str(authority.id),
            "topics": [str(t.id) for t in topics],
            "deadline": (date.today() + timedelta(days=60)).isoformat()}
    data.update(kw)
    return data


# ---------------------------------------------------------------- refusals


def test_challenges_visitor_is_sent_to_login(client):
    response = client.get("/staff/challenges/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    c = f.challenge(status="draft")
    response = client.post(f"/staff/challenges/{c.id}/publish", data=YES)
    assert response.status_code == 302
    db.session.refresh(c)
    assert c.status == "draft"


@pytest.mark.parametrize("who", ("partner",) + OTHER_STAFF)
def test_challenges_refused_for_everyone_but_coordinators(client, login, who):
    user = f.user() if who == "partner" else f.staff(who)
    if who == "partner":
        f.organisation(owner=user)
    login(user)
    draft = f.challenge(status="draft", title="Entwurf bleibt")
    published = f.challenge(title="Bleibt offen")
    authority = f.authority()
    assert client.get("/staff/challenges/").status_code == 403
    assert client.get("/staff/challenges/new").status_code == 403
    assert client.post("/staff/challenges/new", data=valid(authority)).status_code == 403
    assert client.get(f"/staff/challenges/{draft.id}/edit").status_code == 403
    assert client.post(f"/staff/challenges/{draft.id}/edit",
                       data=valid(authority, title="Gehackt")).status_code == 403
    assert client.post(f"/staff/challenges/{draft.id}/publish", data=YES).status_code == 403
    assert client.post(f"/staff/challenges/{published.id}/close", data=YES).status_code == 403
    db.session.expire_all()
    assert db.session.get(Challenge, draft.id).status == "draft"
    assert db.session.get(Challenge, draft.id).title == "Entwurf bleibt"
    assert db.session.get(Challenge, published.id).status == "published"
    created = select(Challenge).where(Challenge.title == "Digitale Fischereiaufsicht")
    assert db.session.scalar(created) is None


def test_challenges_nav_link_only_for_coordinators(client, login):
    login(f.staff("reviewer"))
    assert "/staff/challenges/" not in text(client.get("/"))
    login(f.staff("coordinator"))
    assert "/staff/challenges/" in text(client.get("/"))


# ---------------------------------------------------------------- index


def test_index_lists_all_challenges_with_status_deadline_and_proposal_count(client, coordinator):
    draft = f.challenge(status="draft", title="Noch ein Entwurf")
    pub = f.challenge(title="Veröffentlichte Herausforderung", deadline=date(2030, 5, 17))
    closed = f.challenge(status="closed", title="Geschlossene Herausforderung")
    f.proposal(challenge_=pub, status="submitted")
    f.proposal(challenge_=pub, status="in_review")
    f.proposal(challenge_=pub, status="draft")  # a partner's draft is not counted
    body = text(client.get("/staff/challenges/"))
    for c in (draft, pub, closed):
        assert c.title in body
    assert "Entwurf" in body and "Veröffentlicht" in body and "Geschlossen" in body
    assert "17.05.2030" in body
    row = body.split("Veröffentlichte Herausforderung")[1].split("</tr>")[0]
    assert 'kern-table__cell--numeric">2<' in row
    assert "<caption" in body and 'scope="col"' in body


# ---------------------------------------------------------------- create and edit


def test_new_creates_a_draft_with_topics_and_audit(client, coordinator):
    a = f.authority()
    t1, _t2 = f.topic(), f.topic()
    response = client.post("/staff/challenges/new", data=valid(a, topics=[t1]))
    assert response.status_code == 303
    c = db.session.scalar(select(Challenge).where(Challenge.title == "Digitale Fischereiaufsicht"))
    assert c.status == "draft" and c.published_at is None
    assert c.authority_id == a.id and [t.id for t in c.topics] == [t1.id]
    assert c.created_by_id == coordinator.id
    assert audit("challenge.create")[0].object_id == c.id
    # not public yet
    assert client.get(f"/challenges/{c.id}").status_code == 404


def test_new_form_shows_fields_with_labels(client, coordinator):
    f.authority(name="Ministerium für Inneres")
    f.topic(name_de="Sicherheit")
    body = text(client.get("/staff/challenges/new"))
    for label in ("Titel", "Kurzbeschreibung", "Beschreibung", "Behörde", "Themen", "Frist"):
        assert f">{label}" in body
    assert "Ministerium für Inneres" in body and "Sicherheit" in body
    assert 'novalidate' in body and 'type="date"' in body and 'type="checkbox"' in body


@pytest.mark.parametrize("change, message", [
    ({"title": ""}, "Bitte geben Sie einen Titel ein."),
    ({"summary": ""}, "Bitte geben Sie eine Kurzbeschreibung ein."),
    ({"description": "   "}, "Bitte beschreiben Sie die Herausforderung."),
    ({"authority": ""}, "Bitte wählen Sie eine Behörde."),
    ({"deadline": ""}, "Bitte geben Sie eine Frist"),
    ({"title": "x" * 201}, "Höchstens 200 Zeichen."),
])
def test_new_bad_input_keeps_values_and_answers_422(client, coordinator, change, message):
    a = f.authority()
    data = valid(a, summary="Mein getippter Text bleibt stehen")
    data.update(change)
    response = client.post("/staff/challenges/new", data=data)
    body = text(response)
    assert response.status_code == 422
    assert message in body
    assert "Bitte prüfen Sie Ihre Eingaben" in body
    assert "Mein getippter Text bleibt stehen" in body or change.get("summary") == ""
    assert db.session.scalar(select(Challenge)) is None


@pytest.mark.parametrize("field, value", [("authority", "999999"), ("authority", "abc"),
                                          ("deadline", "31.02.2026"), ("deadline", "morgen"),
                                          ("topics", "abc"), ("topics", "999999")])
def test_new_tampered_values_are_form_errors_not_500(client, coordinator, field, value):
    data = valid(f.authority())
    data[field] = value
    response = client.post("/staff/challenges/new", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(Challenge)) is None


def test_edit_shows_current_values_and_saves_changes(client, coordinator):
    t1, t2 = f.topic(name_de="Alpha"), f.topic(name_de="Beta")
    c = f.challenge(status="draft", topics=[t1], title="Alter Titel")
    body = text(client.get(f"/staff/challenges/{c.id}/edit"))
    assert 'value="Alter Titel"' in body
    checkbox = 'class="kern-form-check__checkbox" id="topics-{}" name="topics" type="checkbox"'
    assert f'checked {checkbox.format(0)} value="{t1.id}"' in body
    assert f'<input {checkbox.format(1)} value="{t2.id}"' in body
    data = valid(c.authority, topics=[t2], title="Neuer Titel")
    response = client.post(f"/staff/challenges/{c.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    c = db.session.get(Challenge, c.id)
    assert c.title == "Neuer Titel" and [t.id for t in c.topics] == [t2.id]
    event = audit("challenge.update")[0]
    assert "title" in event.details["fields"] and "topics" in event.details["fields"]


def test_edit_published_challenge_refuses_past_deadline(client, coordinator):
    c = f.challenge()
    data = valid(c.authority, deadline=(date.today() - timedelta(days=1)).isoformat())
    response = client.post(f"/staff/challenges/{c.id}/edit", data=data)
    assert response.status_code == 422
    assert "Die Frist darf nicht in der Vergangenheit liegen." in text(response)
    db.session.expire_all()
    assert db.session.get(Challenge, c.id).deadline >= date.today()


def test_edit_unknown_challenge_is_404(client, coordinator):
    assert client.get("/staff/challenges/999999/edit").status_code == 404
    assert client.post("/staff/challenges/999999/publish").status_code == 404
    assert client.post("/staff/challenges/999999/close").status_code == 404


# ---------------------------------------------------------------- publish and close


def test_publish_makes_the_draft_public(client, coordinator):
    c = f.challenge(status="draft", title="Bald öffentlich")
    response = client.post(f"/staff/challenges/{c.id}/publish", data=YES)
    assert response.status_code == 303
    db.session.expire_all()
    c = db.session.get(Challenge, c.id)
    assert c.status == "published" and c.published_at is not None
    assert audit("challenge.publish")[0].actor_id == coordinator.id
    assert "ist veröffentlicht" in text(client.get("/staff/challenges/"))
    assert "Bald öffentlich" in text(client.get("/challenges"))


def test_publish_refused_with_past_deadline(client, coordinator):
    c = f.challenge(status="draft", deadline=date.today() - timedelta(days=1))
    response = client.post(f"/staff/challenges/{c.id}/publish", data=YES, follow_redirects=True)
    assert "Die Frist liegt in der Vergangenheit" in text(response)
    db.session.expire_all()
    assert db.session.get(Challenge, c.id).status == "draft"
    assert audit("challenge.publish") == []


def test_publish_refused_when_already_published(client, coordinator):
    c = f.challenge()
    response = client.post(f"/staff/challenges/{c.id}/publish", data=YES, follow_redirects=True)
    assert "Nur Entwürfe können veröffentlicht werden." in text(response)


def test_close_stops_new_proposals(client, coordinator):
    c = f.challenge(title="Wird geschlossen")
    member = f.user()
    p = f.proposal(org=f.organisation(owner=member), challenge_=c)
    assert workflow.check(p, "submit", member) is None
    response = client.post(f"/staff/challenges/{c.id}/close", data=YES)
    assert response.status_code == 303
    db.session.expire_all()
    c = db.session.get(Challenge, c.id)
    assert c.status == "closed" and c.closed_at is not None
    assert audit("challenge.close")[0].object_id == c.id
    p = db.session.get(type(p), p.id)
    assert workflow.check(p, "submit", member) is not None
    body = text(client.get(f"/challenges/{c.id}"))
    assert "Vorschlag zu dieser Herausforderung einreichen" not in body


def test_close_refused_for_draft(client, coordinator):
    c = f.challenge(status="draft")
    response = client.post(f"/staff/challenges/{c.id}/close", data=YES, follow_redirects=True)
    assert "Nur veröffentlichte Herausforderungen können geschlossen werden." in text(response)
    db.session.expire_all()
    assert db.session.get(Challenge, c.id).status == "draft"


def test_publish_via_htmx_answers_with_hx_redirect(client, coordinator):
    c = f.challenge(status="draft")
    response = client.post(f"/staff/challenges/{c.id}/publish", data=YES,
                           headers={"HX-Request": "true"})
    assert response.headers.get("HX-Redirect") == "/staff/challenges/"


def test_publish_only_by_post(client, coordinator):
    c = f.challenge(status="draft")
    response = client.get(f"/staff/challenges/{c.id}/publish")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/challenges/"
    db.session.refresh(c)
    assert c.status == "draft"
