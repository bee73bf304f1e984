"""The partner's side of proposals: list, write, submit, act, versions, delete."""
from __future__ import annotations

from innolab.models._base import utcnow
import re

import io
from datetime import date, timedelta

from innolab.models import Attachment, ReviewAssignment
import pytest
from sqlalchemy import func, select

from innolab.domain import workflow
from innolab.extensions import db
from innolab.models import AuditEvent, ChallengeStatus, Proposal, Role, TimelineEntry
from tests import factories as f

YEAR = date.today().year


def _form(**overrides) -> dict:
    return f.proposal_form(**overrides)


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def partner(app_ctx, login):
    """A signed-in partner user who owns an organisation."""
    u = f.user(name="Erika Partnerin")
    org = f.organisation(owner=u, name="Digital Nord GmbH")
    login(u)
    return u, org


# ---------------------------------------------------------------- list


def test_index_lists_the_proposals_of_my_organisations_only(client, partner):
    user, org = partner
    second = f.organisation(owner=f.user(), members=[user], name="Zweite GmbH")
    f.proposal(org, title="Mein Entwurf")
    f.proposal(second, status="submitted", title="Eingereicht bei der Zweiten")
    f.proposal(f.organisation(owner=f.user()), title="Fremder Vorschlag")
    html = client.get("/proposals/").get_data(as_text=True)
    assert "Mein Entwurf" in html and "Eingereicht bei der Zweiten" in html
    assert "Fremder Vorschlag" not in html
    assert "Entwurf" in html and "Eingereicht" in html and f"IL-{YEAR}-" in html


def test_index_without_organisation_links_to_creating_one(app_ctx, client, login):
    login(f.user())
    html = client.get("/proposals/").get_data(as_text=True)
    assert "Sie haben noch keine Pilotvorschläge" in html
    assert "/account/organisations/new" in html or "Organisation anlegen" in html


def test_index_empty_state_links_to_new_proposal(client, partner):
    html = client.get("/proposals/").get_data(as_text=True)
    assert "Jetzt einen Pilotvorschlag anlegen" in html


