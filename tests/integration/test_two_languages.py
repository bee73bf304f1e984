"""Challenges and pilots in two languages: the English showcase shows the English title and
summary where they were written and the German ones, marked lang="de", where not; the German
showcase always the German. The same for the API (both texts), the feeds (xml:lang per entry)
and the search. And the forms where they are written keep what was typed."""
from __future__ import annotations

from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import Challenge, Proposal, ResultsReport
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Langs(HTMLParser):
    """The language (the nearest `lang`) of every piece of text that contains `needle`."""

    def __init__(self, needle: str):
        super().__init__()
        self.needle, self.stack, self.found = needle, [], []
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.needle in data:
            tags = [t for t, _ in self.stack]
            lang = next((lang for _, lang in reversed(self.stack) if lang), None)
            self.found.append(("title" if "title" in tags else tags[-1], lang))


def langs(html: str, needle: str) -> list[tuple[str, str | None]]:
    """(innermost element, its language) for each text of the page that holds `needle`."""
    parser = _Langs(needle)
    parser.feed(html)
    return parser.found


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def public_pilot(**kw) -> Proposal:
    kw.setdefault("publication_consent", True)
    kw.setdefault("published_at", utcnow())
    return f.proposal(status=kw.pop("status", "running"), **kw)


@pytest.fixture
def texts():
    """A challenge and a pilot with English texts, and a pilot without them."""
    c = f.challenge(title="Fischereiaufsicht digital", title_en="Digital fisheries control",
                    summary="Kontrollen auf dem Wasser erfassen.",
                    summary_en="Record inspections on the water.",
                    description="Die Behörde braucht eine **mobile** Lösung.",
                    description_en="The authority needs a **mobile** solution.")
    both = public_pilot(title="Sprachassistent Bürgertelefon",
                        title_en="Voice assistant for the citizens' line",
                        public_summary="Ein Assistent nimmt **Anrufe** an.",
                        public_summary_en="An assistant takes **calls**.", challenge_=c)
    german = public_pilot(title="Badewasserkarte", public_summary="Messwerte der Badestellen.")
    return c, both, german


# ---------------------------------------------------------------- pages


def test_german_pages_show_the_german_texts_unmarked(client, texts):
    c, both, _ = texts
    for url in ("/", "/pilots", f"/pilots/{both.id}", "/challenges", f"/challenges/{c.id}"):
        html = page(client, url)
        assert "Voice assistant" not in html and "Digital fisheries" not in html, url
        assert html.count(' lang="en"') == 1, url  # the language switch only
    html = page(client, f"/pilots/{both.id}")
    assert langs(html, "Sprachassistent Bürgertelefon")[:2] == [("title", "de"), ("h1", "de")]
    assert "<strong>Anrufe</strong>" in html


def test_english_pages_show_the_english_texts_where_written(client, texts):
    c, both, _ = texts
    html = page(client, f"/pilots/{both.id}?lang=en")
    assert "Sprachassistent" not in html and "nimmt" not in html
    assert langs(html, "Voice assistant for the citizens")[:2] == [("title", "en"),
                                                                    ("h1", "en")]
    assert "An assistant takes <strong>calls</strong>." in html
    assert langs(html, "Digital fisheries control") == [("a", "en")]  # its challenge
    html = page(client, f"/challenges/{c.id}?lang=en")
    assert langs(html, "Digital fisheries control")[:2] == [("title", "en"), ("h1", "en")]
    assert langs(html, "Record inspections on the water.") == [("p", "en")]
    assert "The authority needs a <strong>mobile</strong> solution." in html
    assert "Die Behörde" not in html and "Fischereiaufsicht" not in html
    for url in ("/?lang=en", "/pilots?lang=en", "/challenges?lang=en"):
        html = page(client, url)
        assert "Voice assistant for the citizens" in html or "Digital fisheries" in html, url
        assert "Sprachassistent" not in html and "Fischereiaufsicht" not in html, url


def test_english_pages_show_the_german_text_marked_where_no_english_was_written(
        client, texts):
    _, _, german = texts
    html = page(client, f"/pilots/{german.id}?lang=en")
    assert langs(html, "Badewasserkarte")[:2] == [("title", "en"), ("h1", "de")]
    assert langs(html, "Messwerte der Badestellen.") == [("p", "de")]
    html = page(client, "/pilots?lang=en")
    assert langs(html, "Badewasserkarte") == [("a", "de")]
    assert langs(html, "Messwerte der Badestellen.") == [("p", "de")]


