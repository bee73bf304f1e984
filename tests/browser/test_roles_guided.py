"""Each role guided by „Meine Aufgaben“ and the notifications, in the real browser.

A partner, the coordinator, a reviewer, the data-protection and information-security officers
and a decider take a proposal with personal data through a whole review, each in a browser of
their own: each lands on „Meine Aufgaben“ after signing in, finds the task and the notification
when it becomes their turn, follows the link, acts, and the task is gone. Then: a condition of a
check blocks the pilot's start until the officer marks it met; and an invitation survives the
invitee's registration (the link from the mail, „Konto anlegen“, the confirmation mail, one
click to join), the owner is told. Set-up that is not the point goes to the database through
the factories; every page on the way is checked with axe-core (see conftest.UI).
"""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

TITLE = "Terminassistent für das Bürgeramt Wismar"
CONDITION = "DSFA vor Start abschließen"
RATIONALE = "Klarer Nutzen für die Bürgerämter, Datenschutz mit Auflage."

PARTNER = ("petra.partner@hansekontor.example", "Petra Partner")
STAFF = {
    "coordinator": ("koordination.guided@zdmv.example", "Konrad Koordination"),
    "reviewer": ("gutachten.guided@zdmv.example", "Greta Gutachterin"),
    "dpo": ("datenschutz.guided@zdmv.example", "Dörte Datenschutz"),
    "iso": ("isb.guided@zdmv.example", "Ivo Informationssicherheit"),
    "decider": ("leitung.guided@zdmv.example", "Dr. Eva Entscheiderin"),
}


# --------------------------------------------------------------------------- what a person sees


def _nav(ui):
    return ui.page.get_by_role("navigation", name="Hauptnavigation")


def _go(ui, name: str) -> None:
    """Follow a link of the main navigation (its name may carry a count)."""
    ui.submit(_nav(ui).get_by_role("link", name=re.compile("^" + re.escape(name))))


def _expect_header(ui, tasks: int, unread: int) -> None:
    """The counts in the header, as a screen reader announces them ("…, 2 offen")."""

    def name(label: str, n: int, word: str):
        return re.compile(f"^{label}$" if not n else rf"^{label}\W+{n} {word}$")

    expect(_nav(ui).get_by_role("link", name=re.compile("^Meine Aufgaben"))
           ).to_have_accessible_name(name("Meine Aufgaben", tasks, "offen"))
    expect(_nav(ui).get_by_role("link", name=re.compile("^Benachrichtigungen"))
           ).to_have_accessible_name(name("Benachrichtigungen", unread, "ungelesen"))


def _sign_in_to_tasks(ui, email: str, password: str | None = None) -> None:
    """The real login form; without a page asked for, it ends on „Meine Aufgaben“."""
    sign_in(ui, email, password)
    _expect_on_tasks(ui)


def _expect_on_tasks(ui) -> None:
    expect(ui.page).to_have_url(ui.url(ui.url_for("tasks.index")))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Meine Aufgaben")


def _task(ui, label: str, title: str = TITLE):
    """The link of a task on „Meine Aufgaben“ (its name: what to do and what about; the
    browser may put a space before the visually hidden ": title")."""
    return ui.page.get_by_role("list", name="Ihre Aufgaben").get_by_role(
        "link", name=_task_name(label, title))


def _task_name(label: str, title: str):
    return re.compile(rf"^{re.escape(label)}\s*:\s*{re.escape(title)}$")


def _task_card(ui, label: str, title: str = TITLE):
    """The whole entry of a task (with its „Zuerst: …“)."""
    return ui.page.get_by_role("list", name="Ihre Aufgaben").get_by_role("listitem").filter(
        has=ui.page.get_by_role("link", name=_task_name(label, title)))


def _expect_nothing_waits(ui) -> None:
    _go(ui, "Meine Aufgaben")
    _expect_on_tasks(ui)
    expect(ui.page.get_by_text("Zurzeit wartet nichts auf Sie.")).to_be_visible()
    _expect_header(ui, tasks=0, unread=0)


