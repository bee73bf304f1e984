"""A partner withdraws (and gives again) the consent to publishing a pilot or its results."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, Notification, Proposal
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

TITLE = "Digitale Wohngeldakte Nordwest"
A = "{http://www.w3.org/2005/Atom}"
WITHDRAW = {"intent": "withdraw"}

YES = {"confirmed": "1"}  # the irreversible step confirmed (web/confirm.py)


@pytest.fixture
def world(client, login, new_client):
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner, name="Akte Nord GmbH")
    coordinator = f.staff("coordinator", name="Cora Koordination")
    p = f.proposal(org=org, status="running", title=TITLE, publication_consent=True,
                   published_at=utcnow())
    return {"owner": owner, "coordinator": coordinator, "p": p,
            "partner": login(owner), "staff": login(coordinator, new_client())}


def _reload(p) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _visible_everywhere(client, p) -> dict[str, bool]:
    feed = ET.fromstring(client.get("/feeds/pilots.atom").get_data())
    return {
        "page": client.get(f"/pilots/{p.id}").status_code == 200,
        "list": TITLE in client.get("/pilots").get_data(as_text=True),
        "api": client.get(f"/api/v1/pilots/{p.id}").status_code == 200,
        "api_list": any(i["title"] == TITLE
                        for i in client.get("/api/v1/pilots").get_json()["items"]),
        "feed": any(e.findtext(f"{A}title") == TITLE for e in feed.findall(f"{A}entry")),
    }


def test_withdrawal_takes_the_pilot_out_of_page_api_and_feeds_at_once(world, new_client):
    visitor, p = new_client(), world["p"]
    assert all(_visible_everywhere(visitor, p).values())
    etag = visitor.get("/api/v1/pilots").headers["ETag"]

    page = world["partner"].get(f"/proposals/{p.id}/consent/pilot")
    assert page.status_code == 200 and "Zustimmung zur Veröffentlichung widerrufen" in \
        page.get_data(as_text=True)
    response = world["partner"].post(f"/proposals/{p.id}/consent/pilot", data=WITHDRAW)
    assert response.status_code == 303

    assert not any(_visible_everywhere(visitor, p).values())
    # a cache that kept the list asks again and gets the new one, not a 304
    again = visitor.get("/api/v1/pilots", headers={"If-None-Match": etag})
    assert again.status_code == 200 and TITLE not in again.get_data(as_text=True)
    p = _reload(p)
    assert p.publication_consent is False and p.published_at is None
    assert p.timeline[-1].action == "pilot_consent_withdrawn" and not p.timeline[-1].internal
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "consent.withdraw")).scalar_one()
    assert event.details["what"] == "pilot" and event.details["was_public"] is True


def test_the_coordinator_is_told_at_once_by_notification_and_mail(world, outbox):
    p = world["p"]
    world["partner"].post(f"/proposals/{p.id}/consent/pilot", data=WITHDRAW)
    (note,) = db.session.execute(select(Notification).where(
        Notification.user_id == world["coordinator"].id)).scalars().all()
    assert note.kind == "consent_withdrawn"
    mails = outbox(world["coordinator"].email)
    assert len(mails) == 1 and "Zustimmung zur Veröffentlichung widerrufen" in mails[0].subject
    assert not outbox(world["owner"].email)


def test_republication_needs_new_consent_then_a_coordinator(world, new_client):
    p = world["p"]
    world["partner"].post(f"/proposals/{p.id}/consent/pilot", data=WITHDRAW)
    refused = world["staff"].post(f"/staff/review/proposals/{p.id}/publish", data=YES)
    assert refused.status_code == 403
    assert "nicht zugestimmt" in refused.get_data(as_text=True)

    world["partner"].post(f"/proposals/{p.id}/consent/pilot", data={"intent": "give"})
    p = _reload(p)
    assert p.publication_consent is True and p.published_at is None  # nothing published yet
    assert new_client().get(f"/pilots/{p.id}").status_code == 404
    kinds = [n.kind for n in db.session.execute(select(Notification).where(
        Notification.user_id == world["coordinator"].id).order_by(Notification.id)).scalars()]
    assert kinds == ["consent_withdrawn", "consent_given"]

    published = world["staff"].post(f"/staff/review/proposals/{p.id}/publish", data=YES)
    assert published.status_code == 303
    assert new_client().get(f"/pilots/{p.id}").status_code == 200


def test_withdrawing_the_results_consent_leaves_the_pilot_public(world, new_client):
    p = world["p"]
    report = f.results_report(p, status="accepted")
    report.published_at = utcnow()
    db.session.commit()
    visitor = new_client()
    assert "Die Bearbeitungszeit wurde halbiert." in visitor.get(f"/pilots/{p.id}").get_data(
        as_text=True)
    response = world["partner"].post(f"/proposals/{p.id}/consent/results", data=WITHDRAW)
    assert response.status_code == 303
    page = visitor.get(f"/pilots/{p.id}")
    assert page.status_code == 200
    assert "Die Bearbeitungszeit wurde halbiert." not in page.get_data(as_text=True)
    assert visitor.get(f"/api/v1/pilots/{p.id}").get_json()["results"] is None
    p = _reload(p)
    assert p.results_report.publication_consent is False
    assert p.results_report.published_at is None and p.published_at is not None


def test_withdrawing_the_pilot_consent_takes_its_results_with_it(world, new_client):
    p = world["p"]
    report = f.results_report(p, status="accepted")
    report.published_at = utcnow()
    db.session.commit()
    world["partner"].post(f"/proposals/{p.id}/consent/pilot", data=WITHDRAW)
    visitor = new_client()
    assert visitor.get("/api/v1/results").get_json()["items"] == []
    assert _reload(p).results_report.published_at is None


def test_the_partner_page_shows_the_state_and_the_way_to_withdraw(world):
    html = world["partner"].get(f"/proposals/{world['p'].id}").get_data(as_text=True)
    assert "Veröffentlichung im Schaufenster" in html
    assert f'href="/proposals/{world["p"].id}/consent/pilot"' in html
    assert "Zustimmung widerrufen" in html


def test_only_members_may_change_it_and_not_while_they_edit(world, login, new_client):
    p = world["p"]
    stranger = login(f.user(name="Fremd Person"), new_client())
    assert stranger.post(f"/proposals/{p.id}/consent/pilot").status_code == 404
    assert world["staff"].get(f"/proposals/{p.id}/consent/pilot").status_code == 403
    draft = f.proposal(org=p.organisation, status="draft", publication_consent=True)
    refused = world["partner"].post(f"/proposals/{draft.id}/consent/pilot", data=WITHDRAW)
    assert refused.status_code == 403
    assert "im Formular" in refused.get_data(as_text=True)
    assert _reload(p).publication_consent is True and _reload(draft).publication_consent


def test_withdrawing_twice_says_so(world, new_client, login):
    p = world["p"]
    second_tab = login(world["owner"], new_client())
    form = second_tab.get(f"/proposals/{p.id}/consent/pilot")
    assert form.status_code == 200
    world["partner"].post(f"/proposals/{p.id}/consent/pilot", data=WITHDRAW)
    # the second tab still shows "withdraw"; sending it now gives consent back would be wrong
    response = second_tab.post(f"/proposals/{p.id}/consent/pilot",
                               data={"intent": "withdraw"})
    assert response.status_code == 303
    assert _reload(p).publication_consent is False
    assert "Die Zustimmung ist bereits widerrufen." in second_tab.get(
        f"/proposals/{p.id}").get_data(as_text=True)
