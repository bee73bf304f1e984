"""Open data: the public showcase as JSON and Atom, and the staff's CSV export of proposals.

What is public is decided in `innolab.domain.showcase` only: everything serialised here for
the public comes from its `Public*` objects and queries, so no private field (problem, solution,
contact data, reviews, attachments, internal notes) can reach the API or a feed.

The JSON Schemas of every object (SCHEMAS) sit next to the functions that build the objects, so
the OpenAPI document and the answers cannot drift apart; the tests check both against each other.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.etree import ElementTree as ET

from flask import current_app
from flask_babel import force_locale, format_date, format_decimal

from innolab.i18n import Localized, lazy_gettext as _l, localized, page_locale

from ..models import CRITERIA, Challenge, OrganisationKind, Proposal, ReportRecommendation
from ..models._base import utcnow
from . import criteria, questions
from . import review as rv
from . import states
from . import showcase
from .plaintext import from_markdown
from ..links import external_url

# ---------------------------------------------------------------- formats


def iso_datetime(value: datetime | None) -> str | None:
    """RFC 3339 in UTC, e.g. 2026-11-28T16:55:54Z."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------- JSON Schemas

def _nullable(schema: dict) -> dict:
    t = schema.get("type")
    out = dict(schema)
    out["type"] = [t, "null"] if isinstance(t, str) else [*(t or []), "null"]
    return out