def _notification(ui, text: str):
    """An unread notification on the notifications page (a button: opens its link)."""
    return ui.page.get_by_role("list", name="Ihre Benachrichtigungen, neueste zuerst"
                               ).get_by_role("button", name=f"{text} (ungelesen)", exact=True)


def _open_notification(ui, text: str) -> None:
    """From the header's count to the notifications page, then to what the notification is
    about; it is read afterwards."""
    _go(ui, "Benachrichtigungen")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Benachrichtigungen")
    ui.submit(_notification(ui, text))


def _my_turn(ui, who: str, task_label: str, notification: str) -> None:
    """A staff member signs in when it is their turn: the one task waits on „Meine Aufgaben“,
    the header counts it and one unread notification, which leads to what is to be done."""
    _sign_in_to_tasks(ui, STAFF[who][0])
    expect(_task(ui, task_label)).to_be_visible()
    _expect_header(ui, tasks=1, unread=1)
    _open_notification(ui, notification)


def _flash(ui):
    return ui.page.locator("main .flashes")


# --------------------------------------------------------------------------- the review form


def _write_review(ui, proposal_id: int) -> None:
    """The reviewer, on the review form of the proposal, scores every criterion, recommends
    approval and completes the review; ends on the page that confirms it.

    The review desk asks before completing (the dialog, see UI.submit_confirmed)."""
    page = ui.page
    expect(page).to_have_url(ui.url(ui.url_for("review.review", proposal_id=proposal_id)))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Gutachten zu „{TITLE}“")
    for criterion, score in (("Innovationsgrad", "4 – gut"),
                             ("Nutzen für die Verwaltung", "5 – sehr gut"),
                             ("Umsetzbarkeit", "4 – gut"),
                             ("Wirtschaftlichkeit", "3 – befriedigend"),
                             ("Reife für Datenschutz und Informationssicherheit", "4 – gut")):
        page.get_by_role("group", name=criterion).get_by_label(score, exact=True).check()
    page.get_by_role("group", name="Empfehlung").get_by_label("Bewilligung empfehlen").check()
    page.get_by_label("Interner Kommentar").fill("Gut geplant; die DSFA steht noch aus.")
    ui.submit_confirmed(page.locator("main").get_by_role("button", name="Gutachten abschließen"))
    expect(_flash(ui)).to_contain_text("Ihr Gutachten ist abgeschlossen. Vielen Dank!")


# --------------------------------------------------------------------------- the officers' form


def _record_check(ui, kind_heading: str, conditions: str = "") -> None:
    """An officer on the check form passes it (with conditions, if the form offers them)."""
    page = ui.page
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(kind_heading)
    expect(main).to_contain_text(TITLE)
    main.get_by_role("group", name="Ergebnis").get_by_label("bestanden", exact=True).check()
    if kind_heading == "Datenschutzprüfung":
        main.get_by_role("group", name=re.compile("Datenschutz-Folgenabschätzung")) \
            .get_by_label("nicht erforderlich", exact=True).check()
        main.get_by_role("group", name=re.compile("Auftragsverarbeitung")) \
            .get_by_label("abgeschlossen", exact=True).check()
    main.get_by_label(re.compile("^Kommentar")).fill("Geprüft, keine Einwände.")
    if conditions:
        main.get_by_label("Auflagen (optional)", exact=True).fill(conditions)
    ui.submit(main.get_by_role("button", name="Ergebnis speichern"))
    expect(_flash(ui)).to_contain_text("ist erfasst")
    card = page.locator("main .kern-card").filter(
        has=page.get_by_role("heading", name=kind_heading, exact=True))
    expect(card).to_contain_text("bestanden")
    if conditions:
        expect(card.get_by_role("list", name="Auflagen vor dem Start des Piloten")
               ).to_contain_text(conditions)