def test_index_htmx_renders_only_the_list(client, partner):
    _, org = partner
    f.proposal(org, title="Nur die Liste")
    resp = client.get("/proposals/", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Nur die Liste" in html and "<html" not in html
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_index_needs_login(app_ctx, client):
    resp = client.get("/proposals/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# ---------------------------------------------------------------- new and edit


def test_new_without_organisation_sends_to_creating_one(app_ctx, client, login):
    login(f.user())
    resp = client.get("/proposals/new")
    assert resp.status_code in (302, 303)
    assert "organisations" in resp.headers["Location"]


def test_new_form_shows_all_fields_and_open_challenges(client, partner):
    open_ch = f.challenge(title="Offene Akte")
    f.challenge(title="Geschlossene Akte", status=ChallengeStatus.CLOSED.value)
    f.challenge(title="Abgelaufene Akte", deadline=date.today() - timedelta(days=1))
    f.topic(name_de="Bauen und Wohnen")
    html = client.get(f"/proposals/new?challenge={open_ch.id}").get_data(as_text=True)
    for label in ("Titel", "Öffentliche Kurzbeschreibung", "Lösungsvorschlag",
                  "Nutzen für die Verwaltung", "Reifegrad (TRL)", "Kostenschätzung",
                  "Hosting-Standort", "Ansprechperson", "Eigeninitiative",
                  "Als Entwurf speichern", "Speichern und einreichen", "Bauen und Wohnen",
                  "Digital Nord GmbH", "öffentlich im Schaufenster"):
        assert label in html, label
    assert "Offene Akte" in html
    assert "Geschlossene Akte" not in html and "Abgelaufene Akte" not in html
    assert f'<option selected value="{open_ch.id}"' in html or \
        f'value="{open_ch.id}" selected' in html
    assert "novalidate" in html


def test_new_draft_saves_with_only_a_title(client, partner):
    user, org = partner
    resp = client.post("/proposals/new", data={"title": "Nur ein Titel", "organisation_id": org.id,
                                               "personal_data": "no", "save": "draft"})
    assert resp.status_code == 303
    p = db.session.execute(select(Proposal)).scalar_one()
    assert p.title == "Nur ein Titel" and p.status == "draft" and p.organisation_id == org.id
    assert p.created_by_id == user.id and p.reference is None
    assert resp.headers["Location"].endswith(f"/proposals/{p.id}")
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.create")).scalar_one().object_id == p.id
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Der Entwurf wurde gespeichert" in html
    assert "Zum Einreichen fehlen noch Angaben" in html


def test_new_without_title_keeps_what_was_typed(client, partner):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(title="", organisation_id=org.id,
                                                    problem="Mein <b>Problem</b>-Text"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Bitte geben Sie einen Titel an" in html and "Bitte prüfen Sie Ihre Eingaben" in html
    assert "Mein &lt;b&gt;Problem&lt;/b&gt;-Text" in html
    assert _count(Proposal) == 0


def test_new_bad_numbers_and_email_keep_typed_values(client, partner):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(
        organisation_id=org.id, duration_months="sechs", cost_estimate="-5",
        contact_email="keine-adresse", contact_phone="<script>", trl="42"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'value="sechs"' in html and 'value="keine-adresse"' in html
    assert "gültige E-Mail-Adresse" in html and "ganzen Euro" in html
    assert "KI-Assistent für Bauanträge" in html
    assert _count(Proposal) == 0


def test_new_refuses_an_organisation_i_do_not_belong_to(client, partner):
    other = f.organisation(owner=f.user())
    resp = client.post("/proposals/new", data=_form(organisation_id=other.id))
    assert resp.status_code == 422 and _count(Proposal) == 0
    resp = client.post("/proposals/new", data=_form(organisation_id="kein-wert"))
    assert resp.status_code == 422 and _count(Proposal) == 0


def test_new_refuses_a_closed_challenge(client, partner):
    _, org = partner
    closed = f.challenge(status=ChallengeStatus.CLOSED.value)
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id,
                                                    challenge_id=closed.id))
    assert resp.status_code == 422 and "offene Herausforderung" in resp.get_data(as_text=True)
    assert _count(Proposal) == 0


def test_new_save_and_submit_complete_proposal(client, partner, outbox):
    user, org = partner
    coordinator = f.staff(Role.COORDINATOR.value)
    ch = f.challenge(title="Bauanträge schneller")
    t = f.topic(name_de="Bauen")
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id, challenge_id=ch.id,
                                                    topic_ids=[t.id], save="submit", confirmed="1"))
    assert resp.status_code == 303
    p = db.session.execute(select(Proposal)).scalar_one()
    assert p.status == "submitted" and p.reference == f"IL-{YEAR}-0001" and p.version == 1
    assert p.challenge_id == ch.id and [x.slug for x in p.topics] == [t.slug]
    assert p.publication_consent is True and p.cost_estimate == 45000 and p.trl == 6
    assert {m.recipient for m in outbox()} == {user.email, coordinator.email}
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"IL-{YEAR}-0001" in html and "wurde eingereicht" in html
    assert "Bauanträge schneller" in html and "Bauen" in html


def test_save_and_submit_incomplete_keeps_form_and_names_missing_fields(client, partner, outbox):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id, problem="",
                                                    benefit="", save="submit", confirmed="1"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Bitte füllen Sie noch aus" in html and "Problem" in html
    assert "Für das Einreichen erforderlich" in html
    assert "KI-Assistent für Bauanträge" in html  # the typed values are kept
    p = db.session.execute(select(Proposal)).scalar_one()
    assert p.status == "draft" and p.reference is None  # saved as a draft, not submitted
    assert f'action="/proposals/{p.id}/edit"' in html  # next save updates the same draft
    assert outbox() == []


def test_personal_data_yes_needs_details_to_submit(client, partner):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id, personal_data="yes",
                                                    save="submit", confirmed="1"))
    assert resp.status_code == 422
    assert "Art der Verarbeitung personenbezogener Daten" in resp.get_data(as_text=True)
    p = db.session.execute(select(Proposal)).scalar_one()
    resp = client.post(f"/proposals/{p.id}/edit", data=_form(
        personal_data="yes", personal_data_details="Namen der Antragstellenden", save="submit",
        confirmed="1"))
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.status == "submitted" and p.personal_data_details == "Namen der Antragstellenden"


def test_edit_prefills_and_saves_changes(client, partner):
    _, org = partner
    p = f.proposal(org, title="Alter Titel")
    html = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    assert 'value="Alter Titel"' in html and "Organisation" not in html.split("<form")[2][:200]
    resp = client.post(f"/proposals/{p.id}/edit", data=_form(title="Neuer Titel"))
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.title == "Neuer Titel" and p.status == "draft"
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.update")).scalar_one().details["fields"]


def test_edit_keeps_a_closed_challenge_of_the_draft(client, partner):
    _, org = partner
    closed = f.challenge(title="Vorbei", status=ChallengeStatus.CLOSED.value)
    p = f.proposal(org, challenge_=closed)
    html = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    assert "Vorbei (geschlossen)" in html
    resp = client.post(f"/proposals/{p.id}/edit", data=_form(challenge_id=closed.id,
                                                             save="submit", confirmed="1"))
    assert resp.status_code == 422 and "geschlossen" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.status == "draft" and p.challenge_id == closed.id


