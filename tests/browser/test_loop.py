"""The whole loop in a real browser, in German, through the real pages.

A partner registers, confirms the address from the mail, signs in, creates an organisation and
proposes a pilot with a PDF attached; the coordinator assigns a reviewer and starts the review;
the reviewer scores it; the data-protection and information-security officers pass their checks;
the decider approves it with a rationale; the partner sets the pilot's measurable goal; the
coordinator starts the pilot and publishes it; a visitor finds it on the showcase with the
search filter (htmx, no page load) and opens it.

Only set-up goes to the database directly: the staff accounts (as `flask innolab create-admin`
would), two unrelated records the filters must hide, and reading the confirmation mail.
Every page on the way is checked with axe-core (see conftest.UI).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

PASSWORD = "Sonnenblume-Ostsee-2026"

TITLE = "Sprachassistent für Wohngeldanträge"
SUMMARY = "Ein Assistent beantwortet Fragen zum Wohngeld in einfacher Sprache."
RATIONALE = "Überzeugendes Konzept mit klarem Nutzen für die Wohngeldstellen."
GOAL = "Weniger Anrufe in den Wohngeldstellen"

# Minimal but well-formed PDF (checked by content on upload).
PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
       b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 300 200]>> endobj\n"
       b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
       b"0000000115 00000 n \ntrailer <</Size 4 /Root 1 0 R>>\nstartxref\n188\n%%EOF\n")


# --------------------------------------------------------------------------- small helpers


def form_with(page, button_name) -> object:
    """The form that holds the button called `button_name` (pages can have several forms)."""
    return page.locator("main form").filter(has=page.get_by_role("button", name=button_name))


def sign_in(ui, email: str, password: str) -> None:
    ui.visit("/")
    ui.submit(ui.page.get_by_role("navigation", name="Hauptnavigation")
              .get_by_role("link", name="Anmelden"))
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def nav(ui, name) -> None:
    ui.submit(ui.page.get_by_role("navigation", name="Hauptnavigation")
              .get_by_role("link", name=name, exact=True))


def type_and_wait_for_htmx(ui, box, text: str, expect_visible: str, expect_gone: str):
    """Type into a filter box; the results region (#results) must update in place: no page
    load, the address shows the filter (so reload and back work), axe still passes."""
    page = ui.page
    region = page.locator("#results")
    expect(region.get_by_text(expect_gone)).to_be_visible()
    page.evaluate("() => { window.__stillSamePage = true; }")
    loads_before = len(ui.loads)
    box.click()
    box.press_sequentially(text, delay=30)  # key by key, as a person types
    expect(region.get_by_text(expect_gone)).to_have_count(0)
    expect(region.get_by_role("link", name=expect_visible)).to_be_visible()
    ui.wait_for_htmx()
    assert page.evaluate("() => window.__stillSamePage === true"), \
        "Die Filterung hat die Seite neu geladen statt nur den Ergebnisbereich zu ersetzen."
    assert len(ui.loads) == loads_before
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(text)))
    ui.check()  # the swapped region passes axe too


# --------------------------------------------------------------------------- set-up


@pytest.fixture(scope="module")
def staff(staff_account):
    """The ZDMV staff, one person per role (set-up, like `flask innolab create-admin`)."""
    return {
        "coordinator": staff_account("coordinator", email="koordination@zdmv.example",
                                     name="Klara Koordination"),
        "reviewer": staff_account("reviewer", email="gutachten@zdmv.example",
                                  name="Rita Gutachterin"),
        "dpo": staff_account("dpo", email="datenschutz@zdmv.example", name="Dana Datenschutz"),
        "iso": staff_account("iso", email="isb@zdmv.example", name="Ingo Sicherheit"),
        "decider": staff_account("decider", email="leitung@zdmv.example",
                                 name="Dr. Erik Entscheider"),
    }


@pytest.fixture(scope="module")
def decoys(in_db):
    """Records the filters must hide: a submitted proposal and a published pilot."""

    def _create():
        from innolab.models._base import utcnow
        from tests import factories

        factories.proposal(status="submitted", title="Parkraumkarte für Kommunen")
        factories.proposal(status="running", title="Digitale Fischereischeine",
                           pilot_start_date=date.today() - timedelta(days=30),
                           published_at=utcnow())

    in_db(_create)
    return {"inbox": "Parkraumkarte für Kommunen", "pilots": "Digitale Fischereischeine"}


# --------------------------------------------------------------------------- the loop


def test_loop_from_registration_to_published_pilot(new_ui, staff, decoys, mail_link, mails,
                                                    in_db, tmp_path):
    partner_email = "mia.muster@start-up.example"

    # ---- a partner registers and confirms the address from the mail
    partner = new_ui("Partnerin")
    page = partner.page
    partner.visit("/")
    nav(partner, "Registrieren")
    page.get_by_label("E-Mail-Adresse").fill(partner_email)
    page.get_by_label("Name", exact=True).fill("Mia Muster")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    page.get_by_label(re.compile("Datenschutzhinweise")).check()
    partner.submit(page.locator("main").get_by_role("button", name="Registrieren"))
    assert in_db(lambda: _confirmed(partner_email)) is False

    # the link in the mail opens a page with a button (mail scanners do not confirm by GET)
    partner.visit(mail_link(partner_email, "/confirm/"))
    partner.submit(page.locator("main").get_by_role("button", name="E-Mail-Adresse bestätigen"))
    expect(page.get_by_role("status")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
    assert in_db(lambda: _confirmed(partner_email)) is True

    # ---- signs in and creates an organisation
    if not page.get_by_role("button", name="Abmelden").count():
        sign_in(partner, partner_email, PASSWORD)
    nav(partner, "Organisationen")
    partner.submit(page.locator("main").get_by_role("link", name="Organisation anlegen",
                                                    exact=True))
    page.get_by_label("Name der Organisation").fill("Ostsee Sprachtechnik GmbH")
    page.get_by_label("Art der Organisation").select_option(label="Start-up")
    page.get_by_label("Ort").fill("Rostock")
    page.get_by_label("Website").fill("https://ostsee-sprachtechnik.example")
    page.get_by_label("Beschreibung").fill("Wir bauen Sprachassistenten für Behörden.")
    partner.submit(page.locator("main").get_by_role("button", name="Organisation anlegen"))
    expect(page.locator("main")).to_contain_text("Ostsee Sprachtechnik GmbH")

    # ---- proposes a pilot: draft with attachment, then submit
    nav(partner, "Meine Vorschläge")
    partner.submit(page.locator("main").get_by_role("link", name="Neuen Pilotvorschlag anlegen"))
    main = page.locator("main")
    org_select = main.get_by_label("Organisation", exact=True)
    if org_select.count():  # offered when the person belongs to an organisation
        org_select.select_option(label="Ostsee Sprachtechnik GmbH")
    main.get_by_label("Titel", exact=True).fill(TITLE)
    main.get_by_label("Öffentliche Kurzbeschreibung", exact=True).fill(SUMMARY)
    main.get_by_label("Problem", exact=True).fill(
        "Die Wohngeldstellen beantworten täglich dieselben Fragen am Telefon.")
    main.get_by_label("Lösungsvorschlag", exact=True).fill(
        "Ein Sprachassistent auf Basis geprüfter Texte der Wohngeldbehörden.")
    main.get_by_label("Nutzen für die Verwaltung", exact=True).fill(
        "Weniger Anrufe, schnellere Antworten.")
    main.get_by_label("Reifegrad (TRL)", exact=True).select_option(
        label="TRL 6 – Demonstrator in relevanter Umgebung")
    main.get_by_label("Geplante Dauer (Monate)", exact=True).fill("6")
    main.get_by_label("Kostenschätzung (Euro)", exact=True).fill("48000")
    main.get_by_role("group", name="Verarbeitung personenbezogener Daten").get_by_label(
        "Ja, es werden personenbezogene Daten verarbeitet").check()
    main.get_by_label("Art der Verarbeitung personenbezogener Daten", exact=True).fill(
        "Fragen der Bürgerinnen und Bürger werden 30 Tage gespeichert.")
    main.get_by_label("Hosting-Standort", exact=True).fill("Rechenzentrum des ZDMV in Schwerin")
    main.get_by_label("Hinweise zur Informationssicherheit").fill(
        "Betrieb nach BSI IT-Grundschutz.")
    main.get_by_label("Ansprechperson", exact=True).fill("Mia Muster")
    main.get_by_label("E-Mail der Ansprechperson", exact=True).fill(partner_email)
    main.get_by_label("Telefon der Ansprechperson").fill("0381 123456")
    main.get_by_label("im Schaufenster veröffentlicht werden darf").check()
    partner.submit(main.get_by_role("button", name="Als Entwurf speichern"))
    expect(page.locator("main")).to_contain_text(TITLE)
    expect(page.locator("main")).to_contain_text("Entwurf")
    proposal_id = int(re.search(r"/proposals/(\d+)", page.url).group(1))

    # the attachment: an htmx upload that replaces only the attachments region
    pdf = tmp_path / "Projektskizze Sprachassistent.pdf"
    pdf.write_bytes(PDF)
    attachments = page.locator("#attachments")
    page.get_by_label("Datei hinzufügen").set_input_files(str(pdf))
    page.evaluate("() => { window.__stillSamePage = true; }")
    attachments.get_by_role("button", name="Hochladen").click()
    expect(attachments.get_by_role("link", name="Projektskizze Sprachassistent.pdf")) \
        .to_be_visible()
    partner.wait_for_htmx()
    assert page.evaluate("() => window.__stillSamePage === true")
    partner.check()

    partner.submit_confirmed(page.locator("main").get_by_role("button", name="Einreichen"))
    expect(page.locator("main")).to_contain_text("Eingereicht")
    reference = in_db(lambda: _reference(proposal_id))
    assert reference and reference.startswith("IL-")
    expect(page.locator("main")).to_contain_text(reference)

    # ---- the coordinator finds it in the inbox (htmx filter) and assigns a reviewer
    coordinator = new_ui("Koordination")
    sign_in(coordinator, *staff["coordinator"])
    cpage = coordinator.page
    nav(coordinator, "Begutachtung")
    type_and_wait_for_htmx(coordinator, cpage.get_by_role("searchbox", name="Suche"),
                           "Wohngeld", TITLE, decoys["inbox"])
    coordinator.submit(cpage.locator("main").get_by_role("link", name=TITLE))

    assign = form_with(cpage, "Zuweisen")
    assign.get_by_label("Gutachterin oder Gutachter").select_option(
        label="Rita Gutachterin (gutachten@zdmv.example) · 0 offen")
    coordinator.submit(assign.get_by_role("button", name="Zuweisen"))
    expect(cpage.locator("main")).to_contain_text("Rita Gutachterin")
    coordinator.submit(cpage.locator("main").get_by_role("button", name="Begutachtung starten"))
    expect(cpage.locator("main")).to_contain_text("In Begutachtung")

    # ---- the reviewer scores it
    reviewer = new_ui("Gutachterin")
    sign_in(reviewer, *staff["reviewer"])
    rpage = reviewer.page
    nav(reviewer, "Begutachtung")
    reviewer.submit(rpage.locator("main").get_by_role("link", name=TITLE).first)
    # before the content: who proposes it, and the question (keyboard: Space ticks, Enter sends)
    expect(rpage.locator("h1")).to_have_text("Interessenkonflikt prüfen")
    expect(rpage.locator("main")).not_to_contain_text("dieselben Fragen am Telefon")
    confirm = rpage.get_by_label("Ich bestätige, dass mich mit der vorschlagenden Organisation")
    confirm.focus()
    rpage.keyboard.press("Space")
    expect(confirm).to_be_checked()
    reviewer.submit(rpage.get_by_role("button", name="Bestätigen und Vorschlag öffnen"))
    expect(rpage.locator("main")).to_contain_text("Ihre Bestätigung ist vermerkt")
    reviewer.submit(rpage.locator("main").get_by_role("link", name="Gutachten schreiben"))
    for criterion, score in (("Innovationsgrad", "4 – gut"),
                             ("Nutzen für die Verwaltung", "5 – sehr gut"),
                             ("Umsetzbarkeit", "4 – gut"),
                             ("Wirtschaftlichkeit", "3 – befriedigend"),
                             ("Reife für Datenschutz und Informationssicherheit", "4 – gut")):
        rpage.get_by_role("group", name=criterion).get_by_label(score, exact=True).check()
    rpage.get_by_role("group", name="Empfehlung").get_by_label("Bewilligung empfehlen").check()
    rpage.get_by_label("Interner Kommentar").fill("Solide Planung, Datenschutz gut durchdacht.")
    reviewer.submit_confirmed(
        rpage.locator("main").get_by_role("button", name="Gutachten abschließen"))
    expect(rpage.locator("main")).to_contain_text("abgeschlossen")

    # ---- the data-protection and information-security checks
    for role, link_name in (("dpo", "Datenschutzprüfung"),
                            ("iso", "Prüfung der Informationssicherheit")):
        officer = new_ui(role)
        sign_in(officer, *staff[role])
        opage = officer.page
        nav(officer, "Begutachtung")
        officer.submit(opage.locator("main").get_by_role("link", name=TITLE).first)
        card = opage.locator("main .kern-card").filter(
            has=opage.get_by_role("heading", name=link_name, exact=True))
        officer.submit(card.get_by_role("link", name="Ergebnis erfassen"))
        opage.get_by_role("group", name="Ergebnis").get_by_label("bestanden", exact=True).check()
        if role == "dpo":  # the data-protection check also records DSFA and AV-Vertrag
            opage.get_by_role("group", name=re.compile("Datenschutz-Folgenabschätzung")) \
                .get_by_label("nicht erforderlich", exact=True).check()
            opage.get_by_role("group", name=re.compile("Auftragsverarbeitung")) \
                .get_by_label("abgeschlossen", exact=True).check()
        opage.get_by_label("Kommentar").fill("Keine Einwände.")
        officer.submit(opage.locator("main").get_by_role("button", name="Ergebnis speichern"))
        expect(opage.locator("main")).to_contain_text("bestanden")

    # ---- the decider approves with a rationale
    decider = new_ui("Entscheidung")
    sign_in(decider, *staff["decider"])
    dpage = decider.page
    nav(decider, "Begutachtung")
    decider.submit(dpage.locator("main").get_by_role("link", name=TITLE).first)
    approve = form_with(dpage, "Bewilligen")
    approve.get_by_label("Begründung der Bewilligung").fill(RATIONALE)
    decider.submit_confirmed(approve.get_by_role("button", name="Bewilligen"))
    expect(dpage.locator("main")).to_contain_text("Bewilligt")

    # ---- the partner sees the approval and sets the pilot's measurable goal
    partner.visit(partner.url_for("proposals.show", proposal_id=proposal_id))
    expect(page.locator("main")).to_contain_text("Bewilligt")
    expect(page.locator("main")).to_contain_text(RATIONALE)
    partner.submit(page.locator("main").get_by_role("link", name="Ziele festlegen und bearbeiten"))
    goal = form_with(page, "Ziel speichern")
    goal.get_by_label("Ziel", exact=True).fill(GOAL)
    goal.get_by_label("Ausgangswert").fill("120 Anrufe pro Tag")
    goal.get_by_label("Zielwert").fill("höchstens 60 Anrufe pro Tag")
    goal.get_by_label("Wie wird gemessen?").fill("Auswertung der Telefonanlage, monatlich")
    partner.submit(goal.get_by_role("button", name="Ziel speichern"))
    expect(page.get_by_role("table", name="Vereinbarte Ziele")).to_contain_text(GOAL)

    # ---- the coordinator starts the pilot and publishes it
    coordinator.visit(coordinator.page.url)
    expect(cpage.locator("main")).to_contain_text(GOAL)
    start = form_with(cpage, "Pilot starten")
    start.get_by_label("Startdatum des Piloten").fill(date.today().isoformat())
    coordinator.submit_confirmed(start.get_by_role("button", name="Pilot starten"))
    expect(cpage.locator("main")).to_contain_text("Pilot läuft")
    coordinator.submit_confirmed(cpage.locator("main").get_by_role(
        "button", name="Im Schaufenster veröffentlichen"))
    expect(cpage.locator("main")).to_contain_text("im Schaufenster veröffentlicht")

    # ---- the partner sees the running pilot and got the rationale by mail
    partner.visit(partner.url_for("proposals.show", proposal_id=proposal_id))
    expect(page.locator("main")).to_contain_text("Pilot läuft")
    assert any(RATIONALE in m.body for m in mails(partner_email)), \
        "Die Partnerin hat keine Mail mit der Begründung der Bewilligung erhalten."

    # ---- a visitor finds the pilot on the showcase with the search filter and opens it
    visitor = new_ui("Besucher")
    vpage = visitor.page
    visitor.visit("/")
    nav(visitor, "Piloten")
    type_and_wait_for_htmx(visitor, vpage.get_by_role("searchbox", name="Suchbegriff"),
                           "Wohngeld", TITLE, decoys["pilots"])
    visitor.submit(vpage.locator("main").get_by_role("link", name=TITLE).first)
    expect(vpage.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(vpage.locator("main")).to_contain_text(SUMMARY)
    expect(vpage.locator("main")).to_contain_text("Ostsee Sprachtechnik GmbH")
    # nothing internal on the showcase
    expect(vpage.locator("main")).not_to_contain_text("Solide Planung")
    expect(vpage.locator("main")).not_to_contain_text("Projektskizze Sprachassistent.pdf")
    expect(vpage.locator("main")).not_to_contain_text(partner_email)


def _confirmed(email: str) -> bool:
    from innolab.domain.accounts import user_by_email

    return user_by_email(email).email_confirmed


def _reference(proposal_id: int) -> str | None:
    from innolab.extensions import db
    from innolab.models import Proposal

    return db.session.get(Proposal, proposal_id).reference