def test_an_english_title_without_an_english_summary_mixes_and_marks_each(client):
    p = public_pilot(title="Waldbrandrisiko", title_en="Forest fire risk",
                     public_summary="Täglich das Risiko je Revier.")
    html = page(client, f"/pilots/{p.id}?lang=en")
    assert langs(html, "Forest fire risk")[1] == ("h1", "en")
    assert langs(html, "Täglich das Risiko je Revier.") == [("p", "de")]
    card = page(client, "/pilots?lang=en")
    assert langs(card, "Forest fire risk") == [("a", "en")]
    assert langs(card, "Täglich das Risiko") == [("p", "de")]


def test_results_cards_follow_the_pilot_title_language(client, texts):
    _, both, _ = texts
    db.session.add(ResultsReport(proposal=both, status="accepted", summary="Ziele erreicht.",
                                 recommendation="roll_out", publication_consent=True,
                                 published_at=utcnow()))
    db.session.commit()
    html = page(client, "/results?lang=en")
    assert langs(html, "Voice assistant for the citizens") == [("a", "en")]
    assert langs(html, "Ziele erreicht.") == [("p", "de")]
    assert "Sprachassistent" in page(client, "/results")


def test_search_finds_a_pilot_and_a_challenge_by_their_english_title(client, texts):
    assert "Sprachassistent Bürgertelefon" in page(client, "/pilots?q=citizens")
    assert "Badewasserkarte" not in page(client, "/pilots?q=citizens")
    assert "Fischereiaufsicht digital" in page(client, "/challenges?q=fisheries")
    assert "Voice assistant" in page(client, "/pilots?q=Sprachassistent&lang=en")


# ---------------------------------------------------------------- API and feeds


def test_api_has_both_texts_and_null_without_english(client, texts):
    c, both, german = texts
    pilots = {p["id"]: p for p in client.get("/api/v1/pilots").get_json()["items"]}
    assert pilots[both.id]["title"] == "Sprachassistent Bürgertelefon"
    assert pilots[both.id]["title_en"] == "Voice assistant for the citizens' line"
    assert pilots[both.id]["summary_en"] == "An assistant takes **calls**."  # raw Markdown
    assert pilots[german.id]["title_en"] is None and pilots[german.id]["summary_en"] is None
    assert pilots[both.id]["challenge"]["title_en"] == "Digital fisheries control"
    detail = client.get(f"/api/v1/challenges/{c.id}").get_json()
    assert detail["title_en"] == "Digital fisheries control"
    assert detail["summary_en"] == "Record inspections on the water."
    assert detail["description_en"] == "The authority needs a **mobile** solution."
    assert detail["description"] == "Die Behörde braucht eine **mobile** Lösung."
    assert {p["id"]: p["title_en"] for p in detail["pilots"]}[both.id].startswith("Voice")


def test_openapi_documents_the_english_fields_and_markdown(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name, fields in (("Pilot", ("title_en", "summary_en")),
                         ("Challenge", ("title_en", "summary_en", "description_en")),
                         ("PilotRef", ("title_en",)), ("ChallengeRef", ("title_en",))):
        for field in fields:
            assert field in schemas[name]["properties"] and field in schemas[name]["required"]
            assert "null" in schemas[name]["properties"][field]["type"]
    assert "Markdown" in schemas["Pilot"]["properties"]["summary_en"]["description"]
    assert "Markdown" in schemas["Challenge"]["properties"]["description"]["description"]


def _entries(client, url) -> dict[str, ET.Element]:
    response = client.get(url)
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())
    return {e.findtext(f"{A}title"): e for e in root.findall(f"{A}entry")}, root


def test_feeds_mark_each_entry_with_its_language(client, texts):
    entries, root = _entries(client, "/feeds/pilots.atom?lang=en")
    assert root.get(XML_LANG) == "en"
    english = entries["Voice assistant for the citizens' line"]
    assert english.get(XML_LANG) == "en"
    assert english.findtext(f"{A}summary") == "An assistant takes calls."
    assert english.find(f"{A}summary").get(XML_LANG) is None  # the entry's language
    german = entries["Badewasserkarte"]
    assert german.get(XML_LANG) == "de"
    entries, root = _entries(client, "/feeds/challenges.atom?lang=en")
    assert entries["Digital fisheries control"].get(XML_LANG) == "en"
    entries, root = _entries(client, "/feeds/pilots.atom?lang=de")
    assert root.get(XML_LANG) == "de"
    assert set(entries) >= {"Sprachassistent Bürgertelefon", "Badewasserkarte"}
    assert all(e.get(XML_LANG) == "de" for e in entries.values())


