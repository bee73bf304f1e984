"""The legal and accessibility pages in a real browser: the header links to Leichte Sprache and
Gebärdensprache, the feedback form (errors, then sent), the admins' warning about empty
mandatory fields, and the DGS video an admin uploads. axe-core checks every page visited."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

ADMIN_EMAIL = "ada.admin@zdmv.example"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4096


@pytest.fixture(scope="module")
def admin(staff_account):
    return staff_account("admin", email=ADMIN_EMAIL, name="Ada Admin")


def _sign_in(ui, email):
    ui.visit("/login")
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


@pytest.mark.parametrize("start", ["/", "/pilots", "/pages/datenschutz", "/login"])
def test_header_leads_to_easy_read_and_sign_language(new_ui, start):
    ui = new_ui(f"Kopfzeile ({start})")
    ui.visit(start)
    page = ui.page
    header = page.locator("header")
    ui.submit(header.get_by_role("link", name="Leichte Sprache"))
    assert page.url.endswith("/leichte-sprache")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leichte Sprache")
    expect(header.get_by_role("link", name="Leichte Sprache")).to_have_attribute(
        "aria-current", "page")
    ui.submit(header.get_by_role("link", name="Gebärdensprache"))
    assert page.url.endswith("/gebaerdensprache")
    expect(page.get_by_text("Das Video in Gebärdensprache wird gerade erstellt.")).to_be_visible()


def test_feedback_form_shows_errors_then_sends(new_ui, mails):
    ui = new_ui("Rückmeldung")
    ui.visit("/pages/barrierefreiheit")
    page = ui.page
    ui.submit(page.locator("main").get_by_role("link", name="Barriere melden"))
    page.get_by_label("Ihr Name").fill("Bruno Browser")
    page.get_by_label("Ihre E-Mail-Adresse").fill("bruno-at-example")
    ui.submit(page.get_by_role("button", name="Rückmeldung senden"), status=422)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Bitte geben Sie eine gültige E-Mail-Adresse an")
    expect(summary).to_contain_text("Bitte beschreiben Sie, was nicht barrierefrei ist.")
    expect(page.get_by_label("Ihr Name")).to_have_value("Bruno Browser")
    expect(page.get_by_label("Ihre E-Mail-Adresse")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Ihre E-Mail-Adresse").fill("bruno@example.org")
    page.get_by_label("Beschreibung der Barriere").fill(
        "Die Schaltflächen im Filter haben keinen sichtbaren Fokus.")
    ui.submit(page.get_by_role("button", name="Rückmeldung senden"))
    expect(page.locator(".flashes")).to_contain_text("Vielen Dank für Ihre Rückmeldung")
    assert [m.recipient for m in mails("bruno@example.org")] == ["bruno@example.org"]
    unit = [m for m in mails("poststelle@zd.mv-regierung.de")
            if "Die Schaltflächen im Filter" in m.body]
    assert len(unit) == 1


def test_admin_sees_warning_fills_the_fields_and_it_is_gone(new_ui, admin):
    visitor = new_ui("Besucherin")
    visitor.visit("/pages/impressum")
    expect(visitor.page.get_by_text("Pflichtangaben fehlen")).to_have_count(0)

    ui = new_ui("Admin")
    _sign_in(ui, ADMIN_EMAIL)
    ui.visit("/pages/impressum")
    page = ui.page
    warning = page.locator("#legal-missing")
    expect(warning).to_contain_text("Pflichtangaben fehlen")
    ui.submit(warning.get_by_role("link", name="Vertretungsberechtigte Person", exact=False))
    field = page.get_by_label("Vertretungsberechtigte Person", exact=False)
    field.fill("Vorname Name, Direktor")
    page.get_by_label("Inhaltlich verantwortlich nach § 18 Abs. 2 MStV").fill(
        "Vorname Name\nLübecker Straße 287, 19059 Schwerin")
    ui.submit(page.get_by_role("button", name="Speichern"))
    expect(page.locator(".flashes")).to_contain_text("gespeichert")
    ui.visit("/pages/impressum")
    expect(page.locator("#legal-missing")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Vertreten durch: Vorname Name, Direktor")


def test_admin_uploads_dgs_video_shown_with_transcript(new_ui, admin, tmp_path):
    video = tmp_path / "innolab-dgs.mp4"
    video.write_bytes(MP4)
    ui = new_ui("Admin Video")
    _sign_in(ui, ADMIN_EMAIL)
    ui.visit("/admin/sign-language")
    page = ui.page
    page.get_by_label("Transkript (Markdown)").fill("Hallo. Das ist das InnoLab.")
    ui.submit(page.get_by_role("button", name="Speichern"), status=422)  # no file yet
    expect(page.locator("#error-summary")).to_contain_text("Bitte wählen Sie eine Videodatei aus.")
    expect(page.get_by_label("Transkript (Markdown)")).to_have_value("Hallo. Das ist das InnoLab.")
    page.get_by_label("Videodatei in Deutscher Gebärdensprache").set_input_files(str(video))
    ui.submit(page.get_by_role("button", name="Speichern"))
    expect(page.locator(".flashes")).to_contain_text("gespeichert")

    visitor = new_ui("Besucher Video")
    visitor.visit("/gebaerdensprache")
    player = visitor.page.locator("video")
    expect(player).to_have_attribute("controls", "")
    assert player.get_attribute("autoplay") is None
    expect(visitor.page.get_by_role("heading", name="Das Video als Text (Transkript)")
           ).to_be_visible()
    expect(visitor.page.locator("main")).to_contain_text("Hallo. Das ist das InnoLab.")