def _obj(properties: dict, description: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(properties),
              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable_ref(name: str) -> dict:
    return {"oneOf": [_ref(name), {"type": "null"}]}


STR = {"type": "string"}
INT = {"type": "integer"}
URL = {"type": "string", "format": "uri"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
MARKDOWN = {"type": "string", "description": "Markdown"}
# The German text is the authoritative one and always there; the English one only when written.
GERMAN = {"type": "string", "description": "German"}
GERMAN_MARKDOWN = {"type": "string", "description": "German, Markdown"}
ENGLISH = _nullable({"type": "string", "description": "English, when written; else null"})
ENGLISH_MARKDOWN = _nullable({"type": "string",
                              "description": "English, Markdown, when written; else null"})
WEBSITE = {"type": "string", "description": "http(s) address as entered (never another scheme)"}

CHALLENGE_STATES = (showcase.OPEN, showcase.CLOSED)
PILOT_STATES = tuple(showcase.PUBLIC_PILOT_STATES)
RECOMMENDATIONS = tuple(r.value for r in ReportRecommendation)
ORGANISATION_KINDS = tuple(k.value for k in OrganisationKind)

_CHALLENGE = {
    "id": INT,
    "title": GERMAN,
    "title_en": ENGLISH,
    "summary": GERMAN,
    "summary_en": ENGLISH,
    "description": GERMAN_MARKDOWN,
    "description_en": ENGLISH_MARKDOWN,
    "status": {"type": "string", "enum": list(CHALLENGE_STATES),
               "description": "open: proposals are accepted until the deadline; "
                              "closed: not any more"},
    "deadline": DATE,
    "published_at": _nullable(DATETIME),
    "authority": _ref("Authority"),
    "topics": {"type": "array", "items": _ref("Topic")},
    "criteria": {"type": "array", "items": _ref("Criterion"),
                 "description": "What proposals to it are reviewed on, in order: its own "
                                "criteria, else the default five"},
    "url": URL,
    "api_url": URL,
}
_PILOT = {
    "id": INT,
    "title": GERMAN,
    "title_en": ENGLISH,
    "summary": _nullable(GERMAN_MARKDOWN),
    "summary_en": ENGLISH_MARKDOWN,
    "status": {"type": "string", "enum": list(PILOT_STATES)},
    "organisation": _ref("OrganisationRef"),
    "authority": _nullable_ref("Authority"),
    "challenge": _nullable_ref("ChallengeRef"),
    "topics": {"type": "array", "items": _ref("Topic")},
    "pilot_start_date": _nullable(DATE),
    "published_at": DATETIME,
    "url": URL,
    "api_url": URL,
}
_RESULTS = {
    "summary": _nullable(MARKDOWN),
    "goals": {"type": "array", "items": _ref("GoalResult")},
    "what_worked": _nullable(MARKDOWN),
    "what_did_not_work": _nullable(MARKDOWN),
    "lessons_learned": _nullable(MARKDOWN),
    "recommendation": {"type": ["string", "null"], "enum": list(RECOMMENDATIONS) + [None]},
    "reuse_requirements": _nullable(MARKDOWN),
    "published_at": DATETIME,
}
_ORGANISATION = {
    "id": INT,
    "name": STR,
    "slug": STR,
    "kind": {"type": "string", "enum": list(ORGANISATION_KINDS)},
    "city": _nullable(STR),
    "website": _nullable(WEBSITE),
    "description": _nullable(MARKDOWN),
    "url": URL,
    "api_url": URL,
}


def _page_schema(item: str) -> dict:
    return _obj({
        "items": {"type": "array", "items": _ref(item)},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        "total": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 0},
        "links": _ref("PageLinks"),
        "license": _ref("License"),
    })


# ---------------------------------------------------------------- the licence


def licence() -> dict:
    """The licence of every piece of open data, from the settings (one source for the API's
    answers and headers, the OpenAPI document, the feeds and the /open-data page)."""
    config = current_app.config
    return {"name": config["OPEN_DATA_LICENSE_NAME"], "url": config["OPEN_DATA_LICENSE_URL"],
            "spdx": config["OPEN_DATA_LICENSE_SPDX"] or None,
            "attribution": config["OPEN_DATA_ATTRIBUTION"]}


def licence_link_header() -> str:
    """The licence as an HTTP Link header (RFC 8288, relation "license" of RFC 4946)."""
    return f'<{licence()["url"]}>; rel="license"'


SCHEMAS: dict[str, dict] = {
    "License": _obj({"name": STR, "url": URL, "spdx": _nullable(STR),
                     "attribution": {"type": "string",
                                     "description": "Name the source like this when reusing"}},
                    "The licence of the data"),
    "Authority": _obj({"id": INT, "name": STR, "short_name": _nullable(STR),
                       "website": _nullable(WEBSITE)}, "A state authority (Behörde)"),
    "Topic": _obj({"slug": STR, "name_de": STR, "name_en": STR}),
    "ChallengeRef": _obj({"id": INT, "title": GERMAN, "title_en": ENGLISH, "url": URL,
                          "api_url": URL}),
    "OrganisationRef": _obj({"id": INT, "name": STR, "slug": STR, "url": URL, "api_url": URL}),
    "PilotRef": _obj({"id": INT, "title": GERMAN, "title_en": ENGLISH,
                      "status": _PILOT["status"], "url": URL, "api_url": URL}),
    "Criterion": _obj({
        "name": GERMAN, "name_en": ENGLISH,
        "description": _nullable(GERMAN), "description_en": ENGLISH,
        "weight": {"type": "integer", "minimum": 1,
                   "description": "How much it counts relative to the others"},
        "scale": {"type": "integer", "minimum": 2,
                  "description": "Scored from 1 (insufficient) up to this (very good)"},
        "minimum": {"type": ["integer", "null"],
                    "description": "A knock-out criterion's minimum mean score, else null"},
    }, "A review criterion of a challenge"),
    "Challenge": _obj(_CHALLENGE, "A published challenge of an authority"),
    "ChallengeDetail": _obj({**_CHALLENGE, "pilots": {"type": "array",
                                                      "items": _ref("PilotRef")}}),
    "Pilot": _obj(_PILOT, "A pilot the partner agreed to publish and a coordinator published"),
    "PilotDetail": _obj({**_PILOT, "results": _nullable_ref("PilotResults")}),
    "GoalResult": _obj({"title": STR, "baseline": STR, "target": STR, "measurement": STR,
                        "value_reached": _nullable(STR), "reached": {"type": ["boolean", "null"]}}),
    "PilotResults": _obj(_RESULTS, "The published results report of a pilot"),
    "Result": _obj({"id": INT, "pilot": _ref("PilotRef"), "organisation": _ref("OrganisationRef"),
                    **_RESULTS, "url": URL},
                   "A published results report with the pilot it belongs to"),
    "Organisation": _obj(_ORGANISATION, "A partner organisation's public profile"),
    "OrganisationDetail": _obj({**_ORGANISATION, "pilots": {"type": "array",
                                                            "items": _ref("PilotRef")}}),
    "PageLinks": _obj({"self": URL, "first": URL, "last": URL, "next": _nullable(URL),
                       "prev": _nullable(URL)}),
    "ChallengePage": _page_schema("Challenge"),
    "PilotPage": _page_schema("Pilot"),
    "ResultPage": _page_schema("Result"),
    "OrganisationPage": _page_schema("Organisation"),
    "Problem": {
        "type": "object", "description": "An error (RFC 9457 problem details)",
        "properties": {
            "type": STR, "title": STR, "status": INT, "detail": STR,
            "errors": {"type": "array", "items": _obj({"parameter": STR, "message": STR})},
        },
        "required": ["type", "title", "status", "detail"],
        "additionalProperties": False,
    },
}


# ---------------------------------------------------------------- serialisers


def authority(a) -> dict | None:
    if a is None:
        return None
    return {"id": a.id, "name": a.name, "short_name": a.short_name,
            "website": showcase._http_url(a.website)}


def topic(t) -> dict:
    return {"slug": t.slug, "name_de": t.name_de, "name_en": t.name_en}


def challenge_ref(c: Challenge) -> dict:
    return {"id": c.id, "title": c.title, "title_en": c.title_en,
            "url": external_url("showcase.challenge", challenge_id=c.id),
            "api_url": external_url("api.challenge", challenge_id=c.id)}


def organisation_ref(o: showcase.PublicOrganisation) -> dict:
    return {"id": o.id, "name": o.name, "slug": o.slug,
            "url": external_url("showcase.organisation", slug=o.slug),
            "api_url": external_url("api.organisation", slug=o.slug)}


def pilot_ref(p: showcase.PublicPilot) -> dict:
    return {"id": p.id, "title": p.title, "title_en": p.title_en, "status": p.status,
            "url": external_url("showcase.pilot", proposal_id=p.id),
            "api_url": external_url("api.pilot", proposal_id=p.id)}


def challenge(c: Challenge, today: date | None = None) -> dict:
    """A public challenge (the caller got it from showcase, which checked it is public)."""
    if not showcase.is_public_challenge(c):
        raise ValueError("not a public challenge")
    return {
        "id": c.id, "title": c.title, "title_en": c.title_en, "summary": c.summary,
        "summary_en": c.summary_en, "description": c.description,
        "description_en": c.description_en,
        "status": showcase.challenge_state(c, today), "deadline": iso_date(c.deadline),
        "published_at": iso_datetime(c.published_at), "authority": authority(c.authority),
        "topics": [topic(t) for t in sorted(c.topics, key=lambda t: t.slug)],
        "criteria": [criterion(k) for k in criteria.of_challenge(c)],
        "url": external_url("showcase.challenge", challenge_id=c.id),
        "api_url": external_url("api.challenge", challenge_id=c.id),
    }


def criterion(c: criteria.Criterion) -> dict:
    """A review criterion in both languages (the default five in their translations)."""
    if c.is_default:
        texts: dict[str, str | None] = {}
        for locale, suffix in (("de", ""), ("en", "_en")):
            with force_locale(locale):
                texts["name" + suffix] = str(criteria.CRITERION_LABELS[c.key])
                texts["description" + suffix] = str(criteria.CRITERION_DESCRIPTIONS[c.key])
    else:
        texts = {"name": c.name, "name_en": c.name_en, "description": c.description,
                 "description_en": c.description_en}
    return {**texts, "weight": c.weight, "scale": c.scale, "minimum": c.knockout}


def challenge_detail(c: Challenge) -> dict:
    return {**challenge(c), "pilots": [pilot_ref(p) for p in showcase.pilots_for_challenge(c)]}


def pilot(p: showcase.PublicPilot) -> dict:
    return {
        "id": p.id, "title": p.title, "title_en": p.title_en, "summary": p.summary,
        "summary_en": p.summary_en, "status": p.status,
        "organisation": organisation_ref(p.organisation), "authority": authority(p.authority),
        "challenge": challenge_ref(p.challenge) if p.challenge is not None else None,
        "topics": [topic(t) for t in sorted(p.topics, key=lambda t: t.slug)],
        "pilot_start_date": iso_date(p.pilot_start_date),
        "published_at": iso_datetime(p.published_at),
        "url": external_url("showcase.pilot", proposal_id=p.id),
        "api_url": external_url("api.pilot", proposal_id=p.id),
    }


def _results_body(r: showcase.PublicResults) -> dict:
    return {
        "summary": r.summary,
        "goals": [{"title": g.title, "baseline": g.baseline, "target": g.target,
                   "measurement": g.measurement, "value_reached": g.value_reached,
                   "reached": g.reached} for g in r.goals],
        "what_worked": r.what_worked, "what_did_not_work": r.what_did_not_work,
        "lessons_learned": r.lessons_learned,
        "recommendation": r.recommendation if r.recommendation in RECOMMENDATIONS else None,
        "reuse_requirements": r.reuse_requirements,
        "published_at": iso_datetime(r.published_at),
    }


def pilot_detail(p: showcase.PublicPilot) -> dict:
    results = showcase.public_results(p.id)
    return {**pilot(p), "results": _results_body(results) if results is not None else None}


def result(r: showcase.PublicResults) -> dict:
    return {"id": r.id, "pilot": pilot_ref(r.pilot),
            "organisation": organisation_ref(r.pilot.organisation), **_results_body(r),
            "url": external_url("showcase.pilot", proposal_id=r.pilot.id)}


def organisation(o: showcase.PublicOrganisation) -> dict:
    return {"id": o.id, "name": o.name, "slug": o.slug, "kind": o.kind, "city": o.city,
            "website": o.website, "description": o.description,
            "url": external_url("showcase.organisation", slug=o.slug),
            "api_url": external_url("api.organisation", slug=o.slug)}


def organisation_detail(o: showcase.PublicOrganisation, pilots) -> dict:
    return {**organisation(o), "pilots": [pilot_ref(p) for p in pilots]}


# ---------------------------------------------------------------- Atom feeds (RFC 4287)

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50


@dataclass(frozen=True)
class FeedEntry:
    """One entry; its title and summary in the feed's language when written in it, else in
    German (`lang`, `summary_lang`: written as xml:lang). The summary is plain text."""

    id: str
    title: str
    updated: datetime
    link: str
    summary: str | None
    published: datetime | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    lang: str = "de"
    summary_lang: str = "de"


def _summary(text: Localized) -> dict:
    """The summary of an entry: Markdown as plain text (type="text"), with its language."""
    return {"summary": from_markdown(text.text) or None, "summary_lang": text.locale}


def challenge_entries(limit: int = FEED_SIZE) -> list[FeedEntry]:
    """The newest public challenges (published or closed), newest first."""
    entries = []
    for c in showcase.newest_challenges(limit):
        url = external_url("showcase.challenge", challenge_id=c.id)
        stamps = [s for s in (c.published_at, c.closed_at) if s is not None] or [c.created_at]
        title = localized(c, "title")
        entries.append(FeedEntry(id=url, title=str(title), lang=title.locale,
                                 updated=max(stamps), link=url,
                                 **_summary(localized(c, "summary")), published=c.published_at,
                                 author=c.authority.name,
                                 categories=tuple(t.name_de for t in c.topics)))
    return entries


def pilot_entries(limit: int = FEED_SIZE) -> list[FeedEntry]:
    entries = []
    for p in showcase.newest_pilots(limit):
        url = external_url("showcase.pilot", proposal_id=p.id)
        assert p.published_at is not None  # the showcase lists published pilots only
        title = localized(p, "title")
        entries.append(FeedEntry(id=url, title=str(title), lang=title.locale,
                                 updated=p.published_at, link=url,
                                 **_summary(localized(p, "summary")), published=p.published_at,
                                 author=p.organisation.name,
                                 categories=tuple(t.name_de for t in p.topics)))
    return entries


def results_entries(limit: int = FEED_SIZE) -> list[FeedEntry]:
    entries = []
    for r in showcase.newest_results(limit):
        url = external_url("showcase.pilot", proposal_id=r.pilot.id)
        title = localized(r.pilot, "title")
        # The report is written in German; without its summary, the pilot's stands in.
        summary = Localized(r.summary, "de") if r.summary else localized(r.pilot, "summary")
        entries.append(FeedEntry(
            id=f"{url}#results", title=str(_l("Ergebnisse: %(title)s", title=str(title))),
            lang=title.locale, updated=r.published_at, link=url, **_summary(summary),
            published=r.published_at, author=r.pilot.organisation.name,
            categories=tuple(t.name_de for t in r.pilot.topics)))
    return entries


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def atom_feed(*, feed_id: str, title: str, subtitle: str | None, self_url: str,
              alternate_url: str, author: str, entries: list[FeedEntry]) -> bytes:
    """An Atom 1.0 document (RFC 4287); ElementTree escapes every text."""
    ET.register_namespace("", ATOM_NS)

    def el(parent, tag, text=None, **attrs):
        e = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            e.text = _xml_text(text)
        return e

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: page_locale()})
    el(feed, "id", feed_id)
    el(feed, "title", title)
    if subtitle:
        el(feed, "subtitle", subtitle)
    updated = max((e.updated for e in entries), default=None) or utcnow()
    el(feed, "updated", iso_datetime(updated))
    el(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    el(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    terms = licence()
    el(feed, "link", rel="license", href=terms["url"])  # RFC 4946
    el(feed, "rights", f"{terms['name']}, {terms['attribution']}")
    a = el(feed, "author")
    el(a, "name", author)
    el(feed, "generator", "InnoLab")
    for entry in entries:
        e = el(feed, "entry", **{XML_LANG: entry.lang})
        el(e, "id", entry.id)
        el(e, "title", entry.title)
        el(e, "updated", iso_datetime(entry.updated))
        if entry.published is not None:
            el(e, "published", iso_datetime(entry.published))
        el(e, "link", rel="alternate", type="text/html", href=entry.link)
        if entry.author:
            ea = el(e, "author")
            el(ea, "name", entry.author)
        for term in entry.categories:
            el(e, "category", term=_xml_text(term))
        if entry.summary:
            lang = {XML_LANG: entry.summary_lang} if entry.summary_lang != entry.lang else {}
            el(e, "summary", entry.summary, type="text", **lang)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _xml_text(value) -> str:
    """Text without the characters XML 1.0 forbids (control characters other than tab/newline)."""
    return "".join(ch for ch in str(value)
                   if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
                   or ch >= "\U00010000")


# ---------------------------------------------------------------- staff CSV export

CSV_COLUMNS = (
    ("reference", _l("Aktenzeichen")),
    ("title", _l("Titel")),
    ("organisation", _l("Organisation")),
    ("challenge", _l("Herausforderung")),
    ("status", _l("Status")),
    ("submitted", _l("Eingereicht am")),
    ("reviews", _l("Abgeschlossene Gutachten")),
    *((f"avg_{c}", rv.CRITERION_LABELS[c]) for c in CRITERIA),
    ("criteria", _l("Bewertungen je Kriterium")),
    ("avg_overall", _l("Gesamtwert (gewichtet, Skala 1 bis 5)")),
    ("knockout", _l("Unter Mindestwert")),
    ("recommendations", _l("Empfehlungen")),
    ("checks", _l("Prüfungen")),
    ("answers", _l("Antworten")),
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell Excel and LibreOffice never run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _number(value: float | None) -> str:
    return "" if value is None else format_decimal(value, format="0.00")


def proposal_row(p: Proposal, answered=None) -> list[str]:
    """One proposal's row; `answered`: its questions and answers (`questions.answered`), when
    worked out for the whole list at once."""
    if answered is None:
        answered = questions.answered(p)
    counting = states.counting_reviews(p)
    of = criteria.of_proposal(p)
    averages = rv.average_scores(counting, of)
    recommendations = Counter(r.recommendation for r in counting if r.recommendation)
    checks = []
    for state in rv.check_states(p):
        if state.latest is not None:
            checks.append(f"{state.label}: {rv.OUTCOME_LABELS[state.latest.outcome]}")
        elif state.required:
            checks.append(f"{state.label}: {_l('ausstehend')}")
    values = {
        "reference": p.display_reference,
        "title": p.title,
        "organisation": p.organisation.name,
        "challenge": p.challenge.title if p.challenge else _l("Initiativvorschlag"),
        "status": states.status_label(p.status),
        "submitted": format_date(p.submitted_at, "dd.MM.yyyy") if p.submitted_at else "",
        "reviews": len(counting),
        # the default five's columns stay for proposals scored on them
        **{f"avg_{c}": _number(averages.get(c)) for c in CRITERIA},
        "criteria": "; ".join(f"{c.label} ({_l('Gewicht')} {c.weight}, 1–{c.scale}): "
                              f"{_number(averages[c.key]) or '–'}" for c in of),
        "avg_overall": _number(averages["overall"]),
        "knockout": "; ".join(str(_l("unter Mindestwert bei „%(criterion)s“",
                                     criterion=c.label))
                              for c in criteria.below_minimum(of, averages)),
        "recommendations": "; ".join(
            f"{rv.RECOMMENDATION_LABELS.get(k, k)}: {n}"
            for k, n in sorted(recommendations.items())),
        "checks": "; ".join(checks),
        # "label: answer; …", the questions of its challenge or the default set, a retired
        # one too when answered (domain/questions.py)
        "answers": "; ".join(f"{questions.label(q)}: {questions.show(q, value)}"
                             for q, value in answered
                             if value not in (None, "", [])),
    }
    return [csv_safe(values[key]) for key, _label in CSV_COLUMNS]


def proposals_csv(proposals) -> bytes:
    """UTF-8 with BOM and `;` as separator: what German Excel opens directly."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([csv_safe(label) for _key, label in CSV_COLUMNS])
    proposals = list(proposals)
    answered = questions.answered_of(proposals)
    for p in proposals:
        writer.writerow(proposal_row(p, answered[p.id]))
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