def test_edit_of_a_submitted_proposal_is_refused_with_reason(client, partner):
    _, org = partner
    p = f.proposal(org, status="submitted")
    resp = client.get(f"/proposals/{p.id}/edit")
    assert resp.status_code == 403 and "gesperrt" in resp.get_data(as_text=True)
    resp = client.post(f"/proposals/{p.id}/edit", data=_form(title="Heimlich geändert"))
    assert resp.status_code == 403
    db.session.refresh(p)
    assert p.title != "Heimlich geändert"


def test_wrong_ids_give_404(client, partner):
    for url in ("/proposals/999999", "/proposals/999999/edit", "/proposals/999999/versions",
                "/proposals/attachments/999999", "/proposals/999999/delete"):
        assert client.get(url).status_code == 404, url
    assert client.post("/proposals/999999/act", data={"action": "submit",
                                                      "confirmed": "1"}).status_code == 404


# ---------------------------------------------------------------- detail, act, timeline


def test_show_offers_member_actions_with_reasons(client, partner):
    _, org = partner
    p = f.proposal(org, complete=False)
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Einreichen" in html and "disabled" in html and "Noch nicht möglich" in html
    assert "Bearbeiten" in html and "Entwurf löschen" in html


def test_act_submit_from_detail_page(client, partner, outbox):
    user, org = partner
    p = f.proposal(org)
    resp = client.post(f"/proposals/{p.id}/act", data={"action": "submit", "confirmed": "1"})
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.status == "submitted" and p.reference == f"IL-{YEAR}-0001"
    assert outbox(user.email)


def test_act_refused_shows_the_reason(client, partner):
    _, org = partner
    p = f.proposal(org, complete=False)
    resp = client.post(f"/proposals/{p.id}/act", data={"action": "submit", "confirmed": "1"},
                                                       follow_redirects=True)
    assert "Bitte füllen Sie noch aus" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.status == "draft"


@pytest.mark.parametrize("action", ["approve", "start_review", "request_changes", "cancel", "",
                                    "drop table"])
def test_act_with_a_staff_or_unknown_action_is_400(client, partner, action):
    _, org = partner
    p = f.proposal(org, status="in_review")
    assert client.post(f"/proposals/{p.id}/act", data={"action": action}).status_code == 400
    db.session.refresh(p)
    assert p.status == "in_review"


def test_withdraw_asks_for_confirmation_and_notifies(client, partner, outbox):
    _, org = partner
    coordinator = f.staff(Role.COORDINATOR.value)
    p = f.proposal(org, status="in_review")
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "data-confirm=" in html and "Zurückziehen" in html
    resp = client.post(f"/proposals/{p.id}/act", data={"action": "withdraw", "confirmed": "1",
                                                       "message": "Kein Personal mehr"})
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.status == "withdrawn"
    assert "Kein Personal mehr" in outbox(coordinator.email)[0].body_text
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Kein Personal mehr" in html and "Zurückgezogen" in html


def test_change_request_resubmit_and_versions(client, partner, outbox):
    user, org = partner
    coordinator = f.staff(Role.COORDINATOR.value, name="Kai Koordinator")
    p = f.proposal(org, status="draft", cost_estimate=45000)
    client.post(f"/proposals/{p.id}/act", data={"action": "submit", "confirmed": "1"})
    db.session.refresh(p)
    workflow.apply(p, "request_changes", coordinator,
                   message="Bitte schlüsseln Sie die Kosten auf.")
    db.session.add(TimelineEntry(proposal=p, actor_id=coordinator.id, action="assign",
                                 message="Interne Notiz zum Gutachten", internal=True))
    db.session.commit()

    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Bitte schlüsseln Sie die Kosten auf." in html and "Nachbesserung" in html
    assert "Interne Notiz" not in html
    assert "Erneut einreichen" in html and "Bearbeiten" in html

    resp = client.post(f"/proposals/{p.id}/edit", data=_form(cost_estimate="52000",
                                                             save="submit", confirmed="1"))
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.status == "submitted" and p.version == 2
    assert any("erneut eingereicht" in m.subject for m in outbox(coordinator.email))

    html = client.get(f"/proposals/{p.id}/versions").get_data(as_text=True)
    assert "Fassung 2" in html and "Fassung 1" in html
    assert '<del class="diff">' in html and '<ins class="diff">' in html
    assert "vorher:" in html and "nachher:" in html
    assert "Kostenschätzung" in html and "52.000" in html and "45.000" in html


