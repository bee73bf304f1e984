"""The pages behind the sign-in pass axe-core (WCAG 2.1 AA) too: the partner's pages (account,
organisation, proposals, pilot workspace, results report, notifications) and the staff pages
(review, challenges, administration), each in German."""
from __future__ import annotations

from innolab.models._base import utcnow
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

PARTNER_PAGES = [
    ("auth.settings", {}),
    ("auth.change_password", {}),
    ("auth.sessions_page", {}),
    ("auth.change_email", {}),
    ("auth.reauthenticate", {}),
    ("accounts.organisations", {}),
    ("accounts.new_organisation", {}),
    ("accounts.organisation", {"org_id": "org"}),
    ("accounts.edit_organisation", {"org_id": "org"}),
    ("accounts.invite", {"org_id": "org"}),
    ("accounts.transfer_ownership", {"org_id": "org"}),
    ("proposals.index", {}),
    ("proposals.new", {}),
    ("proposals.show", {"proposal_id": "draft"}),
    ("proposals.edit", {"proposal_id": "draft"}),
    ("proposals.delete", {"proposal_id": "draft"}),
    ("proposals.show", {"proposal_id": "submitted"}),
    ("proposals.versions", {"proposal_id": "submitted"}),
    ("pilots.goals", {"proposal_id": "approved"}),
    ("pilots.workspace", {"proposal_id": "running"}),
    ("results.edit", {"proposal_id": "running"}),
    ("tasks.index", {}),
    ("notifications.index", {}),
    ("notifications.preferences", {}),
    ("privacy.export", {}),
    ("privacy.delete", {}),
    ("showcase.easy_read", {}),
    ("showcase.sign_language", {}),
]

STAFF_PAGES = [
    ("review.inbox", {}),
    ("review.mine", {}),
    ("review.proposal", {"proposal_id": "in_review"}),
    ("review.review", {"proposal_id": "in_review"}),
    ("review.conflict", {"proposal_id": "in_review"}),
    ("review.conflict_flags", {}),
    ("review.gate", {"proposal_id": "gated"}),
    ("review.bulk_assign", {"p": "bulk", "suggest": 1}),
    ("review.bulk_assign", {}),
    ("review.workload", {}),
    ("challenges.criteria_page", {"challenge_id": "challenge"}),
    ("review.proposal", {"proposal_id": "running"}),
    ("review.proposal", {"proposal_id": "anonymous"}),  # the attachments' release
    ("review.check", {"proposal_id": "in_review", "kind": "data_protection"}),
    ("review.check", {"proposal_id": "in_review", "kind": "information_security"}),
    ("challenges.index", {}),
    ("challenges.new", {}),
    ("challenges.edit", {"challenge_id": "challenge"}),
    ("admin.index", {}),
    ("admin.users", {}),
    ("admin.invite_staff", {}),
    ("admin.user", {"user_id": "staff"}),
    ("admin.authorities", {}),
    ("admin.topics", {}),
    ("admin.audit", {}),
    ("admin.pages", {}),
    ("admin.edit_page", {"slug": "impressum", "locale": "de"}),
    ("admin.legal_fields", {"slug": "impressum"}),
    ("admin.legal_fields", {"slug": "datenschutz"}),
    ("admin.legal_fields", {"slug": "barrierefreiheit"}),
    ("admin.feedback", {}),
    ("admin.sign_language", {}),
    # the legal pages as an admin sees them: with the warning about empty mandatory fields
    ("showcase.page", {"slug": "impressum"}),
    ("showcase.page", {"slug": "barrierefreiheit"}),
    ("admin.sign_in_settings", {}),
    ("pilots.workspace", {"proposal_id": "running"}),
    ("notifications.index", {}),
    ("tasks.index", {}),
]

# A reviewer of an anonymised first round: the anonymised pages (domain/anonymise.py).
REVIEWER_PAGES = [
    ("review.mine", {}),
    ("review.gate", {"proposal_id": "anonymous_gated"}),
    ("review.proposal", {"proposal_id": "anonymous"}),
    ("review.review", {"proposal_id": "anonymous"}),
    ("review.conflict", {"proposal_id": "anonymous"}),
    ("tasks.index", {}),
]

STAFF_EMAIL = "alle.rollen@zdmv.example"
REVIEWER_EMAIL = "rita.runde@zdmv.example"
PARTNER_EMAIL = "paula.partner@start-up.example"


