"""The pilot workspace in two browsers at once: partner and coordinator on the same pilot.

A message one of them sends appears at the other's without a reload (htmx polling); an
internal note of the coordinator never appears at the partner's. axe-core checks the page.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

PARTNER = ("paula.partner@example.org", "Paula Partner")
COORDINATOR = ("jens.koordination@example.org", "Jens Koordination")


def _set_up(in_db) -> int:
    """A running pilot with one goal; the partner owns the proposing organisation."""

    def build():
        from tests import factories as f

        partner = f.user(email=PARTNER[0], name=PARTNER[1])
        f.staff("coordinator", email=COORDINATOR[0], name=COORDINATOR[1])
        org = f.organisation(owner=partner, name="Ostseewerk Software GmbH")
        p = f.proposal(org=org, status="running", title="Digitale Poststelle im Landesamt")
        f.goal(p)
        _milestones_and_document(p, partner)
        return p.id

    return in_db(build)


def _milestones_and_document(p, partner) -> None:
    """So that axe also checks the milestone and document tables."""
    import secrets
    from datetime import date, timedelta

    from innolab.extensions import db
    from innolab.models import Document, DocumentVersion, Milestone
    from innolab.models._base import utcnow

    db.session.add_all([
        Milestone(proposal=p, title="Auftakt", due_date=date.today() - timedelta(days=9),
                  done_at=utcnow(), description="Zugänge eingerichtet"),
        Milestone(proposal=p, title="Schnittstelle", due_date=date.today() - timedelta(days=2)),
    ])
    doc = Document(proposal=p, title="Betriebskonzept")
    db.session.add(doc)
    for n in (1, 2):
        doc.versions.append(DocumentVersion(
            number=n, filename=f"konzept-v{n}.pdf", stored_name=secrets.token_hex(16),
            content_type="application/pdf", size=1000, uploaded_by_id=partner.id))
    db.session.commit()


def _sign_in(ui, email: str) -> None:
    from tests import factories

    ui.visit(ui.url_for("auth.login"))
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(factories.PASSWORD)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def _send(ui, text: str, internal: bool = False) -> None:
    """Send a message through the form; htmx swaps the conversation in place (no page load)."""
    page = ui.page
    loads = len(ui.loads)
    page.get_by_label("Nachricht", exact=True).fill(text)
    if internal:
        page.get_by_label("Interne Notiz (nur für das InnoLab-Team sichtbar)").check()
    page.get_by_role("button", name="Nachricht senden").click()
    expect(page.locator("#messages").get_by_text(text)).to_be_visible()
    ui.wait_for_htmx()
    expect(page.get_by_label("Nachricht", exact=True)).to_have_value("")  # the form is cleared
    assert len(ui.loads) == loads, "Das Senden hat die Seite neu geladen."
    ui.check()


def test_workspace_message_appears_in_other_browser_without_reload(new_ui, in_db):
    proposal_id = _set_up(in_db)
    partner, coordinator = new_ui("Partnerin"), new_ui("Koordination")
    _sign_in(partner, PARTNER[0])
    _sign_in(coordinator, COORDINATOR[0])
    url = partner.url_for("pilots.workspace", proposal_id=proposal_id)
    partner.visit(url)
    coordinator.visit(url)
    expect(partner.page.get_by_role("heading", level=1)).to_contain_text(
        "Digitale Poststelle im Landesamt")
    expect(partner.page.get_by_text("Bearbeitungszeit je Antrag")).to_be_visible()
    expect(partner.page.locator("#milestones").get_by_text("überfällig")).to_be_visible()
    expect(partner.page.get_by_role("link", name="konzept-v2.pdf")).to_be_visible()
    for ui in (partner, coordinator):
        ui.page.evaluate("() => { window.__stillSamePage = true; }")
    loads = len(coordinator.loads)

    # the partner writes; the coordinator's page shows it by itself
    _send(partner, "Die Schnittstelle zum Fachverfahren ist fertig.")
    expect(coordinator.page.locator("#messages").get_by_text(
        "Die Schnittstelle zum Fachverfahren ist fertig.")).to_be_visible(timeout=10_000)
    assert coordinator.page.evaluate("() => window.__stillSamePage === true")
    assert len(coordinator.loads) == loads
    coordinator.check()

    # an internal note stays with the staff; the next normal message reaches the partner
    _send(coordinator, "Intern: Budget für die Verlängerung noch offen.", internal=True)
    _send(coordinator, "Danke, wir testen morgen gemeinsam.")
    expect(partner.page.locator("#messages").get_by_text(
        "Danke, wir testen morgen gemeinsam.")).to_be_visible(timeout=10_000)
    assert partner.page.evaluate("() => window.__stillSamePage === true")
    expect(partner.page.get_by_text("Budget für die Verlängerung")).to_have_count(0)
    expect(partner.page.get_by_label("Interne Notiz (nur für das InnoLab-Team sichtbar)")
           ).to_have_count(0)
    partner.check()

    # the pages behind the workspace pass axe as well
    partner.submit(partner.page.get_by_role("link", name="Betriebskonzept", exact=True))
    expect(partner.page.get_by_text("konzept-v1.pdf")).to_be_visible()  # old versions kept
    coordinator.submit(coordinator.page.locator("#milestones").get_by_role(
        "link", name=re.compile(r"Bearbeiten\W*Schnittstelle")))
    expect(coordinator.page.get_by_label("Meilenstein")).to_have_value("Schnittstelle")


def test_goals_agreed_before_start(new_ui, in_db):
    """The partner sets a goal while the pilot is approved; the coordinator then starts it."""

    def build():
        from tests import factories as f

        partner = f.user(email="goals.partner@example.org", name="Greta Ziel")
        f.staff("coordinator", email="goals.koordination@example.org", name="Karl Start")
        org = f.organisation(owner=partner, name="Haffwerk GmbH")
        return f.proposal(org=org, status="approved", title="Online-Terminvergabe").id

    proposal_id = in_db(build)
    partner = new_ui("Partnerin")
    _sign_in(partner, "goals.partner@example.org")
    partner.visit(partner.url_for("proposals.show", proposal_id=proposal_id))
    partner.submit(partner.page.get_by_role("link", name="Ziele festlegen und bearbeiten"))
    page = partner.page
    page.get_by_label("Ziel", exact=True).fill("Wartezeit am Schalter")
    partner.submit(page.get_by_role("button", name="Ziel speichern"), status=422)
    expect(page.get_by_role("alert")).to_contain_text("Bitte geben Sie den Zielwert an.")
    expect(page.get_by_label("Ziel", exact=True)).to_have_value("Wartezeit am Schalter")
    page.get_by_label("Ausgangswert").fill("40 Minuten")
    page.get_by_label("Zielwert").fill("10 Minuten")
    page.get_by_label("Wie wird gemessen?").fill("Zählung am Schalter, wöchentlich")
    partner.submit(page.get_by_role("button", name="Ziel speichern"))
    expect(page.get_by_role("row", name=re.compile("Wartezeit am Schalter"))).to_be_visible()

    coordinator = new_ui("Koordination")
    _sign_in(coordinator, "goals.koordination@example.org")
    coordinator.visit(coordinator.url_for("review.proposal", proposal_id=proposal_id))
    expect(coordinator.page.locator("#pilot-goals")).to_contain_text("10 Minuten")
    coordinator.page.get_by_label("Startdatum des Piloten").fill("2026-12-01")
    coordinator.submit_confirmed(coordinator.page.get_by_role("button", name="Pilot starten"))
    coordinator.submit(coordinator.page.get_by_role("link", name="Zum Projektraum des Piloten"))
    expect(coordinator.page.locator("#pilot-goals")).to_contain_text("Wartezeit am Schalter")
    expect(coordinator.page.get_by_role("link", name="Ziele festlegen und bearbeiten")
           ).to_have_count(0)


def test_a_file_over_the_limit_is_refused_with_a_message_and_the_text_kept(new_ui, in_db,
                                                                             live_app):
    """htmx does not swap an error answer: without the page's own handling a 413 showed
    nothing at all. Now the message area says what happened; what was typed stays."""
    def build():  # the module's database is shared by its tests: people of its own
        from tests import factories as f

        partner = f.user(email="lena.limit@example.org", name="Lena Limit")
        p = f.proposal(org=f.organisation(owner=partner, name="Grenzwert GmbH"),
                       status="running", title="Elektronische Abnahme")
        f.goal(p)
        return p.id

    proposal_id = in_db(build)
    partner = new_ui("Partnerin")
    _sign_in(partner, "lena.limit@example.org")
    partner.visit(partner.url_for("pilots.workspace", proposal_id=proposal_id))
    page = partner.page
    limit = live_app.config["MAX_CONTENT_LENGTH"]
    live_app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        page.get_by_label("Nachricht", exact=True).fill("Hier das Protokoll der Abnahme.")
        page.get_by_label("Dateien anhängen").set_input_files(
            {"name": "protokoll.pdf", "mimeType": "application/pdf",
             "buffer": b"%PDF-1.4\n" + b"0" * (200 * 1024)})
        page.get_by_role("button", name="Nachricht senden").click()
        alert = page.locator("[data-request-failed][role=alert]")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("Datei")
        expect(alert).to_contain_text("größer als erlaubt")
    finally:
        live_app.config["MAX_CONTENT_LENGTH"] = limit
    expect(page.get_by_label("Nachricht", exact=True)).to_have_value(
        "Hier das Protokoll der Abnahme.")
    expect(page.locator("#messages").get_by_text("Protokoll der Abnahme")).to_have_count(0)
    # a request that succeeds takes the notice away
    page.get_by_label("Dateien anhängen").set_input_files([])
    page.get_by_role("button", name="Nachricht senden").click()
    expect(page.locator("#messages").get_by_text("Hier das Protokoll der Abnahme.")
           ).to_be_visible()
    expect(page.locator("[data-request-failed]")).to_have_count(0)
    partner.check()
