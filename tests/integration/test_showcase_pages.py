"""Footer pages (defaults and admin texts) and the language switch."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from innolab.domain import pages
from innolab.extensions import db
from innolab.models import PAGE_SLUGS, AuditEvent, SitePage, User
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- footer pages


@pytest.mark.parametrize("slug", PAGE_SLUGS)
def test_page_default_shown_in_german(client, slug):
    response = client.get(f"/pages/{slug}")
    body = text(response)
    assert response.status_code == 200
    assert pages.DEFAULTS[slug]["de"]["title"] in body
    assert body.count("<h1") == 1
    assert "poststelle@zd.mv-regierung.de" in body


def test_page_kontakt_default_has_hotline_and_hours(client):
    body = text(client.get("/pages/kontakt"))
    assert 'href="mailto:poststelle@zd.mv-regierung.de"' in body
    assert "0385 588 57777" in body
    assert "Dienstag 13–16 Uhr" in body and "Donnerstag 9–12 Uhr" in body


def test_page_impressum_default_names_the_zdmv(client):
    body = text(client.get("/pages/impressum"))
    assert "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)" in body
    assert "Lübecker Straße 287" in body and "19059 Schwerin" in body
    assert "Ministerium für Inneres, Bau und Digitalisierung" in body  # the supervisory body
    assert "ergänzt" not in body  # no placeholder text: missing fields warn admins instead


def test_page_datenschutz_default_names_legal_bases_and_rights(client):
    body = text(client.get("/pages/datenschutz"))
    assert "Art. 6 Abs. 1 Buchstabe e DSGVO" in body
    assert "Art. 6 Abs. 1 Buchstabe b DSGVO" in body
    assert "§ 4 DSG M-V" in body
    assert "Auskunft" in body and "Löschung" in body


def test_page_barrierefreiheit_default_names_standard_and_enforcement_body(client):
    body = text(client.get("/pages/barrierefreiheit"))
    assert "BITV 2.0" in body and "WCAG" in body and "2.1" in body
    assert "§ 14 Absatz 1" in body and "BITVO M-V" in body
    assert "Durchsetzungsverfahren" in body and "Überwachungsstelle" in body


def test_page_default_in_english_when_english_chosen(client):
    client.set_cookie("lang", "en")
    body = text(client.get("/pages/kontakt"))
    assert "<title>Contact" in body
    assert "Tuesdays" in body
    assert '<html lang="en">' in body


def test_page_unknown_slug_is_404(client):
    assert client.get("/pages/agb").status_code == 404
    assert client.get("/pages/..%2Fadmin").status_code == 404


def test_page_admin_text_overrides_default_for_its_language_only(client):
    db.session.add(SitePage(slug="impressum", locale="de", title="Impressum (geprüft)",
                            body="## Anschrift\n\nMusterstraße 1, 19053 Schwerin\n\n"
                                 "<script>alert(1)</script>"))
    db.session.commit()
    body = text(client.get("/pages/impressum"))
    assert "Impressum (geprüft)" in body
    assert "<h2>Anschrift</h2>" in body
    assert "Musterstraße 1" in body
    assert "<script>alert(1)</script>" not in body
    assert "Stand:" in body
    client.set_cookie("lang", "en")
    body = text(client.get("/pages/impressum"))
    assert "Legal notice" in body and "Musterstraße" not in body


def test_get_page_returns_default_then_row(app_ctx):
    page = pages.get_page("kontakt", "de")
    assert page.customised is False and page.title == "Kontakt"
    db.session.add(SitePage(slug="kontakt", locale="de", title="Ihr Kontakt", body="Text"))
    db.session.commit()
    page = pages.get_page("kontakt", "de")
    assert page.customised is True and page.title == "Ihr Kontakt" and page.body == "Text"
    assert pages.get_page("kontakt", "en").title == "Contact"
    assert pages.get_page("nichts", "de") is None
    assert pages.get_page("kontakt", "fr").locale == "de"


# ---------------------------------------------------------------- language switch


def test_language_switch_sets_cookie_and_changes_the_ui_language(client):
    response = client.post("/language", data={"lang": "en", "next": "/challenges?status=open"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/challenges?status=open")
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    body = text(client.get("/"))
    assert '<html lang="en">' in body
    assert 'name="lang" value="de"' in body  # the switch now offers German
    client.post("/language", data={"lang": "de", "next": "/"})
    assert '<html lang="de">' in text(client.get("/"))


def test_language_switch_ignores_unknown_language(client):
    response = client.post("/language", data={"lang": "fr", "next": "/"})
    assert response.status_code == 303
    assert client.get_cookie("lang") is None
    assert '<html lang="de">' in text(client.get("/"))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x",
                                    "/\\evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location


def test_language_switch_stores_locale_of_signed_in_user(client, login):
    user = f.user(locale="de")
    login(user)
    client.post("/language", data={"lang": "en", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "user.set_locale")).scalar_one()
    assert event.actor_id == user.id and event.details == {"old": "de", "new": "en"}
    # the user's choice wins over the browser and follows them to another device
    other = client.application.test_client()
    login(db.session.get(User, user.id), other)
    assert '<html lang="en">' in text(other.get("/", headers={"Accept-Language": "de"}))


def test_a_message_made_in_german_and_shown_on_an_english_page_is_marked_german(client):
    # A visitor asks for a page that needs an account (German): the sign-in notice waits in
    # the session; the next page shown is English.
    assert client.get("/proposals/").status_code == 302
    client.set_cookie("lang", "en")
    body = text(client.get("/"))
    assert '<html lang="en">' in body
    notice = re.search(r'<div class="kern-alert[^>]*>(?:(?!</div>).)*Bitte melden Sie sich an',
                       body, re.S)
    assert notice and 'lang="de"' in notice.group(0), body[:200]


def test_a_message_is_not_marked_on_a_page_of_its_own_language(client):
    client.set_cookie("lang", "en")
    assert client.get("/proposals/").status_code == 302
    body = text(client.get("/auth/login"))
    assert "Please sign in to view this page." in body
    assert re.search(r'<div class="kern-alert[^>]*lang=', body) is None


# ---------------------------------------------------------------- no cookie for visitors


def test_a_visitor_gets_no_cookie_on_any_public_page(client, app):
    """A first visit starts no session: no page of the site map, no feed and no API answer
    sets a cookie, so a shared cache may keep public pages (and nobody is tracked)."""
    challenge = f.challenge()
    f.proposal(status="running", challenge_=challenge, publication_consent=True,
               published_at=utcnow(), pilot_start_date=date(2026, 3, 1))
    sitemap = client.get("/sitemap.xml")
    addresses = sorted({re.sub(r"^https?://[^/]+", "", loc)
                        for loc in re.findall(r"<loc>([^<]+)</loc>", text(sitemap))})
    assert any("/pilots/" in a for a in addresses) and any("/challenges/" in a for a in addresses)
    addresses += ["/", "/feeds/pilots.atom", "/feeds/challenges.atom", "/api/v1/pilots",
                  "/api/v1/challenges", "/pilots?q=Pilot&status=running", "/sitemap.xml"]
    for address in addresses:
        visitor = app.test_client()
        response = visitor.get(address)
        assert response.status_code == 200, address
        assert "Set-Cookie" not in response.headers, (address, response.headers["Set-Cookie"])
    # the switch on those pages is a form without a token, and it works as before
    visitor = app.test_client()
    body = text(visitor.get("/pilots"))
    assert 'name="lang" value="en"' in body and "csrf_token" not in body


def test_only_a_signed_in_persons_language_switch_carries_and_needs_a_token(client, app, login):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        visitor = app.test_client()
        response = visitor.post("/language", data={"lang": "en", "next": "/pilots"})
        assert response.status_code == 303 and visitor.get_cookie("lang").value == "en"

        user = f.user(locale="de")
        login(user)
        page = text(client.get("/"))
        assert re.search(r'class="lang-switch".*?name="csrf_token"', page, re.S)
        refused = client.post("/language", data={"lang": "en", "next": "/"})
        assert refused.status_code == 400
        db.session.expire_all()
        assert db.session.get(User, user.id).locale == "de"  # nothing stored without it
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        accepted = client.post("/language", data={"lang": "en", "next": "/",
                                                  "csrf_token": token})
        assert accepted.status_code == 303
        db.session.expire_all()
        assert db.session.get(User, user.id).locale == "en"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
