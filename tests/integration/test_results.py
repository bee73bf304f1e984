"""The results report: written by the partner, sent back or accepted by a coordinator (which
completes the pilot), published in the showcase with the partner's consent."""
from __future__ import annotations

from datetime import date, timedelta

from innolab.domain import workflow
import pytest
from flask import url_for

from innolab.extensions import db
from innolab.models import AuditEvent, GoalResult, Notification, Proposal, ResultsReport, UserRole
from innolab.models._base import utcnow
from tests import factories as f

STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")

YES = {"confirmed": "1"}  # the irreversible step confirmed (web/confirm.py)


@pytest.fixture
def world(app_ctx):
    partner = f.user(name="Paula Partnerin")
    colleague = f.user(name="Kai Kollege")
    org = f.organisation(owner=partner, members=[colleague], name="Ostsee Daten GmbH")
    p = f.proposal(org, status="running", title="Digitale Wohngeldvorprüfung",
                   pilot_start_date=date.today() - timedelta(days=30))
    g1 = f.goal(p)
    g2 = f.goal(p, title="Anteil vorgeprüfter Anträge", baseline="0 %", target="60 %",
                measurement="Protokoll der Vorprüfung")
    coordinator = f.staff("coordinator", name="Klara Koordination")
    other = f.user()
    f.organisation(owner=other)
    return dict(p=p, partner=partner, colleague=colleague, org=org, goals=(g1, g2),
                coordinator=coordinator, other=other)


def _url(endpoint, p):
    return url_for(f"results.{endpoint}", proposal_id=p.id)


def _complete_form(goals, **over):
    data = {
        "summary": "Der Pilot hat die Bearbeitungszeit **halbiert**.",
        "what_worked": "Die Vorprüfung der Unterlagen.",
        "what_did_not_work": "Die Anbindung an das alte Fachverfahren.",
        "lessons_learned": "Früh mit der Fachaufsicht sprechen.",
        "recommendation": "roll_out",
        "reuse_requirements": "Schnittstelle zum Fachverfahren und ein Datenschutzkonzept.",
        "publication_consent": "y",
    }
    for g in goals:
        data[f"goal_{g.id}_value"] = "6 Tage" if g.position == 0 else "55 %"
        data[f"goal_{g.id}_reached"] = "yes" if g.position == 0 else "no"
        data[f"goal_{g.id}_comment"] = "Gemessen im dritten Monat."
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _report(p) -> ResultsReport | None:
    db.session.expire_all()
    return db.session.get(Proposal, p.id).results_report


def _submit(client, login, w, **over):
    login(w["partner"])
    return client.post(_url("submit", w["p"]), data=_complete_form(w["goals"], **over))


def _submitted(client, login, w):
    assert _submit(client, login, w).status_code == 303
    return _report(w["p"])


def _accepted(client, login, w):
    _submitted(client, login, w)
    login(w["coordinator"])
    assert client.post(_url("accept", w["p"]), data=YES).status_code == 303
    return _report(w["p"])


def _actions(report_id):
    return [e.action for e in db.session.query(AuditEvent)
            .filter_by(object_type="results_reports", object_id=report_id)
            .order_by(AuditEvent.id)]


# ---------------------------------------------------------------- writing


def test_report_page_shows_the_form_with_every_goal_for_members(client, login, world):
    login(world["partner"])
    r = client.get(_url("edit", world["p"]))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Ergebnisbericht" in html
    assert "Bearbeitungszeit je Antrag" in html and "Anteil vorgeprüfter Anträge" in html
    assert "Erreichter Wert für „Anteil vorgeprüfter Anträge“" in html
    assert "Ausrollen" in html and "Verlängern" in html and "Beenden" in html


def test_draft_saved_incomplete_keeps_what_was_typed(client, login, world, outbox):
    login(world["partner"])
    g1 = world["goals"][0]
    r = client.post(_url("edit", world["p"]), data={
        "save": "draft", "summary": "Erste Gedanken.", f"goal_{g1.id}_value": "9 Tage"})
    assert r.status_code == 303
    report = _report(world["p"])
    assert report.status == "draft" and report.submitted_at is None
    assert report.summary == "Erste Gedanken."
    assert {gr.goal_id: gr.value_reached for gr in report.goal_results}[g1.id] == "9 Tage"
    assert _actions(report.id) == ["report.create"]
    assert outbox() == []
    page = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert "Erste Gedanken." in page and "9 Tage" in page