def test_versions_page_without_submission(client, partner):
    _, org = partner
    p = f.proposal(org)
    html = client.get(f"/proposals/{p.id}/versions").get_data(as_text=True)
    assert "noch keine eingereichte Fassung" in html


# ---------------------------------------------------------------- delete


def test_delete_draft_after_confirmation(client, partner):
    _, org = partner
    p = f.proposal(org, title="Weg damit")
    html = client.get(f"/proposals/{p.id}/delete").get_data(as_text=True)
    assert "wirklich löschen" in html and "Weg damit" in html
    resp = client.post(f"/proposals/{p.id}/delete")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/proposals/")
    assert _count(Proposal) == 0
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.delete")).scalar_one().details["title"] == "Weg damit"


def test_delete_of_a_submitted_proposal_is_refused(client, partner):
    _, org = partner
    p = f.proposal(org, status="submitted")
    assert client.get(f"/proposals/{p.id}/delete").status_code == 403
    assert client.post(f"/proposals/{p.id}/delete").status_code == 403
    assert _count(Proposal) == 1


# ---------------------------------------------------------------- permission matrix


STAFF = [r.value for r in Role]
REFUSED_ROLES = ["visitor", "other_partner"] + STAFF


def _as(role, app_ctx, login, client):
    if role == "visitor":
        return client
    if role == "other_partner":
        u = f.user()
        f.organisation(owner=u)
    else:
        u = f.staff(role)
    return login(u)


def _requests(p, attachment_id):
    """(what, method, url, data) for every route of the blueprint that takes an id."""
    return [
        ("show", "GET", f"/proposals/{p.id}", None),
        ("edit", "GET", f"/proposals/{p.id}/edit", None),
        ("edit", "POST", f"/proposals/{p.id}/edit", _form(title="Übernommen!")),
        ("act", "POST", f"/proposals/{p.id}/act", {"action": "withdraw", "confirmed": "1"}),
        ("act", "POST", f"/proposals/{p.id}/act", {"action": "submit", "confirmed": "1"}),
        ("versions", "GET", f"/proposals/{p.id}/versions", None),
        ("delete", "GET", f"/proposals/{p.id}/delete", None),
        ("delete", "POST", f"/proposals/{p.id}/delete", {}),
        ("download", "GET", f"/proposals/attachments/{attachment_id}", None),
        ("delete_attachment", "POST", f"/proposals/attachments/{attachment_id}/delete", {}),
        ("upload", "POST", f"/proposals/{p.id}/attachments",
         {"file": (io.BytesIO(b"kein PDF"), "text.pdf")}),
    ]


def _attachment(p):
    a = Attachment(proposal=p, filename="konzept.pdf", stored_name="a" * 32,
                   content_type="application/pdf", size=10)
    db.session.add(a)
    db.session.commit()
    return a


def _expected(role, status, what):
    """What each refused role gets: visitor -> login, outsiders -> 404, staff by permission."""
    if role == "visitor":
        return "login"
    if role == "other_partner" or status == "draft":
        return 404  # a draft is private to its organisation
    if role == "reviewer":  # not assigned to this proposal
        return 404
    # overseeing staff on a submitted proposal
    # staff may add (internal) files; this one is refused for its content -> back to review page
    return {"show": "redirect", "upload": "redirect", "versions": 200,
            "download": 200}.get(what, 403)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("status", ["draft", "submitted"])
@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_permission_matrix(app, app_ctx, client, login, role, status, htmx):
    owner = f.user()
    org = f.organisation(owner=owner)
    p = f.proposal(org, status=status, title="Vertraulicher Vorschlag")
    a = _attachment(p)
    path = app.config["UPLOAD_FOLDER"] + "/" + a.stored_name
    with open(path, "wb") as fh:
        fh.write(b"%PDF-1.4 test")
    c = _as(role, app_ctx, login, client)
    headers = {"HX-Request": "true"} if htmx else {}
    for what, method, url, data in _requests(p, a.id):
        resp = c.open(url, method=method, data=data, headers=headers)
        expected = _expected(role, status, what)
        where = f"{role} {status} {method} {url}"
        if expected == "login":
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], where
        elif expected == "redirect":
            if htmx:
                assert resp.status_code == 200, where
                assert f"/staff/review/proposals/{p.id}" in resp.headers["HX-Redirect"], where
            else:
                assert resp.status_code in (302, 303), where
                assert f"/staff/review/proposals/{p.id}" in resp.headers["Location"], where
        else:
            assert resp.status_code == expected, where
        if resp.status_code in (403, 404):
            assert "Vertraulicher Vorschlag" not in resp.get_data(as_text=True), where
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p is not None and p.status == status and p.title == "Vertraulicher Vorschlag"
    assert len(p.attachments) == 1


