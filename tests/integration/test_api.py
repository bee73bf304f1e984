"""The open-data API: lists, details, filters, pagination, errors, CORS, and that nothing
private ever leaves it."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from innolab.extensions import db
from innolab.models import (
    GoalResult,
    Message,
    ResultsReport,
    Review,
    ReviewAssignment,
    TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

SECRET_PROBLEM = "Geheimes Problem der Verwaltung XYZ"
SECRET_EMAIL = "geheim-kontakt@example.org"
SECRET_PHONE = "0385 999 777 555"
SECRET_REVIEW = "Vertraulicher Gutachtenkommentar"
SECRET_NOTE = "Interne Notiz des Koordinators"
SECRET_RETURN = "Rückgabekommentar nur für den Partner"


def public_pilot(status="running", **kw):
    kw.setdefault("publication_consent", True)
    kw.setdefault("published_at", utcnow())
    if status in ("running", "completed"):
        kw.setdefault("pilot_start_date", date(2026, 3, 1))
    return f.proposal(status=status, **kw)


def results_of(p, published=True, consent=True, **kw):
    g = f.goal(p)
    report = ResultsReport(proposal=p, status="accepted",
                           summary=kw.pop("summary", "Es hat geklappt."),
                           what_worked="Schnelle Abstimmung", what_did_not_work="Schnittstellen",
                           lessons_learned="Früh testen",
                           recommendation=kw.pop("recommendation", "roll_out"),
                           reuse_requirements="Ein Fachverfahren mit REST-Schnittstelle",
                           publication_consent=consent, return_comment=SECRET_RETURN,
                           submitted_at=utcnow(), accepted_at=utcnow(),
                           published_at=utcnow() if published else None, **kw)
    report.goal_results.append(GoalResult(goal=g, value_reached="6 Tage", reached=True))
    db.session.add(report)
    db.session.commit()
    return report


def get(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
    return r


def body(client, url, status=200):
    r = get(client, url, status)
    assert r.mimetype in ("application/json", "application/problem+json")
    return r.get_json()


# ---------------------------------------------------------------- challenges


def test_challenges_lists_published_and_closed_never_drafts(client):
    topic = f.topic(slug="ki", name_de="Künstliche Intelligenz", name_en="Artificial intelligence")
    open_c = f.challenge(title="Offene Herausforderung Alpha", topics=[topic])
    closed = f.challenge(title="Geschlossene Herausforderung Beta", status="closed")
    f.challenge(title="Entwurf Gamma", status="draft")
    data = body(client, "/api/v1/challenges")
    assert [c["title"] for c in data["items"]] == [open_c.title, closed.title]
    assert data["total"] == 2 and data["page"] == 1 and data["pages"] == 1
    first = data["items"][0]
    assert first["status"] == "open"
    assert first["topics"] == [{"slug": "ki", "name_de": "Künstliche Intelligenz",
                                "name_en": "Artificial intelligence"}]
    assert first["authority"]["name"] == open_c.authority.name
    assert first["url"].endswith(f"/challenges/{open_c.id}")
    assert first["api_url"].endswith(f"/api/v1/challenges/{open_c.id}")
    assert first["deadline"] == open_c.deadline.isoformat()
    assert first["published_at"].endswith("Z")
    assert data["items"][1]["status"] == "closed"


def test_challenges_filter_by_status_topic_authority_and_search(client):
    topic = f.topic(slug="mobilitaet")
    a = f.authority(name="Landesamt für Straßenbau")
    match = f.challenge(title="Baustellen digital planen", topics=[topic], authority_=a)
    f.challenge(title="Anderes Thema")
    past = f.challenge(title="Abgelaufene Frist", deadline=date.today() - timedelta(days=1))
    def ids(url):
        return [c["id"] for c in body(client, url)["items"]]
    assert ids("/api/v1/challenges?topic=mobilitaet") == [match.id]
    assert ids(f"/api/v1/challenges?authority={a.id}") == [match.id]
    assert ids("/api/v1/challenges?q=baustellen") == [match.id]
    assert past.id in ids("/api/v1/challenges?status=closed")
    assert past.id not in ids("/api/v1/challenges?status=open")
    assert ids("/api/v1/challenges?topic=gibt-es-nicht") == []


def test_challenge_detail_with_its_public_pilots_only(client):
    c = f.challenge(title="Herausforderung mit Piloten")
    shown = public_pilot(challenge_=c, title="Sichtbarer Pilot")
    public_pilot(challenge_=c, title="Ohne Zustimmung", publication_consent=False)
    data = body(client, f"/api/v1/challenges/{c.id}")
    assert data["title"] == c.title
    assert data["description"] == c.description
    assert [p["id"] for p in data["pilots"]] == [shown.id]


def test_challenge_shows_its_review_criteria_in_both_languages(client):
    own = f.challenge(title="Mit eigenen Kriterien")
    f.criteria(own, ("Bürgernähe", 3, 10, 4), ("Reife", 1, 5))
    data = body(client, f"/api/v1/challenges/{own.id}")
    assert data["criteria"] == [
        {"name": "Bürgernähe", "name_en": "Bürgernähe (en)",
         "description": "Wie gut ist Bürgernähe?", "description_en": None,
         "weight": 3, "scale": 10, "minimum": 4},
        {"name": "Reife", "name_en": "Reife (en)", "description": "Wie gut ist Reife?",
         "description_en": None, "weight": 1, "scale": 5, "minimum": None},
    ]
    listed = body(client, "/api/v1/challenges")["items"]
    assert [x["criteria"] for x in listed if x["id"] == own.id] == [data["criteria"]]


def test_challenge_without_own_criteria_shows_the_default_five(client):
    c = f.challenge()
    data = body(client, f"/api/v1/challenges/{c.id}")
    names = [(k["name"], k["name_en"]) for k in data["criteria"]]
    assert len(names) == 5 and names[0] == ("Innovationsgrad", "Degree of innovation")
    assert all(k["weight"] == 1 and k["scale"] == 5 and k["minimum"] is None
               for k in data["criteria"])
    assert all(k["description"] and k["description_en"] and
               k["description"] != k["description_en"] for k in data["criteria"])


def test_challenge_detail_unknown_or_draft_is_json_404(client):
    draft = f.challenge(status="draft")
    for url in (f"/api/v1/challenges/{draft.id}", "/api/v1/challenges/999999",
                "/api/v1/challenges/abc", "/api/v1/challenges/0",
                "/api/v1/challenges/99999999999999999999"):
        r = get(client, url, 404)
        assert r.mimetype == "application/problem+json"
        assert r.get_json()["status"] == 404
        assert r.headers["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------- pilots


def test_pilots_lists_only_consented_and_published_pilots(client):
    shown = public_pilot(title="Öffentlicher Pilot")
    completed = public_pilot(status="completed", title="Abgeschlossener Pilot")
    public_pilot(title="Ohne Zustimmung", publication_consent=False)
    public_pilot(title="Nicht veröffentlicht", published_at=None)
    for status in ("draft", "submitted", "in_review", "changes_requested", "rejected",
                   "withdrawn", "cancelled"):
        public_pilot(status=status, title=f"Privat {status}")
    data = body(client, "/api/v1/pilots?per_page=100")
    assert {p["id"] for p in data["items"]} == {shown.id, completed.id}
    assert data["total"] == 2


def test_pilots_filter_by_status_topic_authority_and_search(client):
    topic = f.topic(slug="verkehr")
    a = f.authority()
    c = f.challenge(authority_=a)
    running = public_pilot(title="Chatbot für Anträge", challenge_=c)
    running.topics.append(topic)
    db.session.commit()
    completed = public_pilot(status="completed", title="Digitale Akte")
    def ids(url):
        return [p["id"] for p in body(client, url)["items"]]
    assert ids("/api/v1/pilots?status=completed") == [completed.id]
    assert ids("/api/v1/pilots?status=running") == [running.id]
    assert ids("/api/v1/pilots?topic=verkehr") == [running.id]
    assert ids(f"/api/v1/pilots?authority={a.id}") == [running.id]
    # Words, not a substring: both summaries name a chatbot, the title hit ranks first.
    assert ids("/api/v1/pilots?q=chatbot%20f%C3%BCr")[0] == running.id


def test_pilot_detail_has_public_fields_and_published_results(client):
    c = f.challenge(title="Die Herausforderung")
    p = public_pilot(challenge_=c, title="Pilot mit Ergebnissen")
    results_of(p)
    data = body(client, f"/api/v1/pilots/{p.id}")
    assert data["title"] == p.title
    assert data["summary"] == p.public_summary
    assert data["organisation"]["slug"] == p.organisation.slug
    assert data["challenge"]["id"] == c.id
    assert data["authority"]["id"] == c.authority_id
    assert data["pilot_start_date"] == "2026-03-01"
    assert data["results"]["recommendation"] == "roll_out"
    assert data["results"]["goals"][0]["value_reached"] == "6 Tage"
    assert data["results"]["goals"][0]["reached"] is True


def test_pilot_detail_hides_results_that_are_not_published(client):
    p = public_pilot()
    results_of(p, published=False)
    assert body(client, f"/api/v1/pilots/{p.id}")["results"] is None


@pytest.mark.parametrize("kw", [
    {"status": "draft"}, {"status": "rejected"}, {"status": "withdrawn"},
    {"status": "submitted"}, {"status": "cancelled"},
    {"publication_consent": False}, {"published_at": None},
])
def test_pilot_detail_of_a_private_proposal_is_404(client, kw):
    status = kw.pop("status", "running")
    p = public_pilot(status=status, **kw)
    assert body(client, f"/api/v1/pilots/{p.id}", 404)["title"] == "Not Found"


# ---------------------------------------------------------------- results


def test_results_lists_published_results_of_public_pilots_only(client):
    shown = results_of(public_pilot(title="Pilot A"), summary="Alles erreicht")
    results_of(public_pilot(title="Pilot B"), published=False)
    results_of(public_pilot(title="Pilot C"), consent=False)
    results_of(public_pilot(title="Pilot D", publication_consent=False))
    results_of(public_pilot(title="Pilot E", published_at=None))
    results_of(public_pilot(status="cancelled", title="Pilot F"))
    data = body(client, "/api/v1/results")
    assert [r["id"] for r in data["items"]] == [shown.id]
    item = data["items"][0]
    assert item["pilot"]["title"] == "Pilot A"
    assert item["summary"] == "Alles erreicht"
    assert item["organisation"]["slug"] == shown.proposal.organisation.slug
    assert item["url"].endswith(f"/pilots/{shown.proposal_id}")
    assert item["goals"] == [{"title": "Bearbeitungszeit je Antrag", "baseline": "14 Tage",
                              "target": "7 Tage", "measurement": "Auswertung des Fachverfahrens",
                              "value_reached": "6 Tage", "reached": True}]


def test_results_filter_by_recommendation_topic_authority_and_search(client):
    topic = f.topic(slug="bauen")
    a = f.authority()
    p1 = public_pilot(title="Bauantrag online", challenge_=f.challenge(authority_=a))
    p1.topics.append(topic)
    db.session.commit()
    r1 = results_of(p1, recommendation="extend")
    r2 = results_of(public_pilot(title="Anderer Pilot"), recommendation="stop")
    def ids(url):
        return [r["id"] for r in body(client, url)["items"]]
    assert ids("/api/v1/results?recommendation=extend") == [r1.id]
    assert ids("/api/v1/results?recommendation=stop") == [r2.id]
    assert ids("/api/v1/results?topic=bauen") == [r1.id]
    assert ids(f"/api/v1/results?authority={a.id}") == [r1.id]
    assert ids("/api/v1/results?q=bauantrag") == [r1.id]


# ---------------------------------------------------------------- organisations


def test_organisations_lists_only_those_with_public_pilots(client):
    shown = public_pilot().organisation
    f.proposal(status="draft")  # its organisation has nothing public
    public_pilot(publication_consent=False)
    data = body(client, "/api/v1/organisations")
    assert [o["slug"] for o in data["items"]] == [shown.slug]
    item = data["items"][0]
    assert item["name"] == shown.name and item["city"] == "Schwerin"
    assert item["website"] == "https://example.org"
    assert item["kind"] == "startup"


def test_organisations_filter_by_search_and_kind(client):
    a = public_pilot(org=f.organisation(owner=f.user(), name="Alpha Analytics GmbH")).organisation
    b = public_pilot(org=f.organisation(owner=f.user(), name="Beta Forschung e. V.",
                                        kind="research")).organisation
    def slugs(url):
        return [o["slug"] for o in body(client, url)["items"]]
    assert slugs("/api/v1/organisations?q=alpha") == [a.slug]
    assert slugs("/api/v1/organisations?kind=research") == [b.slug]


def test_organisation_detail_by_slug_with_public_pilots_only(client):
    org = f.organisation(owner=f.user(email=SECRET_EMAIL))
    shown = public_pilot(org=org)
    public_pilot(org=org, publication_consent=False)
    f.proposal(org=org, status="draft")
    data = body(client, f"/api/v1/organisations/{org.slug}")
    assert data["slug"] == org.slug
    assert [p["id"] for p in data["pilots"]] == [shown.id]
    assert SECRET_EMAIL not in json.dumps(data)
    assert "members" not in data and "memberships" not in data


def test_organisation_detail_unknown_slug_is_json_404(client):
    for slug in ("gibt-es-nicht", "x" * 300):
        r = get(client, f"/api/v1/organisations/{slug}", 404)
        assert r.mimetype == "application/problem+json"
    # a NUL byte anywhere in a request is refused before the route (web/input_checks.py)
    r = get(client, "/api/v1/organisations/%00", 400)
    assert r.mimetype == "application/problem+json"


# ---------------------------------------------------------------- pagination and errors


def test_pagination_envelope_and_links_keep_the_filters(client):
    for n in range(5):
        public_pilot(title=f"Pilot {n}")
    data = body(client, "/api/v1/pilots?per_page=2&status=running")
    assert (data["page"], data["per_page"], data["total"], data["pages"]) == (1, 2, 5, 3)
    assert len(data["items"]) == 2
    links = data["links"]
    assert links["prev"] is None
    assert re.search(r"[?&]page=2", links["next"]) and "status=running" in links["next"]
    assert "per_page=2" in links["next"]
    assert re.search(r"[?&]page=3", links["last"])
    second = client.get(links["next"]).get_json()
    assert second["page"] == 2
    assert not re.search(r"[?&]page=", second["links"]["prev"])  # page 1: the plain address
    last = body(client, "/api/v1/pilots?per_page=2&page=3")
    assert len(last["items"]) == 1 and last["links"]["next"] is None
    seen = {p["id"] for p in data["items"]} | {p["id"] for p in second["items"]} \
        | {p["id"] for p in last["items"]}
    assert len(seen) == 5


def test_page_after_the_last_is_empty_not_an_error(client):
    public_pilot()
    data = body(client, "/api/v1/pilots?page=7")
    assert data["items"] == [] and data["total"] == 1 and data["pages"] == 1
    assert data["links"]["next"] is None


def test_empty_list_has_zero_pages(client):
    data = body(client, "/api/v1/results")
    assert data == {**data, "items": [], "total": 0, "pages": 0}
    assert data["links"]["last"] == data["links"]["first"]


@pytest.mark.parametrize("url, parameter", [
    ("/api/v1/challenges?per_page=101", "per_page"),
    ("/api/v1/challenges?per_page=0", "per_page"),
    ("/api/v1/challenges?page=0", "page"),
    ("/api/v1/challenges?page=-1", "page"),
    ("/api/v1/challenges?page=eins", "page"),
    ("/api/v1/challenges?page=9999999999999", "page"),
    ("/api/v1/challenges?status=running", "status"),
    ("/api/v1/challenges?authority=abc", "authority"),
    ("/api/v1/challenges?topic=Nicht%20Gueltig", "topic"),
    ("/api/v1/pilots?status=draft", "status"),
    ("/api/v1/pilots?status=rejected", "status"),
    ("/api/v1/pilots?q=" + "x" * 201, "q"),
    ("/api/v1/results?recommendation=maybe", "recommendation"),
    ("/api/v1/organisations?kind=behoerde", "kind"),
    ("/api/v1/organisations?per_page=1.5", "per_page"),
])
def test_bad_parameter_is_json_400_naming_it(client, url, parameter):
    r = get(client, url, 400)
    assert r.mimetype == "application/problem+json"
    data = r.get_json()
    assert data["status"] == 400 and data["title"] == "Bad Request"
    assert [e["parameter"] for e in data["errors"]] == [parameter]


def test_several_bad_parameters_are_all_named(client):
    data = body(client, "/api/v1/pilots?page=x&per_page=500&status=nix", 400)
    assert {e["parameter"] for e in data["errors"]} == {"page", "per_page", "status"}


def test_empty_parameters_count_as_not_given(client):
    public_pilot()
    data = body(client, "/api/v1/pilots?q=&status=&topic=&authority=&page=&per_page=")
    assert data["total"] == 1 and data["per_page"] == 20


def test_nul_characters_in_search_are_refused_as_everywhere(client):
    public_pilot(title="Chatbot")
    r = get(client, "/api/v1/pilots?q=Chat%00bot", 400)
    assert r.mimetype == "application/problem+json" and "NUL" in r.get_json()["detail"]


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("url", ["/api/v1/challenges", "/api/v1/pilots", "/api/v1/results",
                                 "/api/v1/organisations", "/api/v1/openapi.json"])
def test_open_data_answers_allow_any_origin_and_set_no_cookie(client, url):
    r = get(client, url)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in r.headers
    assert r.mimetype == "application/json"


def test_api_refuses_other_methods(client):
    assert client.post("/api/v1/pilots").status_code == 405
    assert client.delete("/api/v1/challenges/1").status_code == 405


# ---------------------------------------------------------------- nothing private


def test_nothing_private_reaches_any_api_answer(client):
    reviewer = f.staff("reviewer")
    coordinator = f.staff("coordinator")
    org = f.organisation(owner=f.user(email="inhaberin@example.org"))
    secret = dict(problem=SECRET_PROBLEM, contact_email=SECRET_EMAIL, contact_phone=SECRET_PHONE,
                  contact_name="Geheime Kontaktperson", solution="Vertrauliche Lösung",
                  security_notes="Geheime Sicherheitsnotiz", cost_estimate=123457)
    c = f.challenge()
    p = public_pilot(org=org, challenge_=c, **secret)
    results_of(p)
    with db.session.no_autoflush:
        db.session.add_all([
            ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                             proposal_id=p.id, reviewer_id=reviewer.id),
            Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=5, comment=SECRET_REVIEW,
                   submitted_at=utcnow()),
            Message(proposal_id=p.id, author_id=coordinator.id, body=SECRET_NOTE, internal=True),
            TimelineEntry(proposal_id=p.id, action="note", message="Interner Verlauf",
                          internal=True),
        ])
    db.session.commit()
    f.proposal(org=org, status="draft", title="GEHEIMER ENTWURF", challenge_=c)
    f.proposal(org=org, status="rejected", title="ABGELEHNTER VORSCHLAG",
               published_at=utcnow(), challenge_=c)
    f.proposal(org=org, status="withdrawn", title="ZURÜCKGEZOGENER VORSCHLAG", challenge_=c)
    f.challenge(status="draft", title="ENTWURF EINER HERAUSFORDERUNG")
    urls = ["/api/v1/challenges", f"/api/v1/challenges/{c.id}", "/api/v1/pilots",
            f"/api/v1/pilots/{p.id}", "/api/v1/results", "/api/v1/organisations",
            f"/api/v1/organisations/{org.slug}", "/feeds/challenges.atom", "/feeds/pilots.atom",
            "/feeds/results.atom"]
    everything = "".join(get(client, url).get_data(as_text=True) for url in urls)
    assert p.title in everything
    for needle in (SECRET_PROBLEM, SECRET_EMAIL, SECRET_PHONE, "Geheime Kontaktperson",
                   "Vertrauliche Lösung", "Geheime Sicherheitsnotiz", "123457", SECRET_REVIEW,
                   SECRET_NOTE, "Interner Verlauf", SECRET_RETURN, "GEHEIMER ENTWURF",
                   "ABGELEHNTER VORSCHLAG", "ZURÜCKGEZOGENER VORSCHLAG",
                   "ENTWURF EINER HERAUSFORDERUNG", "inhaberin@example.org", reviewer.email,
                   coordinator.email, p.reference):
        assert needle not in everything, needle


def test_signed_in_staff_see_no_more_than_visitors(client, login):
    public_pilot(title="Öffentlich")
    f.proposal(status="in_review", title="In Begutachtung")
    login(f.staff("admin", "coordinator"))
    data = body(client, "/api/v1/pilots")
    assert [p["title"] for p in data["items"]] == ["Öffentlich"]


# ---------------------------------------------------------------- the document and the page


def test_openapi_document_describes_every_api_route(app, client):
    doc = body(client, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    routes = {r.rule.replace("<", "{").replace(">", "}") for r in app.url_map.iter_rules()
              if r.endpoint.startswith("api.") and r.rule.startswith("/api/")}
    assert routes == set(doc["paths"])
    for item in doc["paths"].values():
        op = item["get"]
        assert op["operationId"] and op["responses"]["200"]
    for name in doc["components"]["schemas"]:
        assert doc["components"]["schemas"][name].get("additionalProperties") is False, name


def test_openapi_document_describes_the_review_criteria(client):
    doc = body(client, "/api/v1/openapi.json")
    schemas = doc["components"]["schemas"]
    for name in ("Challenge", "ChallengeDetail"):
        assert schemas[name]["properties"]["criteria"]["items"] == {
            "$ref": "#/components/schemas/Criterion"}
    assert set(schemas["Criterion"]["required"]) == {
        "name", "name_en", "description", "description_en", "weight", "scale", "minimum"}
    assert "`criteria`" in doc["info"]["description"]


def test_openapi_list_parameters_match_what_the_api_accepts(client):
    doc = body(client, "/api/v1/openapi.json")
    names = {p["name"] for p in doc["paths"]["/api/v1/pilots"]["get"]["parameters"]}
    assert names == {"q", "status", "topic", "authority", "page", "per_page"}
    per_page = next(p for p in doc["paths"]["/api/v1/pilots"]["get"]["parameters"]
                    if p["name"] == "per_page")
    assert per_page["schema"]["maximum"] == 100


def test_answers_validate_against_their_schemas(client):
    """Every answer against the document's schema (schemathesis does the same with generated
    input; this one covers data of every kind, results included)."""
    jsonschema = pytest.importorskip("jsonschema_rs")
    c = f.challenge(topics=[f.topic()])
    f.criteria(c, ("Nutzen", 2, 7, 3))
    p = public_pilot(challenge_=c)
    t = f.topic()
    p.topics.append(t)
    db.session.commit()
    results_of(p)
    results_of(public_pilot(challenge_=None, pilot_start_date=None, public_summary=None),
               recommendation=None)
    doc = body(client, "/api/v1/openapi.json")

    def validate(url, ref, status=200):
        schema = {"$ref": f"#/components/schemas/{ref}", "components": doc["components"]}
        jsonschema.validator_for(schema).validate(body(client, url, status))

    validate("/api/v1/challenges", "ChallengePage")
    validate(f"/api/v1/challenges/{c.id}", "ChallengeDetail")
    validate("/api/v1/pilots", "PilotPage")
    validate(f"/api/v1/pilots/{p.id}", "PilotDetail")
    validate("/api/v1/results", "ResultPage")
    validate("/api/v1/organisations", "OrganisationPage")
    validate(f"/api/v1/organisations/{p.organisation.slug}", "OrganisationDetail")
    validate("/api/v1/pilots?page=x", "Problem", 400)
    validate("/api/v1/pilots/999999", "Problem", 404)


def test_docs_page_explains_the_api_in_german_and_is_linked_from_the_footer(client):
    home = get(client, "/").get_data(as_text=True)
    assert 'href="/open-data"' in home and "Offene Daten" in home
    page = get(client, "/open-data").get_data(as_text=True)
    assert "<h1" in page and page.count("<h1") == 1
    assert "Offene Daten" in page
    assert "/api/v1/openapi.json" in page
    assert "Kontaktdaten" in page  # says what is not in it
    for feed in ("/feeds/challenges.atom", "/feeds/pilots.atom", "/feeds/results.atom"):
        assert feed in page


def test_docs_page_in_english(client):
    client.set_cookie("lang", "en")
    page = get(client, "/open-data").get_data(as_text=True)
    assert 'lang="en"' in page