def test_submit_incomplete_is_422_with_the_missing_fields_and_kept_input(client, login, world):
    g2 = world["goals"][1]
    r = _submit(client, login, world, lessons_learned="", **{f"goal_{g2.id}_value": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Bitte füllen Sie noch aus" in html
    assert "Für das Einreichen erforderlich." in html
    assert "Die Vorprüfung der Unterlagen." in html  # kept
    report = _report(world["p"])
    assert report.status == "draft"  # saved as draft, not submitted
    assert report.what_worked == "Die Vorprüfung der Unterlagen."


def test_submit_with_save_button_on_edit_also_submits(client, login, world):
    login(world["partner"])
    data = _complete_form(world["goals"], save="submit")
    assert client.post(_url("edit", world["p"]), data=data).status_code == 303
    assert _report(world["p"]).status == "submitted"


def test_invalid_choice_is_422_not_500(client, login, world):
    g1 = world["goals"][0]
    r = _submit(client, login, world, recommendation="abschaffen",
                **{f"goal_{g1.id}_reached": "vielleicht"})
    assert r.status_code == 422
    assert _report(world["p"]) is None


def test_too_long_text_is_422(client, login, world):
    r = _submit(client, login, world, summary="x" * 20001)
    assert r.status_code == 422
    assert "x" * 100 in r.get_data(as_text=True)


def test_goal_of_another_pilot_is_ignored(client, login, world):
    foreign = f.proposal(status="running")
    fg = f.goal(foreign)
    login(world["partner"])
    client.post(_url("edit", world["p"]),
                data={"save": "draft", f"goal_{fg.id}_value": "99", "summary": "x"})
    report = _report(world["p"])
    assert fg.id not in {gr.goal_id for gr in report.goal_results}


def test_submit_complete_notifies_coordinators_and_locks_the_report(client, login, world,
                                                                    outbox):
    report = _submitted(client, login, world)
    assert report.status == "submitted" and report.submitted_at is not None
    reached = {gr.goal_id: gr.reached for gr in report.goal_results}
    assert reached == {world["goals"][0].id: True, world["goals"][1].id: False}
    assert _actions(report.id) == ["report.create", "report.submit"]
    assert [m.recipient for m in outbox(world["coordinator"].email)]
    assert db.session.query(Notification).filter_by(
        user_id=world["coordinator"].id, kind="report_submitted").count() == 1
    # the pilot keeps running until the report is accepted
    assert _report(world["p"]).proposal.status == "running"
    # locked: the partner sees the report, not the form, and cannot post
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert "Ihr Bericht ist eingereicht" in html
    assert "Der Pilot hat die Bearbeitungszeit" in html
    assert client.post(_url("edit", world["p"]), data={"summary": "neu"}).status_code == 403


# ---------------------------------------------------------------- coordinator


def test_staff_see_a_draft_only_as_not_yet_submitted(client, login, world):
    login(world["partner"])
    client.post(_url("edit", world["p"]), data={"save": "draft", "summary": "Geheimer Entwurf"})
    login(world["coordinator"])
    r = client.get(_url("edit", world["p"]))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Geheimer Entwurf" not in html
    assert "noch nicht eingereicht" in html


def test_send_back_requires_a_comment(client, login, world):
    _submitted(client, login, world)
    login(world["coordinator"])
    r = client.post(_url("send_back", world["p"]), data={"comment": "  "})
    assert r.status_code == 422
    assert "überarbeiten soll" in r.get_data(as_text=True)
    assert _report(world["p"]).status == "submitted"


def test_send_back_returns_it_with_the_comment_and_the_partner_resubmits(client, login, world,
                                                                          outbox):
    _submitted(client, login, world)
    login(world["coordinator"])
    r = client.post(_url("send_back", world["p"]),
                    data={"comment": "Bitte ergänzen Sie die Kosten des Betriebs."})
    assert r.status_code == 303
    report = _report(world["p"])
    assert report.status == "returned" and report.return_comment.startswith("Bitte ergänzen")
    mails = outbox(world["partner"].email)
    assert any("Bitte ergänzen Sie die Kosten" in m.body_text for m in mails)
    assert db.session.query(Notification).filter_by(kind="report_returned").count() == 2

    login(world["partner"])
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert "zur Überarbeitung zurückgegeben" in html
    assert "Bitte ergänzen Sie die Kosten des Betriebs." in html
    assert "Der Pilot hat die Bearbeitungszeit" in html  # form filled with the report

    r = _submit(client, login, world, what_did_not_work="Betriebskosten: 2.000 Euro im Monat.")
    assert r.status_code == 303
    report = _report(world["p"])
    assert report.status == "submitted"
    assert _actions(report.id) == ["report.create", "report.submit", "report.return",
                                   "report.save", "report.submit"]
    # the history shows each step
    login(world["coordinator"])
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert html.count("Ergebnisbericht eingereicht") == 2
    assert "Ergebnisbericht zur Überarbeitung zurückgegeben" in html


def test_accept_completes_the_pilot_and_tells_the_partner(client, login, world, outbox):
    report = _accepted(client, login, world)
    assert report.status == "accepted" and report.accepted_at is not None
    p = report.proposal
    assert p.status == "completed" and p.ended_at is not None
    assert "report.accept" in _actions(report.id)
    assert db.session.query(AuditEvent).filter_by(action="proposal.complete").count() == 1
    assert db.session.query(Notification).filter_by(
        user_id=world["partner"].id, kind="report_accepted").count() == 1
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert "Ergebnisbericht angenommen" in html
    assert "Abgeschlossen" in html


def test_goals_table_shows_baseline_target_reached_and_whether_met(client, login, world):
    _accepted(client, login, world)
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert '<table class="kern-table">' in html
    for text in ("14 Tage", "7 Tage", "6 Tage", "0 %", "60 %", "55 %", "Erreicht",
                 "Nicht erreicht"):
        assert text in html


def test_pilot_cannot_be_completed_without_an_accepted_report(client, login, world):
    p = world["p"]
    coordinator = world["coordinator"]
    assert "nicht eingereicht" in str(workflow.check(p, "complete", coordinator))
    _submitted(client, login, world)
    p = _report(p).proposal
    assert "annehmen" in str(workflow.check(p, "complete", coordinator))
    login(coordinator)
    client.post(_url("send_back", p), data={"comment": "Bitte ergänzen."})
    p = _report(p).proposal
    assert workflow.check(p, "complete", coordinator) is not None
    # and not through the review page either
    r = client.post(url_for("review.act", proposal_id=p.id), data={"action": "complete"})
    assert r.status_code in (303, 422, 403)
    assert _report(p).proposal.status == "running"


# ---------------------------------------------------------------- publication


def test_publish_needs_the_partners_consent(client, login, world):
    _submitted(client, login, world)
    report = _report(world["p"])
    report.publication_consent = False
    db.session.commit()
    login(world["coordinator"])
    client.post(_url("accept", world["p"]), data=YES)
    r = client.post(_url("publish", world["p"]), data=YES)
    assert r.status_code == 403
    assert "nicht zugestimmt" in r.get_data(as_text=True)
    assert _report(world["p"]).published_at is None


def test_publish_publishes_the_pilot_with_it_and_shows_results_on_the_showcase(
        client, login, world, outbox):
    _accepted(client, login, world)
    assert _report(world["p"]).proposal.published_at is None
    r = client.post(_url("publish", world["p"]), data=YES)
    assert r.status_code == 303
    report = _report(world["p"])
    assert report.published_at is not None and report.proposal.published_at is not None
    assert "report.publish" in _actions(report.id)
    assert db.session.query(Notification).filter_by(kind="report_published").count() == 2

    client.post(url_for("auth.logout"))
    visitor = client.application.test_client()
    page = visitor.get(url_for("showcase.pilot", proposal_id=world["p"].id)).get_data(as_text=True)
    assert "Ergebnisse" in page and "halbiert" in page and "6 Tage" in page
    assert "Ausrollen" in page
    assert "Gemessen im dritten Monat." not in page  # goal comments stay in the report
    overview = visitor.get(url_for("showcase.results")).get_data(as_text=True)
    assert "Digitale Wohngeldvorprüfung" in overview
    assert "1 von 2 Zielen erreicht" in overview


def test_publish_refused_when_the_pilot_may_not_be_public(client, login, world):
    _accepted(client, login, world)
    p = _report(world["p"]).proposal
    p.publication_consent = False  # no consent for the pilot itself
    db.session.commit()
    r = client.post(_url("publish", world["p"]), data=YES)
    assert r.status_code == 403
    assert _report(world["p"]).published_at is None


def test_unpublish_removes_the_results_from_the_showcase(client, login, world):
    _accepted(client, login, world)
    client.post(_url("publish", world["p"]), data=YES)
    r = client.post(_url("unpublish", world["p"]))
    assert r.status_code == 303
    report = _report(world["p"])
    assert report.published_at is None
    assert "report.unpublish" in _actions(report.id)
    visitor = client.application.test_client()
    page = visitor.get(url_for("showcase.pilot", proposal_id=world["p"].id)).get_data(as_text=True)
    assert "halbiert" not in page  # the pilot stays, its results are gone
    assert "Digitale Wohngeldvorprüfung" not in visitor.get(
        url_for("showcase.results")).get_data(as_text=True)


def test_showcase_never_shows_unpublished_drafts_or_returned_reports(client, login, world):
    login(world["partner"])
    client.post(_url("edit", world["p"]), data={"save": "draft", "summary": "Entwurfstext"})
    p = _report(world["p"]).proposal
    p.published_at = utcnow()  # the pilot is public
    db.session.commit()
    visitor = client.application.test_client()

    def shown():
        a = visitor.get(url_for("showcase.pilot", proposal_id=p.id)).get_data(as_text=True)
        b = visitor.get(url_for("showcase.results")).get_data(as_text=True)
        return "Entwurfstext" in a or "Digitale Wohngeldvorprüfung" in b

    assert not shown()
    report = _report(p)
    report.published_at = utcnow()  # even if a timestamp slipped in: drafts stay private
    db.session.commit()
    assert not shown()
    report.status = "returned"
    db.session.commit()
    assert not shown()


def test_results_of_a_pilot_taken_off_the_showcase_are_not_shown(client, login, world):
    _accepted(client, login, world)
    client.post(_url("publish", world["p"]), data=YES)
    p = _report(world["p"]).proposal
    p.published_at = None
    db.session.commit()
    visitor = client.application.test_client()
    assert visitor.get(url_for("showcase.pilot", proposal_id=p.id)).status_code == 404
    assert "Digitale Wohngeldvorprüfung" not in visitor.get(
        url_for("showcase.results")).get_data(as_text=True)


def test_results_overview_filters_and_paginates(client, login, app_ctx):
    topic = f.topic(name_de="Soziales")
    coordinator = f.staff("coordinator")
    for n in range(12):
        p = f.proposal(status="completed", title=f"Pilot Nummer {n:02d}",
                       published_at=utcnow())
        if n % 2:
            p.topics.append(topic)
        g = f.goal(p)
        p.results_report = ResultsReport(
            status="accepted", summary=f"Zusammenfassung {n:02d}",
            recommendation="stop" if n == 3 else "roll_out", publication_consent=True,
            submitted_at=utcnow(), accepted_at=utcnow(), published_at=utcnow(),
            goal_results=[GoalResult(goal_id=g.id, value_reached="5 Tage", reached=True)])
        db.session.commit()
    visitor = client
    first = visitor.get(url_for("showcase.results")).get_data(as_text=True)
    assert "12 Ergebnisse" in first and "Seite 1 von 2" in first
    stop = visitor.get(url_for("showcase.results", status="stop")).get_data(as_text=True)
    assert "1 Ergebnis" in stop and "Pilot Nummer 03" in stop
    social = visitor.get(url_for("showcase.results", topic=topic.slug)).get_data(as_text=True)
    assert "6 Ergebnisse" in social and "Pilot Nummer 00" not in social
    found = visitor.get(url_for("showcase.results", q="Zusammenfassung 07")).get_data(as_text=True)
    assert "Pilot Nummer 07" in found and "Pilot Nummer 08" not in found
    bad = visitor.get(url_for("showcase.results", status="<x>", authority="abc", page="-3"))
    assert bad.status_code == 200
    partial = visitor.get(url_for("showcase.results", status="stop"),
                          headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert "<html" not in text and "Pilot Nummer 03" in text and "hx-swap-oob" in text
    assert coordinator  # the data was set up without any UI


def test_results_link_in_the_main_navigation(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/results"' in html and "Ergebnisse" in html


# ---------------------------------------------------------------- refusals over every role


def _refused(response) -> bool:
    return response.status_code in (403, 404)


def test_visitor_is_sent_to_the_login(client, world):
    for endpoint in ("edit",):
        r = client.get(_url(endpoint, world["p"]))
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    for endpoint in ("submit", "send_back", "accept", "publish", "unpublish"):
        r = client.post(_url(endpoint, world["p"]))
        assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_partner_of_another_organisation_sees_nothing(client, login, world):
    _submitted(client, login, world)
    login(world["other"])
    response = client.get(_url("edit", world["p"]))
    assert response.status_code == 404
    assert "halbiert" not in response.text  # nothing of the report
    for endpoint in ("submit", "send_back", "accept", "publish", "unpublish"):
        assert client.post(_url(endpoint, world["p"])).status_code == 404
    assert _report(world["p"]).status == "submitted"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_may_not_write_the_report(client, login, world, role):
    login(f.staff(role))
    r = client.post(_url("submit", world["p"]), data=_complete_form(world["goals"]))
    assert _refused(r)
    assert _report(world["p"]) is None


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r != "coordinator"])
def test_only_coordinators_review_and_publish(client, login, world, role):
    _submitted(client, login, world)
    login(f.staff(role))
    for endpoint in ("send_back", "accept"):
        assert _refused(client.post(_url(endpoint, world["p"]), data={"comment": "x"}))
    assert _report(world["p"]).status == "submitted"


def test_partner_may_not_accept_or_send_back_their_own_report(client, login, world):
    _submitted(client, login, world)
    for endpoint in ("send_back", "accept", "publish", "unpublish"):
        assert _refused(client.post(_url(endpoint, world["p"]), data={"comment": "x"}))
    assert _report(world["p"]).status == "submitted"


def test_coordinator_who_is_a_member_may_not_accept(client, login, world):
    _submitted(client, login, world)

    world["colleague"].role_rows.append(UserRole(role="coordinator"))
    db.session.commit()
    login(world["colleague"])
    assert client.post(_url("accept", world["p"]), data=YES).status_code == 403
    assert _report(world["p"]).status == "submitted"


@pytest.mark.parametrize("role", ["admin", "decider", "dpo", "iso"])
def test_overseeing_staff_read_a_submitted_report(client, login, world, role):
    _submitted(client, login, world)
    login(f.staff(role))
    html = client.get(_url("edit", world["p"])).get_data(as_text=True)
    assert "halbiert" in html
    assert "Bericht annehmen" not in html


def test_unassigned_reviewer_sees_nothing(client, login, world):
    _submitted(client, login, world)
    login(f.staff("reviewer"))
    response = client.get(_url("edit", world["p"]))
    assert response.status_code == 404
    assert "halbiert" not in response.text


def test_no_report_before_the_pilot_runs(client, login, app_ctx):
    partner = f.user()
    p = f.proposal(f.organisation(owner=partner), status="approved")
    login(partner)
    assert client.get(_url("edit", p)).status_code == 404
    assert client.post(_url("submit", p), data={"summary": "x"}).status_code == 404
    assert _report(p) is None


def test_unknown_pilot_is_404(client, login, world):
    login(world["coordinator"])
    assert client.get(url_for("results.edit", proposal_id=999999)).status_code == 404
    assert client.post(url_for("results.accept", proposal_id=999999)).status_code == 404


def test_no_writing_after_the_pilot_was_cancelled(client, login, world):
    p = world["p"]
    p.status = "cancelled"
    db.session.commit()
    login(world["partner"])
    r = client.post(_url("submit", p), data=_complete_form(world["goals"]))
    assert r.status_code == 403
    assert "solange der Pilot läuft" in r.get_data(as_text=True)


def test_a_second_coordinator_accepting_after_the_first_is_told_so_on_the_report(
        client, login, world):
    """The report was accepted a moment ago by someone else: the second coordinator lands on
    the report with the reason, not on an error page, and nothing happens twice."""
    _accepted(client, login, world)
    login(f.staff("coordinator", name="Konrad Koordination"))
    r = client.post(_url("accept", world["p"]), data=YES)
    assert r.status_code == 303 and r.headers["Location"].endswith(_url("edit", world["p"]))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Der Ergebnisbericht wurde bereits angenommen." in page
    assert "kern-alert--danger" in page
    assert _report(world["p"]).status == "accepted"
    assert db.session.get(Proposal, world["p"].id).status == "completed"
