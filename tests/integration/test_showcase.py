"""The public showcase: what is public, search, filters, pagination, htmx."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from innolab.extensions import db
from innolab.models import Attachment, Review, TimelineEntry
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


HX = {"HX-Request": "true", "HX-Target": "results"}
SECRET_PROBLEM = "Geheimes Problem der Verwaltung XYZ"
SECRET_SOLUTION = "Vertrauliche Lösungsidee QRS"
SECRET_EMAIL = "geheim-kontakt@example.org"


def public_pilot(status="running", **kw):
    kw.setdefault("publication_consent", True)
    kw.setdefault("published_at", utcnow())
    if status in ("running", "completed"):
        kw.setdefault("pilot_start_date", date(2026, 3, 1))
    return f.proposal(status=status, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- home


def test_home_shows_what_the_innolab_is_and_how_to_take_part(client):
    body = text(client.get("/"))
    assert "Zentrums für Digitalisierung Mecklenburg-Vorpommern" in body
    assert "Dezernat Individualentwicklung" in body
    for step in ("Registrieren:", "Organisation anlegen:", "Vorschlag einreichen:",
                 "Pilot durchführen:"):
        assert step in body
    assert 'href="/register"' in body


def test_home_lists_open_challenges_and_public_pilots_only(client):
    open_c = f.challenge(title="Offene Herausforderung Alpha")
    f.challenge(title="Entwurf Beta", status="draft")
    f.challenge(title="Abgelaufen Gamma", deadline=date.today() - timedelta(days=1))
    public_pilot(title="Öffentlicher Pilot Delta")
    f.proposal(status="running", title="Unveröffentlichter Pilot Epsilon")
    body = text(client.get("/"))
    assert open_c.title in body
    assert "Öffentlicher Pilot Delta" in body
    assert "Entwurf Beta" not in body
    assert "Abgelaufen Gamma" not in body
    assert "Unveröffentlichter Pilot Epsilon" not in body


def test_home_offers_proposal_to_signed_in_user(client, login):
    login(f.user())
    body = text(client.get("/"))
    assert "Pilotvorschlag einreichen" in body


# ---------------------------------------------------------------- challenges


def test_challenges_lists_published_and_closed_never_drafts(client):
    f.challenge(title="Veröffentlicht Eins")
    f.challenge(title="Geschlossen Zwei", status="closed")
    f.challenge(title="Entwurf Drei", status="draft")
    body = text(client.get("/challenges"))
    assert "Veröffentlicht Eins" in body
    assert "Geschlossen Zwei" in body
    assert "Entwurf Drei" not in body
    assert "2 Ergebnisse" in body


def test_challenge_draft_is_404_for_everyone(client, login):
    c = f.challenge(status="draft")
    assert client.get(f"/challenges/{c.id}").status_code == 404
    login(f.staff("coordinator"))
    assert client.get(f"/challenges/{c.id}").status_code == 404


def test_challenge_unknown_id_is_404(client):
    assert client.get("/challenges/999999").status_code == 404
    assert client.get("/challenges/abc").status_code == 404


def test_challenge_detail_shows_description_as_markdown_and_proposal_button(client):
    t = f.topic(name_de="Künstliche Intelligenz")
    c = f.challenge(title="Chatbot für Bürgeranfragen", topics=[t])
    c.description = "Wir brauchen eine **bessere** Lösung.\n\n<script>alert(1)</script>"
    db.session.commit()
    body = text(client.get(f"/challenges/{c.id}"))
    assert "<strong>bessere</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert c.authority.name in body
    assert "Künstliche Intelligenz" in body
    assert "Vorschlag zu dieser Herausforderung einreichen" in body
    assert f"challenge={c.id}" in body


@pytest.mark.parametrize("kw", [dict(status="closed"),
                                dict(deadline=date.today() - timedelta(days=1))])
def test_challenge_closed_or_past_deadline_offers_no_proposal_button(client, kw):
    c = f.challenge(**kw)
    body = text(client.get(f"/challenges/{c.id}"))
    assert "Vorschlag zu dieser Herausforderung einreichen" not in body
    assert "Diese Herausforderung ist geschlossen." in body


def test_challenge_deadline_today_is_still_open(client):
    c = f.challenge(deadline=date.today())
    body = text(client.get(f"/challenges/{c.id}"))
    assert "Vorschlag zu dieser Herausforderung einreichen" in body


def test_challenge_detail_lists_only_public_pilots_that_answered_it(client):
    c = f.challenge()
    public_pilot(title="Antwort öffentlich", challenge_=c)
    f.proposal(status="in_review", title="Antwort in Begutachtung", challenge_=c)
    f.proposal(status="rejected", title="Antwort abgelehnt", challenge_=c,
               published_at=utcnow())
    public_pilot(title="Pilot zu anderer Herausforderung", challenge_=f.challenge())
    body = text(client.get(f"/challenges/{c.id}"))
    assert "Antwort öffentlich" in body
    assert "Antwort in Begutachtung" not in body
    assert "Antwort abgelehnt" not in body
    assert "Pilot zu anderer Herausforderung" not in body


def test_challenges_search_matches_title_and_summary(client):
    f.challenge(title="Digitale Akte für Bauämter")
    c2 = f.challenge(title="Etwas anderes")
    c2.summary = "Es geht um die digitale Akte im Archiv."
    f.challenge(title="Fischereiaufsicht")
    db.session.commit()
    body = text(client.get("/challenges?q=akte"))
    assert "Digitale Akte für Bauämter" in body
    assert "Etwas anderes" in body
    assert "Fischereiaufsicht" not in body
    assert "2 Ergebnisse" in body


def test_challenges_search_treats_wildcards_literally(client):
    f.challenge(title="Hundert Prozent")
    assert "Keine Herausforderungen gefunden." in text(client.get("/challenges?q=%25"))


def test_challenges_filter_open_and_closed(client):
    f.challenge(title="Offen A")
    f.challenge(title="Geschlossen B", status="closed")
    f.challenge(title="Abgelaufen C", deadline=date.today() - timedelta(days=3))
    body = text(client.get("/challenges?status=open"))
    assert "Offen A" in body and "Geschlossen B" not in body and "Abgelaufen C" not in body
    body = text(client.get("/challenges?status=closed"))
    assert "Offen A" not in body and "Geschlossen B" in body and "Abgelaufen C" in body


def test_challenges_filter_topic_and_authority(client):
    t1, t2 = f.topic(), f.topic()
    a1, a2 = f.authority(), f.authority()
    f.challenge(title="Mit T1 und A1", topics=[t1], authority_=a1)
    f.challenge(title="Mit T2 und A2", topics=[t2], authority_=a2)
    f.challenge(title="Mit T1 und A2", topics=[t1], authority_=a2)
    body = text(client.get(f"/challenges?topic={t1.slug}"))
    assert "Mit T1 und A1" in body and "Mit T1 und A2" in body and "Mit T2 und A2" not in body
    body = text(client.get(f"/challenges?authority={a2.id}"))
    assert "Mit T1 und A1" not in body and "Mit T1 und A2" in body and "Mit T2 und A2" in body
    body = text(client.get(f"/challenges?topic={t1.slug}&authority={a2.id}"))
    assert "1 Ergebnis" in body and "Mit T1 und A2" in body


@pytest.mark.parametrize("query", ["status=gibtesnicht", "authority=abc", "authority=99999",
                                   "topic=%3Cscript%3E", "page=-3", "page=abc", "page=9999",
                                   "q=" + "x" * 500])
def test_challenges_bad_filter_values_never_fail(client, query):
    f.challenge(title="Immer noch da")
    response = client.get("/challenges?" + query)
    assert response.status_code == 200
    assert "<script>" not in text(response)


def test_challenges_paginate_ten_per_page(client):
    for i in range(12):
        f.challenge(title=f"Seitentest {i:02d}")
    first = text(client.get("/challenges"))
    second = text(client.get("/challenges?page=2"))
    assert first.count("Seitentest") == 10
    assert second.count("Seitentest") == 2
    assert "12 Ergebnisse" in first
    assert "Seite 1 von 2" in first
    assert "Nächste Seite" in first


def test_challenges_pagination_links_keep_the_filters(client):
    t = f.topic()
    for i in range(11):
        f.challenge(title=f"Gefiltert {i}", topics=[t])
    body = text(client.get(f"/challenges?topic={t.slug}&status=open"))
    assert "page=2" in body
    assert f"topic={t.slug}" in body.split("Nächste Seite")[0].rsplit("href=", 1)[1]


def test_challenges_htmx_returns_only_the_results_block(client):
    f.challenge(title="Im Block")
    response = client.get("/challenges?q=Block", headers=HX)
    body = text(response)
    assert response.status_code == 200
    assert "Im Block" in body
    assert "<html" not in body and "<h1" not in body and "<form" not in body
    assert 'id="result-count"' in body and 'hx-swap-oob="innerHTML"' in body
    assert "1 Ergebnis" in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_challenges_full_page_has_form_live_region_and_vary(client):
    response = client.get("/challenges")
    body = text(response)
    assert "HX-Request" in response.headers.get("Vary", "")
    assert 'method="get"' in body and 'hx-get="/challenges"' in body
    assert 'hx-target="#results"' in body and 'hx-push-url="true"' in body
    assert "keyup changed delay" in body and "change" in body
    assert 'aria-live="polite"' in body and 'id="result-count"' in body
    assert "hx-swap-oob" not in body


def test_challenges_htmx_history_restore_gets_the_whole_page(client):
    headers = dict(HX, **{"HX-History-Restore-Request": "true"})
    body = text(client.get("/challenges", headers=headers))
    assert "<html" in body and "<h1" in body


# ---------------------------------------------------------------- pilots: visibility


@pytest.mark.parametrize("status", ["approved", "running", "completed"])
def test_pilot_public_in_approved_running_completed(client, status):
    p = public_pilot(status=status, title=f"Sichtbar {status}")
    assert client.get(f"/pilots/{p.id}").status_code == 200
    assert f"Sichtbar {status}" in text(client.get("/pilots"))


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "changes_requested",
                                    "rejected", "withdrawn", "cancelled"])
def test_pilot_hidden_in_every_other_status_even_if_published(client, status):
    p = f.proposal(status=status, title=f"Versteckt {status}", publication_consent=True,
                   published_at=utcnow())
    assert client.get(f"/pilots/{p.id}").status_code == 404
    assert f"Versteckt {status}" not in text(client.get("/pilots"))
    assert f"Versteckt {status}" not in text(client.get(f"/organisations/{p.organisation.slug}"))
    assert f"Versteckt {status}" not in text(client.get("/"))


def test_pilot_hidden_without_consent(client):
    p = f.proposal(status="running", publication_consent=False, published_at=utcnow(),
                   title="Ohne Zustimmung")
    assert client.get(f"/pilots/{p.id}").status_code == 404
    assert "Ohne Zustimmung" not in text(client.get("/pilots"))


def test_pilot_hidden_until_published(client):
    p = f.proposal(status="running", publication_consent=True, title="Nicht freigegeben")
    assert client.get(f"/pilots/{p.id}").status_code == 404
    assert "Nicht freigegeben" not in text(client.get("/pilots"))


def test_pilot_hidden_for_signed_in_members_and_staff_too(client, login):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="approved")
    for user in (owner, f.staff("coordinator"), f.staff("admin")):
        login(user)
        response = client.get(f"/pilots/{p.id}")
        assert response.status_code == 404
        assert p.title not in response.text


def test_pilot_unknown_id_is_404(client):
    assert client.get("/pilots/424242").status_code == 404


def test_pilot_page_shows_public_fields_only(client, app):
    org = f.organisation(owner=f.user(email="inhaberin@example.org"), name="Muster Labs GmbH")
    t = f.topic(name_de="Verwaltungsdigitalisierung")
    c = f.challenge(title="Bedarf der Behörde")
    p = public_pilot(org=org, challenge_=c, title="Öffentlicher Chatbot",
                     public_summary="Ein Chatbot für **alle**.", problem=SECRET_PROBLEM,
                     solution=SECRET_SOLUTION, contact_email=SECRET_EMAIL,
                     contact_name="Geheime Ansprechperson", contact_phone="0385 999999",
                     benefit="Interner Nutzen Text", security_notes="Geheime Sicherheitsnotiz",
                     hosting_location="Geheimes Rechenzentrum", cost_estimate=123456,
                     decision_rationale="Interne Begründung des Entscheiders")
    p.topics.append(t)
    reviewer = f.staff("reviewer", name="Gutachterin Geheim")
    db.session.add(Review(proposal=p, reviewer=reviewer, comment="Interner Gutachtenkommentar",
                          innovation=5, submitted_at=utcnow()))
    db.session.add(Attachment(proposal=p, filename="interner-anhang.pdf", stored_name="x" * 32,
                              content_type="application/pdf", size=10, internal=True))
    db.session.add(Attachment(proposal=p, filename="partner-anhang.pdf", stored_name="y" * 32,
                              content_type="application/pdf", size=10))
    db.session.add(TimelineEntry(proposal=p, action="note", message="Interner Vermerk",
                                 internal=True))
    db.session.commit()

    body = text(client.get(f"/pilots/{p.id}"))
    assert "Öffentlicher Chatbot" in body
    assert "<strong>alle</strong>" in body
    assert "Muster Labs GmbH" in body and f'href="/organisations/{org.slug}"' in body
    assert c.authority.name in body
    assert "Bedarf der Behörde" in body
    assert "Verwaltungsdigitalisierung" in body
    assert "Pilot läuft" in body
    for secret in (SECRET_PROBLEM, SECRET_SOLUTION, SECRET_EMAIL, "Geheime Ansprechperson",
                   "0385 999999", "Interner Nutzen Text", "Geheime Sicherheitsnotiz",
                   "Geheimes Rechenzentrum", "123456", "Interne Begründung",
                   "Gutachterin Geheim", "Interner Gutachtenkommentar", "interner-anhang.pdf",
                   "partner-anhang.pdf", "Interner Vermerk", "inhaberin@example.org",
                   p.reference):
        assert secret not in body, secret


def test_pilot_lists_show_no_private_fields(client):
    public_pilot(problem=SECRET_PROBLEM, contact_email=SECRET_EMAIL, solution=SECRET_SOLUTION)
    for url in ("/", "/pilots"):
        body = text(client.get(url))
        assert SECRET_PROBLEM not in body and SECRET_EMAIL not in body
        assert SECRET_SOLUTION not in body


def test_pilot_of_draft_challenge_does_not_reveal_the_challenge(client):
    c = f.challenge(title="Noch geheimer Entwurf", status="draft")
    p = public_pilot(challenge_=c)
    body = text(client.get(f"/pilots/{p.id}"))
    assert "Noch geheimer Entwurf" not in body
    assert c.authority.name not in body


# ---------------------------------------------------------------- pilots: search and filters


def test_pilots_search_and_status_filter(client):
    public_pilot(status="approved", title="Drohnen für die Forstverwaltung")
    public_pilot(status="completed", title="Digitale Posteingangsstelle",
                 public_summary="Scannen mit Drohnen? Nein.")
    public_pilot(status="running", title="Sprachassistent")
    body = text(client.get("/pilots?q=drohnen"))
    assert "Drohnen für die Forstverwaltung" in body and "Digitale Posteingangsstelle" in body
    assert "Sprachassistent" not in body
    body = text(client.get("/pilots?status=completed"))
    assert "Digitale Posteingangsstelle" in body and "Sprachassistent" not in body
    assert "1 Ergebnis" in body


def test_pilots_status_filter_cannot_reach_hidden_states(client):
    f.proposal(status="rejected", title="Abgelehnt Geheim", published_at=utcnow())
    body = text(client.get("/pilots?status=rejected"))
    assert "Abgelehnt Geheim" not in body


def test_pilots_filter_topic_and_authority(client):
    t = f.topic()
    a = f.authority()
    p1 = public_pilot(title="Mit Thema", challenge_=f.challenge(authority_=a))
    p1.topics.append(t)
    db.session.commit()
    public_pilot(title="Ohne Thema")
    body = text(client.get(f"/pilots?topic={t.slug}"))
    assert "Mit Thema" in body and "Ohne Thema" not in body
    body = text(client.get(f"/pilots?authority={a.id}"))
    assert "Mit Thema" in body and "Ohne Thema" not in body
    assert a.name in text(client.get("/pilots"))  # offered as a filter choice


def test_pilots_paginate_and_htmx_block(client):
    for i in range(11):
        public_pilot(title=f"Piloten-Seite {i:02d}")
    assert text(client.get("/pilots")).count("Piloten-Seite") == 10
    response = client.get("/pilots?page=2", headers=HX)
    body = text(response)
    assert body.count("Piloten-Seite") == 1
    assert "<html" not in body and "11 Ergebnisse" in body
    assert "HX-Request" in response.headers.get("Vary", "")


# ---------------------------------------------------------------- organisations


def test_organisation_profile_shows_profile_and_public_pilots_only(client):
    owner = f.user(email="owner-privat@example.org", name="Olga Owner")
    member = f.user(email="member-privat@example.org", name="Max Member")
    org = f.organisation(owner=owner, members=[member], name="Profil GmbH")
    org.description = "Wir bauen *gute* Software."
    db.session.commit()
    public_pilot(org=org, title="Öffentlicher Profilpilot")
    f.proposal(org=org, status="in_review", title="Interner Profilvorschlag")
    f.proposal(org=org, status="rejected", title="Abgelehnter Profilvorschlag")
    body = text(client.get(f"/organisations/{org.slug}"))
    assert "Profil GmbH" in body and "Schwerin" in body and "https://example.org" in body
    assert "<em>gute</em>" in body
    assert "Start-up" in body
    assert "Öffentlicher Profilpilot" in body
    assert "Interner Profilvorschlag" not in body and "Abgelehnter Profilvorschlag" not in body
    for private in ("owner-privat@example.org", "member-privat@example.org", "Olga Owner",
                    "Max Member"):
        assert private not in body


def test_organisation_without_public_pilots_shows_profile(client):
    org = f.organisation(name="Neue Organisation e. V.", kind="association")
    body = text(client.get(f"/organisations/{org.slug}"))
    assert "Neue Organisation e. V." in body
    assert "noch keine Piloten veröffentlicht" in body


def test_organisation_unknown_slug_is_404(client):
    assert client.get("/organisations/gibt-es-nicht").status_code == 404


def test_organisation_website_other_than_http_is_not_linked(client):
    org = f.organisation()
    org.website = "javascript:alert(1)"
    db.session.commit()
    assert "javascript:" not in text(client.get(f"/organisations/{org.slug}"))


def test_search_ignores_case_of_umlauts(app_ctx, client):
    f.challenge(title="Öffentliche Ladesäulen im ländlichen Raum")
    body = client.get("/challenges?q=öffentliche").get_data(as_text=True)
    assert "Öffentliche Ladesäulen im ländlichen Raum" in body


@pytest.mark.parametrize("typed", ["STRASSENBLICK", "straßenblick", "StraßenBlick", "STRAẞENBLICK"])
def test_search_finds_sharp_s_however_it_is_written(app_ctx, client, typed):
    public_pilot(title="StraßenBlick: Schäden im Straßenbelag melden")
    f.challenge(title="Strassenschäden schneller erkennen")
    pilots = text(client.get(f"/pilots?q={typed}"))
    assert "StraßenBlick: Schäden im Straßenbelag melden" in pilots
    api = client.get(f"/api/v1/pilots?q={typed}").get_json()
    assert [p["title"] for p in api["items"]] == ["StraßenBlick: Schäden im Straßenbelag melden"]
    # and the other way round: "Straßen…" finds what is written with ss
    assert "Strassenschäden schneller erkennen" in text(client.get("/challenges?q=Straßensch"))