# --------------------------------------------------------------------------- 1. a whole review


def _reference(in_db, proposal_id: int) -> str:
    def read():
        from innolab.extensions import db
        from innolab.models import Proposal

        return db.session.get(Proposal, proposal_id).reference

    reference = in_db(read)
    assert reference and reference.startswith("IL-"), reference
    return reference


def test_each_role_is_guided_through_a_whole_review(new_ui, in_db):
    def build():
        from tests import factories as f

        owner = f.user(email=PARTNER[0], name=PARTNER[1])
        org = f.organisation(owner=owner, name="Hansekontor Software GmbH")
        for role, (email, name) in STAFF.items():
            f.staff(role, email=email, name=name)
        return f.proposal(org=org, status="draft", title=TITLE, personal_data=True,
                          personal_data_details="Namen und Terminwünsche, 14 Tage gespeichert.").id

    proposal_id = in_db(build)
    ui = {who: new_ui(who) for who in ("partner", *STAFF)}

    # ---- the partner finds the draft on „Meine Aufgaben“ and submits it from there
    partner = ui["partner"]
    _sign_in_to_tasks(partner, PARTNER[0])
    _expect_header(partner, tasks=1, unread=0)
    partner.submit(_task(partner, "Entwurf fertigstellen und einreichen"))
    partner.submit_confirmed(partner.page.locator("main").get_by_role(
        "button", name="Speichern und einreichen"))
    expect(_flash(partner)).to_contain_text("wurde eingereicht")
    expect(partner.page.locator("main")).to_contain_text("Eingereicht")
    reference = _reference(in_db, proposal_id)
    expect(partner.page.locator("main")).to_contain_text(reference)
    _go(partner, "Meine Aufgaben")
    expect(partner.page.get_by_text("Zurzeit wartet nichts auf Sie.")).to_be_visible()
    _expect_header(partner, tasks=0, unread=1)  # "eingegangen"

    # ---- the coordinator: the triage task says what comes first; assign, start the review
    coordinator = ui["coordinator"]
    _sign_in_to_tasks(coordinator, STAFF["coordinator"][0])
    _expect_header(coordinator, tasks=1, unread=1)
    expect(_task_card(coordinator, "Vorschlag sichten und Begutachtung starten")).to_contain_text(
        "Zuerst: Weisen Sie zuerst mindestens eine Gutachterin")
    coordinator.submit(_task(coordinator, "Vorschlag sichten und Begutachtung starten"))
    cpage = coordinator.page
    expect(cpage.get_by_role("heading", level=1)).to_have_text(TITLE)
    assign = cpage.locator("main form").filter(has=cpage.get_by_role("button", name="Zuweisen"))
    assign.get_by_label("Gutachterin oder Gutachter").select_option(
        label=f"{STAFF['reviewer'][1]} ({STAFF['reviewer'][0]}) · 0 offen")
    coordinator.submit(assign.get_by_role("button", name="Zuweisen"))
    expect(_flash(coordinator)).to_contain_text(f"{STAFF['reviewer'][1]} wurde als Gutachter/in")
    coordinator.submit(cpage.locator("main").get_by_role("button", name="Begutachtung starten"))
    expect(_flash(coordinator)).to_contain_text("Die Begutachtung wurde gestartet.")
    expect(cpage.locator("main")).to_contain_text("In Begutachtung")
    _go(coordinator, "Meine Aufgaben")
    expect(_task(coordinator, "Vorschlag sichten und Begutachtung starten")).to_have_count(0)
    expect(cpage.get_by_text("Zurzeit wartet nichts auf Sie.")).to_be_visible()

    # ---- the officers: task and notification; the notification leads to the check form
    for role, task_label, heading, conditions in (
            ("dpo", "Datenschutzprüfung vornehmen", "Datenschutzprüfung", CONDITION),
            ("iso", "Prüfung der Informationssicherheit vornehmen",
             "Prüfung der Informationssicherheit", "")):
        officer = ui[role]
        _my_turn(officer, role, task_label, f"Ihre Prüfung ist erbeten: {reference}")
        expect(officer.page).to_have_url(re.compile(
            re.escape(officer.url_for("review.check", proposal_id=proposal_id,
                                      kind="data_protection" if role == "dpo"
                                      else "information_security")) + "$"))
        _record_check(officer, heading, conditions)
        _expect_nothing_waits(officer)

    # ---- the reviewer: task, notification, the form behind it; the review is completed
    reviewer = ui["reviewer"]
    _my_turn(reviewer, "reviewer", "Gutachten schreiben", f"Neues Gutachten: {reference}")
    # first the question whether there is a conflict of interest, then the proposal
    expect(reviewer.page.get_by_role("heading", level=1)).to_have_text(
        "Interessenkonflikt prüfen")
    reviewer.page.get_by_label("Ich bestätige, dass mich").check()
    reviewer.submit(reviewer.page.get_by_role("button", name="Bestätigen und Vorschlag öffnen"))
    expect(reviewer.page.get_by_role("heading", level=1)).to_have_text(TITLE)
    reviewer.submit(reviewer.page.locator("main").get_by_role("link", name="Gutachten schreiben"))
    _write_review(reviewer, proposal_id)
    _expect_nothing_waits(reviewer)

    # ---- now it is the decider's turn: task and notification; the decider approves
    decider = ui["decider"]
    _my_turn(decider, "decider", "Entscheiden: bereit zur Entscheidung",
             f"Bereit zur Entscheidung: {reference}")
    dpage = decider.page
    expect(dpage).to_have_url(decider.url(
        decider.url_for("review.proposal", proposal_id=proposal_id)))
    approve = dpage.locator("main form").filter(has=dpage.get_by_role("button", name="Bewilligen"))
    approve.get_by_label("Begründung der Bewilligung").fill(RATIONALE)
    decider.submit_confirmed(approve.get_by_role("button", name="Bewilligen"))
    expect(_flash(decider)).to_contain_text("Der Vorschlag wurde bewilligt")
    expect(dpage.locator("main")).to_contain_text("Bewilligt")
    _go(decider, "Meine Aufgaben")
    expect(_task(decider, "Entscheiden: bereit zur Entscheidung")).to_have_count(0)
    expect(dpage.get_by_text("Zurzeit wartet nichts auf Sie.")).to_be_visible()

    # ---- approved: the coordinator's next task waits for the goals; the dpo's condition
    _go(coordinator, "Meine Aufgaben")
    expect(_task_card(coordinator, "Ziele vereinbaren und Pilot starten")).to_contain_text(
        "Zuerst: Legen Sie vor dem Start gemeinsam mit der Partnerorganisation mindestens ein "
        "messbares Ziel des Piloten fest.")
    _go(ui["dpo"], "Meine Aufgaben")
    expect(_task(ui["dpo"], "Auflagen Ihrer Prüfung als erfüllt vermerken")).to_be_visible()

    # ---- the partner: the header counts the news; the decision notification leads to it
    _go(partner, "Benachrichtigungen")
    _expect_header(partner, tasks=0, unread=3)  # eingegangen, wird begutachtet, Entscheidung
    partner.submit(_notification(partner, f"Entscheidung zu {reference}"))
    expect(partner.page).to_have_url(
        partner.url(partner.url_for("proposals.show", proposal_id=proposal_id)))
    expect(partner.page.locator("main")).to_contain_text("Bewilligt")
    expect(partner.page.locator("main")).to_contain_text(RATIONALE)
    _expect_header(partner, tasks=0, unread=2)


