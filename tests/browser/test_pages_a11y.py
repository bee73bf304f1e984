"""Every public page passes axe-core (WCAG 2.1 AA) in German and in English, and the skip link
is the first stop on the keyboard."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

PUBLIC_PAGES = {
    "home": lambda d: "/",
    "challenges": lambda d: "/challenges",
    "challenge": lambda d: f"/challenges/{d['challenge']}",
    "pilots": lambda d: "/pilots",
    "pilot": lambda d: f"/pilots/{d['pilot']}",
    "results": lambda d: "/results",
    "open_data": lambda d: "/open-data",
    "organisation": lambda d: f"/organisations/{d['organisation']}",
    "organisations": lambda d: "/organisations",
    "authorities": lambda d: "/behoerden",
    "authority": lambda d: f"/behoerden/{d['authority']}",
    "impressum": lambda d: "/pages/impressum",
    "datenschutz": lambda d: "/pages/datenschutz",
    "barrierefreiheit": lambda d: "/pages/barrierefreiheit",
    "kontakt": lambda d: "/pages/kontakt",
    "leichte_sprache": lambda d: "/leichte-sprache",
    "gebaerdensprache": lambda d: "/gebaerdensprache",
    "barriere_melden": lambda d: "/barrierefreiheit/rueckmeldung",
    "login": lambda d: "/login",
    "register": lambda d: "/register",
    "forgot_password": lambda d: "/password/forgot",
}


@pytest.fixture(scope="module")
def public_data(in_db):
    """A published challenge, an organisation and a published pilot answering the challenge."""

    def _create():
        from innolab.models._base import utcnow
        from tests import factories

        topic = factories.topic(name_de="Künstliche Intelligenz", name_en="Artificial intelligence")
        authority = factories.authority(name="Landesamt für Barrierefreiheitstests")
        challenge = factories.challenge(title="Anträge schneller bearbeiten",
                                        authority_=authority, topics=[topic],
                                        deadline=date.today() + timedelta(days=60))
        owner = factories.user(name="Olga Owner")
        org = factories.organisation(owner=owner, name="Barrierefrei Software GmbH")
        pilot = factories.proposal(org=org, status="running", challenge_=challenge,
                                   title="Antragsassistent mit Sprachausgabe",
                                   pilot_start_date=date.today(), published_at=utcnow())
        pilot.topics.append(topic)
        from innolab.extensions import db

        db.session.commit()
        return {"challenge": challenge.id, "pilot": pilot.id, "organisation": org.slug,
                "authority": authority.slug}

    return in_db(_create)


def _switch_to_english(ui):
    ui.submit(ui.page.get_by_role("button", name="English"))
    assert ui.page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_passes_axe_in_german_and_english(new_ui, public_data, name):
    ui = new_ui(f"Besucherin ({name})")
    path = PUBLIC_PAGES[name](public_data)

    ui.visit(path)  # German (the browser asks for de-DE)
    page = ui.page
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").count() == 1, f"{path}: genau eine Hauptüberschrift erwartet"
    assert page.title().endswith("InnoLab des ZDMV")

    _switch_to_english(ui)  # the language button, back to the same page, checked by axe
    assert page.url.split("?")[0].endswith(path.rstrip("/") or "/")
    assert page.locator("h1").count() == 1
    assert page.get_by_role("button", name="Deutsch").is_visible()


@pytest.mark.parametrize("path", ["/", "/login", "/pilots"])
def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(new_ui, path):
    ui = new_ui("Tastatur")
    for english in (False, True):
        if english:
            _switch_to_english(ui)
        else:
            ui.visit(path)
        page = ui.page
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const el = document.activeElement; const box = el.getBoundingClientRect();"
            " return {cls: el.className, href: el.getAttribute('href'),"
            " text: el.textContent.trim(),"
            " left: box.left, top: box.top, width: box.width}; }"
        )
        assert "skip-link" in focused["cls"], \
            f"Erster Tab-Stopp ist nicht der Sprunglink: {focused}"
        assert focused["href"] == "#main"
        if not english:
            assert focused["text"] == "Zum Inhalt springen"
        # visible while focused (it sits off-screen otherwise)
        assert focused["left"] >= 0 and focused["top"] >= 0 and focused["width"] > 0, focused
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.id === 'main'")
        assert re.search(r"#main$", page.url)


def test_form_errors_pass_axe_and_focus_the_error_summary(new_ui):
    ui = new_ui("Fehlerfall")
    ui.visit("/register")
    page = ui.page
    ui.submit(page.locator("main").get_by_role("button", name="Registrieren"), status=422)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Bitte prüfen Sie Ihre Eingaben")
    # each error links to its field, and the field says it is invalid
    first = summary.get_by_role("link").first
    target = first.get_attribute("href")
    assert target.startswith("#")
    field = page.locator(target)
    expect(field).to_have_attribute("aria-invalid", "true")
    first.click()
    expect(field).to_be_focused()


def test_not_found_page_passes_axe(new_ui):
    ui = new_ui("Irrläufer")
    ui.visit("/pilots/999999", status=404)
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Seite nicht gefunden")
    ui.submit(ui.page.get_by_role("link", name="Zur Startseite"))
