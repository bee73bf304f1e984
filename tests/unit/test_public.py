"""The rules of what is public (domain.showcase) and the footer page defaults (domain.pages)."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from innolab.domain import legal, pages, showcase
from innolab.models import PAGE_SLUGS, Challenge, Organisation, Proposal, Status
from innolab.models._base import utcnow
from innolab.web.text import markdown

PUBLIC_FIELDS = {"id", "title", "summary", "status", "organisation", "authority", "challenge",
                 "topics", "pilot_start_date", "published_at", "title_en", "summary_en"}


def pilot(status="running", consent=True, published=True, challenge=None) -> Proposal:
    org = Organisation(id=7, name="Muster GmbH", slug="muster", kind="startup",
                       website="https://muster.example", city="Rostock", description="Profil")
    return Proposal(id=1, title="T", public_summary="S", status=status, organisation=org,
                    publication_consent=consent, problem="geheim", contact_email="x@example.org",
                    published_at=utcnow() if published else None, challenge=challenge)


@pytest.mark.parametrize("status", [s.value for s in Status])
@pytest.mark.parametrize("consent", [True, False])
@pytest.mark.parametrize("published", [True, False])
def test_pilot_public_only_when_all_three_conditions_hold(status, consent, published):
    expected = status in ("approved", "running", "completed") and consent and published
    assert showcase.is_public_pilot(pilot(status, consent, published)) is expected


def test_pilot_never_public_when_rejected_or_withdrawn():
    for status in ("rejected", "withdrawn", "cancelled", "draft"):
        assert not showcase.is_public_pilot(pilot(status))
    assert not showcase.is_public_pilot(None)


def test_public_pilot_carries_only_public_fields():
    assert {fld.name for fld in dataclasses.fields(showcase.PublicPilot)} == PUBLIC_FIELDS
    view = showcase.PublicPilot.of(pilot())
    assert not hasattr(view, "problem") and not hasattr(view, "contact_email")
    assert {fld.name for fld in dataclasses.fields(view.organisation)} == {
        "id", "name", "slug", "kind", "city", "website", "description"}


def test_public_pilot_refuses_a_private_proposal():
    with pytest.raises(ValueError):
        showcase.PublicPilot.of(pilot("rejected"))


def test_public_pilot_hides_a_draft_challenge():
    draft = Challenge(id=3, title="Entwurf", status="draft", deadline=date.today())
    assert showcase.PublicPilot.of(pilot(challenge=draft)).challenge is None
    published = Challenge(id=4, title="Offen", status="published", deadline=date.today())
    assert showcase.PublicPilot.of(pilot(challenge=published)).challenge is published


@pytest.mark.parametrize("status, public", [("draft", False), ("published", True),
                                            ("closed", True)])
def test_challenge_public_once_published(status, public):
    assert showcase.is_public_challenge(Challenge(status=status)) is public


def test_challenge_state_open_until_deadline_day():
    today = date(2026, 6, 1)
    c = Challenge(status="published", deadline=today)
    assert showcase.challenge_state(c, today) == showcase.OPEN
    assert showcase.challenge_state(c, today + timedelta(days=1)) == showcase.CLOSED
    assert showcase.challenge_state(Challenge(status="closed", deadline=today + timedelta(days=9)),
                                    today) == showcase.CLOSED


@pytest.mark.parametrize("url, shown", [("https://a.example", "https://a.example"),
                                        ("http://a.example", "http://a.example"),
                                        ("javascript:alert(1)", None), ("ftp://x", None),
                                        (None, None), ("", None)])
def test_organisation_website_only_http(url, shown):
    org = Organisation(id=1, name="N", slug="n", kind="other", website=url)
    assert showcase.PublicOrganisation.of(org).website == shown


# ---------------------------------------------------------------- pages


def test_public_pages_defaults_cover_every_slug_and_language():
    assert set(pages.DEFAULTS) == set(PAGE_SLUGS)
    for slug in PAGE_SLUGS:
        for locale in pages.LOCALES:
            text = pages.DEFAULTS[slug][locale]
            assert text["title"].strip() and text["body"].strip()
            # the ZDMV's contact: in the text, or in the page's mandatory details (fields)
            in_fields = "email" in legal.PAGE_FIELDS.get(slug, ())
            assert in_fields or pages.CONTACT_EMAIL in text["body"], slug
    email = next(f for f in legal.FIELDS if f.name == "email")
    assert email.default == pages.CONTACT_EMAIL


def test_public_pages_defaults_render_as_safe_markdown():
    for slug in PAGE_SLUGS:
        html = str(markdown(pages.DEFAULTS[slug]["de"]["body"]))
        assert "<h2>" in html and "<h1" not in html and "<script" not in html


def test_public_pages_default_page_falls_back_to_german():
    assert pages.default_page("kontakt", "fr").locale == "de"
    assert pages.default_page("kontakt", "en_GB").title == "Contact"
    assert pages.default_page("unbekannt", "de") is None