# --------------------------------------------------------------------------- 2. conditions


def test_a_condition_of_the_check_blocks_the_start_until_the_officer_marks_it_met(
        new_ui, in_db):
    coordinator_email, dpo_email = "start.koordination@zdmv.example", "start.dsb@zdmv.example"
    title = "Digitale Hundesteuer in Güstrow"

    def build():
        from innolab.extensions import db
        from innolab.models import Check, CheckCondition
        from tests import factories as f

        f.staff("coordinator", email=coordinator_email, name="Carla Start")
        dpo = f.staff("dpo", email=dpo_email, name="Dirk Datenschutz")
        iso = f.staff("iso", name="Irma Sicherheit")
        org = f.organisation(owner=f.user(), name="Barlachwerk GmbH")
        p = f.proposal(org=org, status="approved", title=title, personal_data=True,
                       personal_data_details="Halterdaten")
        f.goal(p)  # agreed with the partner: not the point here
        check = Check(proposal_id=p.id, kind="data_protection", officer_id=dpo.id,
                      outcome="passed", dpia="not_needed", processing_agreement="not_needed")
        check.conditions.append(CheckCondition(text=CONDITION, position=0))
        db.session.add_all([check, Check(proposal_id=p.id, kind="information_security",
                                         officer_id=iso.id, outcome="passed")])
        db.session.commit()
        return p.id

    proposal_id = in_db(build)
    start_label = "Ziele vereinbaren und Pilot starten"

    # ---- the coordinator: the task names the condition first; the start is refused
    coordinator = new_ui("Koordination")
    _sign_in_to_tasks(coordinator, coordinator_email)
    refusal = f"Vor dem Start müssen die Auflagen der Prüfungen erfüllt sein. Offen: {CONDITION}"
    expect(_task_card(coordinator, start_label, title)).to_contain_text(f"Zuerst: {refusal}")
    coordinator.submit(_task(coordinator, start_label, title))  # to the staff page's next steps
    cpage = coordinator.page
    expect(cpage).to_have_url(coordinator.url(
        coordinator.url_for("review.proposal", proposal_id=proposal_id)) + "#actions-heading")
    start = cpage.get_by_role("button", name="Pilot starten")
    expect(start).to_be_disabled()
    expect(start).to_have_accessible_description(refusal)
    expect(cpage.get_by_label("Startdatum des Piloten")).to_have_count(0)

    # ---- the officer marks the condition met from „Meine Aufgaben“
    dpo = new_ui("Datenschutz")
    _sign_in_to_tasks(dpo, dpo_email)
    dpo.submit(_task(dpo, "Auflagen Ihrer Prüfung als erfüllt vermerken", title))
    conditions = dpo.page.get_by_role("list", name="Auflagen vor dem Start des Piloten")
    item = conditions.get_by_role("listitem").filter(has_text=CONDITION)
    expect(item).to_contain_text("offen")
    dpo.submit(item.get_by_role("button", name="Als erfüllt vermerken"))
    expect(_flash(dpo)).to_contain_text(f"Die Auflage „{CONDITION}“ ist als erfüllt vermerkt.")
    item = dpo.page.get_by_role("list", name="Auflagen vor dem Start des Piloten") \
        .get_by_role("listitem").filter(has_text=CONDITION)
    expect(item).to_contain_text("erfüllt")
    expect(item).to_contain_text("Dirk Datenschutz")
    expect(item.get_by_role("button", name="Als erfüllt vermerken")).to_have_count(0)
    _go(dpo, "Meine Aufgaben")
    expect(_task(dpo, "Auflagen Ihrer Prüfung als erfüllt vermerken", title)).to_have_count(0)

    # ---- now the coordinator starts the pilot
    coordinator.visit(coordinator.url_for("review.proposal", proposal_id=proposal_id))
    expect(cpage.get_by_role("button", name="Pilot starten")).to_be_enabled()
    cpage.get_by_label("Startdatum des Piloten").fill(date.today().isoformat())
    coordinator.submit_confirmed(cpage.get_by_role("button", name="Pilot starten"))
    expect(_flash(coordinator)).to_contain_text("Der Pilot wurde gestartet.")
    expect(cpage.locator("main")).to_contain_text("Pilot läuft")
    _go(coordinator, "Meine Aufgaben")
    expect(_task(coordinator, start_label, title)).to_have_count(0)