def test_feed_summary_in_another_language_than_its_title_is_marked(client):
    public_pilot(title="Waldbrandrisiko", title_en="Forest fire risk",
                 public_summary="Täglich das Risiko je Revier.")
    entries, _ = _entries(client, "/feeds/pilots.atom?lang=en")
    entry = entries["Forest fire risk"]
    assert entry.get(XML_LANG) == "en"
    assert entry.find(f"{A}summary").get(XML_LANG) == "de"


# ---------------------------------------------------------------- the forms


@pytest.fixture
def coordinator(login):
    login(f.staff("coordinator"))


def _challenge_form(authority, **kw):
    data = {"title": "Digitale Fischereiaufsicht", "summary": "Kontrollen erfassen.",
            "description": "Die Behörde braucht eine Lösung.", "authority": str(authority.id),
            "deadline": "2999-01-01", "title_en": "Digital fisheries control",
            "summary_en": "Record inspections.", "description_en": "A **mobile** solution."}
    data.update(kw)
    return data


def test_coordinator_writes_and_edits_the_english_texts_of_a_challenge(client, coordinator):
    authority = f.authority()
    response = client.post("/staff/challenges/new", data=_challenge_form(authority))
    assert response.status_code == 303
    c = db.session.execute(select(Challenge)).scalar_one()
    assert (c.title_en, c.summary_en, c.description_en) == (
        "Digital fisheries control", "Record inspections.", "A **mobile** solution.")
    html = page(client, f"/staff/challenges/{c.id}/edit")
    assert "Titel (Englisch, optional)" in html and 'value="Digital fisheries control"' in html
    assert langs(html, "A **mobile** solution.") == [("textarea", "en")]
    response = client.post(f"/staff/challenges/{c.id}/edit", data=_challenge_form(
        authority, title_en=" ", summary_en="", description_en="",
        version=str(c.lock_version)))
    assert response.status_code == 303
    db.session.expire_all()
    c = db.session.get(Challenge, c.id)
    assert (c.title_en, c.summary_en, c.description_en) == (None, None, None)


def test_challenge_form_refused_keeps_the_english_texts_typed(client, coordinator):
    authority = f.authority()
    response = client.post("/staff/challenges/new", data=_challenge_form(
        authority, title="", summary_en="S" * 501))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie einen Titel ein." in html and "Höchstens 500 Zeichen." in html
    assert 'value="Digital fisheries control"' in html and "A **mobile** solution." in html
    assert db.session.execute(select(Challenge)).first() is None


@pytest.fixture
def partner(login):
    user = f.user()
    org = f.organisation(owner=user)
    login(user)
    return org


def test_partner_writes_the_english_title_and_summary_of_a_proposal(client, partner):
    response = client.post("/proposals/new", data={
        "title": "Badewasserkarte", "title_en": "Bathing water map",
        "public_summary_en": "Readings of every bathing spot.", "organisation_id": partner.id,
        "personal_data": "no", "save": "draft"})
    assert response.status_code == 303
    p = db.session.execute(select(Proposal)).scalar_one()
    assert (p.title_en, p.public_summary_en) == ("Bathing water map",
                                                 "Readings of every bathing spot.")
    html = page(client, f"/proposals/{p.id}")
    assert langs(html, "Bathing water map") == [("span", "en")]
    html = page(client, f"/proposals/{p.id}/edit")
    assert "Öffentliche Kurzbeschreibung (Englisch, optional)" in html
    assert langs(html, "Readings of every bathing spot.") == [("textarea", "en")]


def test_proposal_form_refused_keeps_the_english_texts_typed(client, partner):
    response = client.post("/proposals/new", data={
        "title": "", "title_en": "Bathing water map",
        "public_summary_en": "x" * 1001, "organisation_id": partner.id,
        "personal_data": "no", "save": "draft"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Bathing water map"' in html and "x" * 1001 in html
    assert db.session.execute(select(Proposal)).first() is None