def test_assigned_reviewer_sees_versions_and_downloads(app, app_ctx, client, login):
    org = f.organisation(owner=f.user())
    p = f.proposal(org, status="in_review")
    reviewer = f.staff(Role.REVIEWER.value)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal=p, reviewer_id=reviewer.id))
    db.session.commit()
    a = _attachment(p)
    with open(app.config["UPLOAD_FOLDER"] + "/" + a.stored_name, "wb") as fh:
        fh.write(b"%PDF-1.4 test")
    login(reviewer)
    assert client.get(f"/proposals/{p.id}/versions").status_code == 200
    assert client.get(f"/proposals/attachments/{a.id}").status_code == 200
    assert client.post(f"/proposals/{p.id}/act", data={"action": "withdraw",
                                                       "confirmed": "1"}).status_code == 403
    db.session.refresh(p)
    assert p.status != "withdrawn"


def test_second_member_of_the_organisation_may_edit(app_ctx, client, login):
    owner, colleague = f.user(), f.user()
    org = f.organisation(owner=owner, members=[colleague])
    p = f.proposal(org)
    login(colleague)
    assert client.post(f"/proposals/{p.id}/edit", data=_form(title="Gemeinsam")).status_code == 303
    db.session.refresh(p)
    assert p.title == "Gemeinsam"


@pytest.mark.parametrize("field,value", [
    ("title", "x" * 201), ("title", "   "), ("personal_data", "vielleicht"), ("trl", "zehn"),
    ("topic_ids", "abc"), ("topic_ids", "999999"), ("challenge_id", "nix"),
    ("challenge_id", "999999"), ("duration_months", "1e9"), ("cost_estimate", "12,50"),
    ("public_summary", "x" * 1001),
])
def test_bad_input_is_a_form_error_not_a_crash(client, partner, field, value):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id, **{field: value}))
    assert resp.status_code == 422, field
    assert "Bitte prüfen Sie Ihre Eingaben" in resp.get_data(as_text=True)
    assert _count(Proposal) == 0


@pytest.mark.parametrize("typed,euros", [
    ("12.500", 12500), ("12500", 12500), ("12 500", 12500), ("12.500 €", 12500),
    ("12.500,00", 12500), ("1.250.000 EUR", 1250000), ("0", 0),
])
def test_amounts_as_germans_write_them_are_taken(client, partner, typed, euros):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id,
                                                    cost_estimate=typed))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    assert db.session.execute(select(Proposal.cost_estimate)).scalar_one() == euros


@pytest.mark.parametrize("typed", ["12,5", "1.2500", "12.500,50", "zwölftausend", "1e5",
                                   "9" * 5000])
def test_amounts_that_are_no_whole_euros_are_refused_and_kept(client, partner, typed):
    _, org = partner
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id,
                                                    cost_estimate=typed))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert ("Bitte geben Sie einen Betrag in ganzen Euro an, zum Beispiel 12500 oder 12.500."
            in html or "Dieser Betrag ist zu groß." in html)
    assert f'value="{typed}"' in html
    assert _count(Proposal) == 0


def test_an_english_page_takes_english_thousands_separators(client, partner):
    _, org = partner
    client.post("/language", data={"lang": "en", "next": "/"})
    resp = client.post("/proposals/new", data=_form(organisation_id=org.id,
                                                    cost_estimate="12,500"))
    assert resp.status_code == 303
    assert db.session.execute(select(Proposal.cost_estimate)).scalar_one() == 12500


def test_withdraw_without_javascript_asks_on_a_page_and_back_keeps_the_message(client, partner):
    _, org = partner
    p = f.proposal(org, status="in_review")
    asked = client.post(f"/proposals/{p.id}/act",
                        data={"action": "withdraw", "message": "Kein Personal mehr"})
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert "wirklich?" in html and "Kein Personal mehr" in html
    db.session.refresh(p)
    assert p.status == "in_review"  # nothing changed before the confirmed POST
    back = client.post(f"/proposals/{p.id}/act", data={"action": "withdraw", "back": "1",
                                                       "message": "Kein Personal mehr"})
    assert back.status_code == 200
    assert re.search(r'<textarea[^>]*id="message-withdraw"[^>]*>Kein Personal mehr</textarea>',
                     back.get_data(as_text=True))
    db.session.refresh(p)
    assert p.status == "in_review"
