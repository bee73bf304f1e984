"""The results report in a real browser, in German, through the real pages.

A pilot is running (set up with the factories in the live database). The partner writes the
report and submits it; the coordinator sends it back with a comment; the partner revises and
submits again; the coordinator accepts it (the pilot is completed) and publishes the results; a
visitor finds them in the results overview and on the pilot's page. axe-core checks every page.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

TITLE = "Digitale Terminvergabe im Bürgerbüro"
GOAL_1 = "Wartezeit im Bürgerbüro"
GOAL_2 = "Online gebuchte Termine"
SUMMARY = "Die Terminvergabe hat die Wartezeit im Bürgerbüro deutlich verkürzt."
COMMENT = "Bitte ergänzen Sie die laufenden Kosten für den Betrieb."
PARTNER = ("paula.partner@terminwerk.example", "Terminwerk GmbH")


@pytest.fixture(scope="module")
def setting(in_db, staff_account):
    coordinator = staff_account("coordinator", email="koordination@zdmv.example",
                                name="Klara Koordination")

    def _create():
        from tests import factories

        partner = factories.user(email=PARTNER[0], name="Paula Partner")
        org = factories.organisation(owner=partner, name=PARTNER[1])
        p = factories.proposal(org, status="running", title=TITLE,
                               public_summary="Termine im Bürgerbüro online buchen.",
                               contact_email="geheim@terminwerk.example",
                               pilot_start_date=date.today() - timedelta(days=90))
        factories.goal(p, title=GOAL_1, baseline="45 Minuten", target="15 Minuten",
                       measurement="Zeiterfassung am Empfang")
        factories.goal(p, title=GOAL_2, baseline="0 %", target="70 %",
                       measurement="Auswertung des Buchungssystems")
        return p.id

    proposal_id = in_db(_create)
    return {"proposal_id": proposal_id, "coordinator": coordinator,
            "partner": (PARTNER[0], PASSWORD)}


def sign_in(ui, email: str, password: str) -> None:
    ui.visit(ui.url_for("auth.login"))
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def _status(in_db, proposal_id):
    def _read():
        from innolab.extensions import db
        from innolab.models import Proposal

        p = db.session.get(Proposal, proposal_id)
        r = p.results_report
        return p.status, (r.status if r else None), (r.published_at is not None if r else None)

    return in_db(_read)


def test_results_report_from_writing_to_the_showcase(new_ui, setting, in_db, mails):
    proposal_id = setting["proposal_id"]

    # ---- the partner writes the report and submits it
    partner = new_ui("Partnerin")
    sign_in(partner, *setting["partner"])
    report_url = partner.url_for("results.edit", proposal_id=proposal_id)
    partner.visit(report_url)
    page = partner.page
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ergebnisbericht")
    for goal, value, reached in ((GOAL_1, "12 Minuten", "Ja, erreicht"),
                                 (GOAL_2, "64 %", "Nein, nicht (vollständig) erreicht")):
        main.get_by_label(f"Erreichter Wert für „{goal}“").fill(value)
        main.get_by_role("group", name=f"Zielwert erreicht? – {goal}").get_by_label(
            reached).check()
    main.get_by_label(f"Erläuterung zu „{GOAL_2}“").fill("Ältere Menschen buchen am Telefon.")
    main.get_by_label("Zusammenfassung", exact=True).fill(SUMMARY)
    main.get_by_label("Was hat funktioniert?", exact=True).fill("Die Erinnerung per SMS.")
    main.get_by_label("Was hat nicht funktioniert?", exact=True).fill(
        "Die Anbindung an das Einwohnermeldeverfahren.")
    main.get_by_label("Erkenntnisse (Lessons Learned)").fill("Telefonische Buchung mitdenken.")
    main.get_by_role("group", name="Empfehlung").get_by_label("Ausrollen").check()
    main.get_by_label(re.compile("nachzunutzen")).fill("Ein Buchungssystem und zwei Tage "
                                                       "Schulung.")
    main.get_by_label(re.compile("Wir stimmen zu")).check()
    partner.submit(main.get_by_role("button", name="Bericht einreichen"))
    expect(main).to_contain_text("Ihr Bericht ist eingereicht")
    assert _status(in_db, proposal_id) == ("running", "submitted", False)
    assert any("Ergebnisbericht" in m.subject for m in mails("koordination@zdmv.example"))

    # ---- the coordinator sends it back with a comment
    coordinator = new_ui("Koordination")
    sign_in(coordinator, *setting["coordinator"])
    coordinator.visit(report_url)
    cpage = coordinator.page
    cmain = cpage.locator("main")
    expect(cmain).to_contain_text(SUMMARY)
    expect(cmain.get_by_role("table")).to_contain_text("12 Minuten")
    cmain.get_by_label("Was soll die Partnerorganisation überarbeiten?").fill(COMMENT)
    coordinator.submit(cmain.get_by_role("button", name="Zur Überarbeitung zurückgeben"))
    expect(cmain).to_contain_text("zur Überarbeitung zurückgegeben")
    assert _status(in_db, proposal_id)[1] == "returned"

    # ---- the partner sees the comment, revises and submits again
    partner.visit(report_url)
    expect(main).to_contain_text(COMMENT)
    box = main.get_by_label(re.compile("nachzunutzen"))
    expect(box).to_have_value("Ein Buchungssystem und zwei Tage Schulung.")
    box.fill("Ein Buchungssystem, zwei Tage Schulung und etwa 300 Euro Betriebskosten im Monat.")
    partner.submit(main.get_by_role("button", name="Bericht einreichen"))
    expect(main).to_contain_text("Ihr Bericht ist eingereicht")

    # ---- the coordinator accepts it (the pilot is completed) and publishes the results
    coordinator.visit(report_url)
    expect(cmain).to_contain_text("300 Euro Betriebskosten")
    coordinator.submit_confirmed(
        cmain.get_by_role("button", name="Bericht annehmen und Pilot abschließen"))
    expect(cmain).to_contain_text("Der Ergebnisbericht wurde angenommen")
    expect(cmain).to_contain_text("Abgeschlossen")
    assert _status(in_db, proposal_id)[:2] == ("completed", "accepted")
    coordinator.submit_confirmed(cmain.get_by_role("button", name="Ergebnisse veröffentlichen"))
    expect(cmain).to_contain_text("Die Ergebnisse sind im Schaufenster veröffentlicht.")
    expect(cmain.get_by_role("list").filter(has_text="Ergebnisbericht angenommen")).to_be_visible()
    assert _status(in_db, proposal_id) == ("completed", "accepted", True)

    # ---- a visitor finds the results in the overview and on the pilot's page
    visitor = new_ui("Besucher")
    vpage = visitor.page
    visitor.visit("/")
    visitor.submit(vpage.get_by_role("navigation", name="Hauptnavigation")
                   .get_by_role("link", name="Ergebnisse", exact=True))
    vmain = vpage.locator("main")
    expect(vpage.get_by_role("heading", level=1)).to_have_text("Ergebnisse")
    expect(vmain).to_contain_text("Empfehlung: Ausrollen")
    expect(vmain).to_contain_text("1 von 2 Zielen erreicht")
    visitor.submit(vmain.get_by_role("link", name=TITLE))
    expect(vpage.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(vmain.get_by_role("heading", name="Ergebnisse")).to_be_visible()
    table = vmain.get_by_role("table")
    expect(table).to_contain_text("45 Minuten")
    expect(table).to_contain_text("12 Minuten")
    expect(vmain).to_contain_text("300 Euro Betriebskosten")
    # nothing private on the showcase
    expect(vmain).not_to_contain_text(COMMENT)
    expect(vmain).not_to_contain_text("geheim@terminwerk.example")
    expect(vmain).not_to_contain_text("Ältere Menschen buchen am Telefon.")