@pytest.fixture(scope="module")
def data(in_db):
    """A partner owning an organisation with a draft and a submitted proposal; a staff member
    with every role, assigned to review a proposal of another organisation."""

    def _create():
        from innolab.extensions import db
        from innolab.models import Attachment, ReviewAssignment
        from tests import factories

        staff = factories.staff("admin", "coordinator", "reviewer", "decider", "dpo", "iso",
                                email=STAFF_EMAIL, name="Alex Allrounder")
        partner = factories.user(email=PARTNER_EMAIL, name="Paula Partner")
        org = factories.organisation(owner=partner, members=[factories.user()],
                                     name="Paulas Prototypen GmbH")
        draft = factories.proposal(org=org, title="Entwurf für barrierefreie Formulare")
        submitted = factories.proposal(org=org, status="submitted",
                                       title="Eingereichter Vorschlag zur Terminbuchung")
        challenge = factories.challenge(title="Weniger Papier in den Ämtern",
                                        deadline=date.today() + timedelta(days=40))
        other = factories.organisation(owner=factories.user(), name="Andere Ideen UG")
        in_review = factories.proposal(org=other, status="in_review", personal_data=True,
                                       personal_data_details="Namen und Anschriften",
                                       title="Chatbot für das Bürgeramt", challenge_=challenge)
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal=in_review, reviewer=staff,
                                        assigned_by_id=staff.id))
        gated = factories.proposal(org=other, status="in_review",
                                   title="Digitale Akte für das Standesamt")
        db.session.add(ReviewAssignment(proposal=gated, reviewer=staff,
                                        assigned_by_id=staff.id))  # not yet confirmed
        approved = factories.proposal(org=org, status="approved",
                                      title="Bewilligter Pilot zur Aktenablage")
        running = factories.proposal(org=org, status="running", pilot_start_date=date.today(),
                                     title="Laufender Pilot zur Terminvergabe")
        factories.goal(running)
        rita = factories.staff("reviewer", email=REVIEWER_EMAIL, name="Rita Runde")
        rounds = factories.challenge(title="Anonymisierte Runde", anonymised_first_round=True)
        anonymous = factories.proposal(org=other, status="anonymous_review", challenge_=rounds,
                                       title="Terminbuchung der Anderen Ideen UG")
        anonymous_gated = factories.proposal(org=other, status="anonymous_review",
                                             challenge_=rounds, title="Zweiter Vorschlag")
        for p, confirmed in ((anonymous, utcnow()), (anonymous_gated, None)):
            db.session.add(ReviewAssignment(no_conflict_confirmed_at=confirmed, proposal=p,
                                            reviewer=rita, assigned_by_id=staff.id))
        db.session.add(Attachment(proposal=anonymous, filename="konzept.pdf", stored_name="0" * 32,
                                  content_type="application/pdf", size=1000,
                                  first_round_released_at=utcnow()))
        db.session.commit()
        return {"org": org.id, "anonymous": anonymous.id, "anonymous_gated": anonymous_gated.id,
                "draft": draft.id, "submitted": submitted.id,
                "in_review": in_review.id, "challenge": challenge.id, "staff": staff.id,
                "approved": approved.id, "running": running.id, "gated": gated.id,
                "bulk": [in_review.id, submitted.id, gated.id]}

    return in_db(_create)


def _sign_in(ui, email):
    ui.visit("/login")
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def _path(ui, data, endpoint, values):
    return ui.url_for(endpoint, **{k: data.get(v, v) if isinstance(v, str) else v
                                   for k, v in values.items()})


@pytest.fixture(scope="module")
def signed_in(browser, live_app, data):
    """One signed-in browser context per person, shared by the tests of this module."""
    from tests.browser.conftest import UI

    contexts, uis = [], {}
    for who, email in (("partner", PARTNER_EMAIL), ("staff", STAFF_EMAIL),
                       ("reviewer", REVIEWER_EMAIL)):
        context = browser.new_context(locale="de-DE", base_url=live_app.url,
                                      viewport={"width": 1280, "height": 900})
        contexts.append(context)
        ui = UI(context.new_page(), live_app, who)
        _sign_in(ui, email)
        uis[who] = ui
    yield uis
    for context in contexts:
        context.close()


def _check(ui, path):
    ui.visit(path)
    page = ui.page
    assert page.url == ui.url(path), f"{path} leitete um auf {page.url}"
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").count() == 1, f"{path}: genau eine Hauptüberschrift erwartet"
    assert page.title().endswith("InnoLab des ZDMV")


@pytest.mark.parametrize("endpoint,values", PARTNER_PAGES,
                         ids=[f"{e}-{'-'.join(map(str, v.values()))}".rstrip("-")
                              for e, v in PARTNER_PAGES])
def test_partner_page_passes_axe(signed_in, data, endpoint, values):
    ui = signed_in["partner"]
    _check(ui, _path(ui, data, endpoint, values))


@pytest.mark.parametrize("endpoint,values", STAFF_PAGES,
                         ids=[f"{e}-{'-'.join(map(str, v.values()))}".rstrip("-")
                              for e, v in STAFF_PAGES])
def test_staff_page_passes_axe(signed_in, data, endpoint, values):
    ui = signed_in["staff"]
    _check(ui, _path(ui, data, endpoint, values))


@pytest.mark.parametrize("endpoint,values", REVIEWER_PAGES,
                         ids=[f"{e}-{'-'.join(map(str, v.values()))}".rstrip("-")
                              for e, v in REVIEWER_PAGES])
def test_anonymised_reviewer_page_passes_axe(signed_in, data, endpoint, values):
    ui = signed_in["reviewer"]
    _check(ui, _path(ui, data, endpoint, values))