# --------------------------------------------------------------------------- 3. invitation


def test_an_invitation_survives_the_registration_of_the_invitee(new_ui, in_db, mail_link):
    owner_email, org_name = "olaf.owner@warnowdaten.example", "Warnowdaten GmbH"
    invitee_email, invitee_name = "ina.neu@warnowdaten.example", "Ina Neu"
    password = "Leuchtturm-Warnemünde-2026"

    def build():
        from tests import factories as f

        f.organisation(owner=f.user(email=owner_email, name="Olaf Owner"), name=org_name)

    in_db(build)

    # ---- the owner invites a new address from the organisation's page
    owner = new_ui("Eigentümer")
    _sign_in_to_tasks(owner, owner_email)
    _go(owner, "Organisationen")
    owner.submit(owner.page.locator("main").get_by_role("link", name=org_name))
    owner.submit(owner.page.locator("main").get_by_role(
        "link", name="Kolleginnen und Kollegen einladen"))
    owner.page.get_by_label("E-Mail-Adresse").fill(invitee_email)
    owner.submit(owner.page.locator("main").get_by_role("button", name="Einladung senden"))
    expect(_flash(owner)).to_contain_text(f"Die Einladung an {invitee_email} wurde versendet.")
    expect(owner.page.get_by_role("region", name="Offene Einladungen")
           ).to_contain_text(invitee_email)

    # ---- the invitee, not signed in, follows the link from the mail and registers
    invitee = new_ui("Eingeladene")
    page = invitee.page
    invitee.visit(mail_link(invitee_email, "/join/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Einladung annehmen")
    expect(page.locator("main")).to_contain_text(org_name)
    invitee.submit(page.locator("main").get_by_role("link", name="Konto anlegen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrieren")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(invitee_email)
    page.get_by_label("Name", exact=True).fill(invitee_name)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_label("Passwort wiederholen").fill(password)
    page.get_by_label(re.compile("Datenschutzhinweise")).check()
    invitee.submit(page.locator("main").get_by_role("button", name="Registrieren"))
    expect(page.locator("main")).to_contain_text("Bitte prüfen Sie Ihr Postfach")

    # ---- confirms the address from the confirmation mail, signs in, is back at the invitation
    invitee.visit(mail_link(invitee_email, "/confirm/"))
    invitee.submit(page.locator("main").get_by_role("button", name="E-Mail-Adresse bestätigen"))
    expect(_flash(invitee)).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
    expect(_flash(invitee)).to_contain_text(f"Sie sind eingeladen, der Organisation „{org_name}“")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    page.get_by_label("E-Mail-Adresse").fill(invitee_email)
    page.get_by_label("Passwort", exact=True).fill(password)
    invitee.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Einladung annehmen")
    _expect_header(invitee, tasks=1, unread=0)  # the invitation is on „Meine Aufgaben“ too

    # ---- one click joins
    invitee.submit(page.locator("main").get_by_role("button", name="Der Organisation beitreten"))
    expect(_flash(invitee)).to_contain_text(
        f"Willkommen! Sie sind jetzt Mitglied der Organisation „{org_name}“.")
    expect(page.get_by_role("heading", level=1)).to_have_text(org_name)
    _expect_header(invitee, tasks=0, unread=0)

    # ---- the owner is told
    owner.visit(owner.url_for("tasks.index"))
    _expect_header(owner, tasks=0, unread=1)
    _go(owner, "Benachrichtigungen")
    expect(_notification(owner, f"{invitee_name} ist der Organisation {org_name} beigetreten")
           ).to_be_visible()
