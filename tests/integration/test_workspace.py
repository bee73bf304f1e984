"""The pilot workspace: who sees it, goals before the start, conversation, milestones, documents.

A partner never sees an internal note or an internal document: not in the page, not in the
htmx fragment, not in a download, not in a mail.
"""
from __future__ import annotations

import io
from datetime import date, timedelta
import re

from innolab.models._base import utcnow
import pytest
from flask import url_for
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import (
    Attachment,
    AuditEvent,
    Document,
    DocumentVersion,
    Membership,
    Message,
    Milestone,
    Notification,
    PilotGoal,
    PilotMute,
    ReviewAssignment,
)
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PDF2 = b"%PDF-1.4\n% zweite Fassung\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
HX = {"HX-Request": "true"}
SECRET = "Vertraulich: Budget wird gekürzt"
SECRET_DOC = "Interne Bewertung"

STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")


class World:
    pass


@pytest.fixture
def w(app_ctx):
    """A running pilot with its team, staff of every role and an outsider."""
    x = World()
    x.owner = f.user(name="Paula Partner")
    x.member = f.user(name="Max Mitglied")
    x.org = f.organisation(owner=x.owner, members=[x.member])
    x.outsider = f.user(name="Olga Andere")
    f.organisation(owner=x.outsider)
    x.staff = {role: f.staff(role, name=f"Staff {role}") for role in STAFF_ROLES}
    x.coordinator = x.staff["coordinator"]
    x.reviewer = x.staff["reviewer"]
    x.p = f.proposal(org=x.org, status="running", title="Digitale Poststelle")
    f.goal(x.p)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal=x.p, reviewer=x.reviewer,
                                    assigned_by_id=x.coordinator.id))
    db.session.commit()
    return x


def _pdf(name="bericht.pdf", data=PDF):
    return (io.BytesIO(data), name)


def _post_message(client, p, body, internal=False, files=(), headers=None):
    data = {"message-body": body}
    if internal:
        data["message-internal"] = "y"
    if files:
        data["message-files"] = list(files)
    return client.post(url_for("pilots.messages", proposal_id=p.id), data=data,
                       headers=headers or {}, content_type="multipart/form-data")


def _users(w):
    return {"owner": w.owner, "member": w.member, "outsider": w.outsider, **w.staff}


# ---------------------------------------------------------------- who may see the workspace


@pytest.mark.parametrize("who, expected", [
    ("visitor", 302), ("owner", 200), ("member", 200), ("outsider", 404),
    ("admin", 200), ("coordinator", 200), ("reviewer", 200), ("decider", 200), ("dpo", 200),
    ("iso", 200),
])
def test_workspace_page_by_role(w, client, login, who, expected):
    if who != "visitor":
        login(_users(w)[who])
    url = url_for("pilots.workspace", proposal_id=w.p.id)
    r = client.get(url)
    assert r.status_code == expected
    if expected == 200:
        assert "Projektraum: Digitale Poststelle" in r.text
        assert "Bearbeitungszeit je Antrag" in r.text  # the goals
    fragment = client.get(url_for("pilots.messages", proposal_id=w.p.id), headers=HX)
    if who == "visitor":
        assert "/login" in fragment.headers["HX-Redirect"]
    else:
        assert fragment.status_code == expected
    if expected == 200:
        assert "<html" not in fragment.text


def test_workspace_unassigned_reviewer_refused(w, client, login):
    login(f.staff("reviewer"))
    assert client.get(url_for("pilots.workspace", proposal_id=w.p.id)).status_code == 404


@pytest.mark.parametrize("status, expected", [
    ("draft", 404), ("submitted", 404), ("in_review", 404), ("rejected", 404),
    ("approved", 200), ("running", 200), ("completed", 200), ("cancelled", 200),
])
def test_workspace_only_for_pilots(w, client, login, status, expected):
    w.p.status = status
    db.session.commit()
    login(w.owner)
    assert client.get(url_for("pilots.workspace", proposal_id=w.p.id)).status_code == expected


def test_workspace_unknown_proposal_404(w, client, login):
    login(w.coordinator)
    assert client.get(url_for("pilots.workspace", proposal_id=999999)).status_code == 404


def test_workspace_linked_from_proposal_pages(w, client, login):
    link = url_for("pilots.workspace", proposal_id=w.p.id)
    login(w.owner)
    assert link in client.get(url_for("proposals.show", proposal_id=w.p.id)).text
    login(w.coordinator)
    page = client.get(url_for("review.proposal", proposal_id=w.p.id)).text
    assert link in page
    assert "Ziele des Piloten" in page


# ---------------------------------------------------------------- goals


def _goal_data(title="Anteil digitaler Anträge"):
    return {"title": title, "baseline": "10 %", "target": "50 %",
            "measurement": "Monatliche Auswertung"}


@pytest.mark.parametrize("who", ["owner", "member", "coordinator"])
def test_goals_added_while_approved(w, client, login, who):
    w.p.status = "approved"
    db.session.commit()
    login(_users(w)[who])
    r = client.post(url_for("pilots.goals", proposal_id=w.p.id), data=_goal_data())
    assert r.status_code == 303
    assert [g.title for g in w.p.goals][-1] == "Anteil digitaler Anträge"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "goal.create"))
    assert "Anteil digitaler Anträge" in client.get(r.headers["Location"]).text


@pytest.mark.parametrize("who, expected", [
    ("outsider", 404), ("reviewer", 403), ("decider", 403), ("admin", 403), ("dpo", 403),
    ("iso", 403),
])
def test_goals_refused_for_others(w, client, login, who, expected):
    w.p.status = "approved"
    db.session.commit()
    login(_users(w)[who])
    r = client.post(url_for("pilots.goals", proposal_id=w.p.id), data=_goal_data())
    assert r.status_code == expected
    assert len(w.p.goals) == 1


@pytest.mark.parametrize("status", ["running", "completed", "cancelled"])
def test_goals_read_only_after_start(w, client, login, status):
    w.p.status = status
    db.session.commit()
    g = w.p.goals[0]
    login(w.owner)
    page = client.get(url_for("pilots.goals", proposal_id=w.p.id))
    assert page.status_code == 200 and "Ziel hinzufügen" not in page.text
    assert client.post(url_for("pilots.goals", proposal_id=w.p.id),
                       data=_goal_data()).status_code == 403
    assert client.post(url_for("pilots.goal", proposal_id=w.p.id, goal_id=g.id),
                       data=_goal_data("Neu")).status_code == 403
    assert client.post(url_for("pilots.delete_goal", proposal_id=w.p.id,
                               goal_id=g.id)).status_code == 403
    db.session.refresh(g)
    assert g.title == "Bearbeitungszeit je Antrag"


def test_goal_edit_and_delete_while_approved(w, client, login):
    w.p.status = "approved"
    db.session.commit()
    g = w.p.goals[0]
    goal_id = g.id
    login(w.member)
    r = client.post(url_for("pilots.goal", proposal_id=w.p.id, goal_id=goal_id),
                    data=_goal_data("Schnellere Bescheide"))
    assert r.status_code == 303
    db.session.refresh(g)
    assert g.title == "Schnellere Bescheide" and g.target == "50 %"
    r = client.post(url_for("pilots.delete_goal", proposal_id=w.p.id, goal_id=goal_id))
    assert r.status_code == 303
    assert db.session.get(PilotGoal, goal_id) is None


def test_goal_bad_input_keeps_what_was_typed(w, client, login):
    w.p.status = "approved"
    db.session.commit()
    login(w.owner)
    r = client.post(url_for("pilots.goals", proposal_id=w.p.id),
                    data={"title": "Mein halbes Ziel", "baseline": "", "target": "",
                          "measurement": ""})
    assert r.status_code == 422
    assert "Mein halbes Ziel" in r.text
    assert "Bitte geben Sie den Zielwert an." in r.text
    assert len(w.p.goals) == 1


def test_goal_of_another_pilot_404(w, client, login):
    other = f.proposal(status="approved")
    g = f.goal(other)
    w.p.status = "approved"
    db.session.commit()
    login(w.owner)
    assert client.post(url_for("pilots.goal", proposal_id=w.p.id, goal_id=g.id),
                       data=_goal_data()).status_code == 404


def test_start_pilot_without_goals_links_to_goals(w, client, login):
    w.p.status = "approved"
    for g in list(w.p.goals):
        db.session.delete(g)
    db.session.commit()
    login(w.coordinator)
    page = client.get(url_for("review.proposal", proposal_id=w.p.id)).text
    assert url_for("pilots.goals", proposal_id=w.p.id) in page
    assert "mindestens ein messbares Ziel" in page


def test_goals_shown_on_partner_page_after_start(w, client, login):
    login(w.owner)
    page = client.get(url_for("proposals.show", proposal_id=w.p.id)).text
    assert "Ziele des Piloten" in page and "7 Tage" in page
    assert url_for("pilots.goals", proposal_id=w.p.id) + '"' not in page  # no edit link


# ---------------------------------------------------------------- messages


def test_message_posted_by_partner_notifies_team_and_staff_taking_part(w, client, login,
                                                                       outbox):
    login(w.owner)
    r = _post_message(client, w.p, "Wir haben die **Schnittstelle** fertig.")
    assert r.status_code == 303
    m = db.session.scalar(select(Message))
    assert m.author_id == w.owner.id and not m.internal
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "<strong>Schnittstelle</strong>" in page
    recipients = {mail.recipient for mail in outbox()}
    assert w.member.email in recipients
    # no staff member has written yet and there is no contact: the coordinators hear it
    assert w.coordinator.email in recipients
    assert w.reviewer.email not in recipients  # reviewing it is not taking part in the pilot
    assert w.owner.email not in recipients  # not the author
    assert w.staff["dpo"].email not in recipients  # not on the pilot
    assert any("Schnittstelle" in mail.body_text for mail in outbox(w.member.email))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "message.post"))


def test_messages_reach_those_taking_part_and_not_who_muted_the_pilot(w, client, login,
                                                                      new_client, outbox):
    contact = f.staff("coordinator", name="Kora Kontakt")
    w.p.staff_contact_id = contact.id
    db.session.commit()
    staff = login(w.reviewer, new_client())
    assert _post_message(staff, w.p, "Eine Frage der Gutachterin").status_code == 303
    recipients = {mail.recipient for mail in outbox()}
    assert {w.owner.email, w.member.email, contact.email} <= recipients
    assert w.coordinator.email not in recipients  # the pilot has its contact now

    member = login(w.member, new_client())
    page = member.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "Sie werden über neue Nachrichten in diesem Piloten benachrichtigt." in page
    r = member.post(url_for("pilots.mute", proposal_id=w.p.id), data={"muted": "1"})
    assert r.status_code == 303 and r.location.endswith("#messages")
    page = member.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "nicht mehr benachrichtigt" in page and "Wieder benachrichtigen" in page

    def member_notices():
        return len(db.session.scalars(select(Notification).where(
            Notification.user_id == w.member.id, Notification.kind == "new_message")).all())

    before, noticed = len(outbox()), member_notices()
    login(w.owner)
    assert _post_message(client, w.p, "Antwort der Partnerin").status_code == 303
    new = {mail.recipient for mail in outbox()[before:]}
    assert w.reviewer.email in new and contact.email in new  # the reviewer wrote: takes part
    assert w.member.email not in new and member_notices() == noticed

    member.post(url_for("pilots.mute", proposal_id=w.p.id), data={"muted": "0"})
    before = len(outbox())
    _post_message(client, w.p, "Noch eine Antwort")
    assert w.member.email in {mail.recipient for mail in outbox()[before:]}


def test_muting_needs_the_workspace(w, client, login):
    login(w.outsider)
    assert client.post(url_for("pilots.mute", proposal_id=w.p.id),
                       data={"muted": "1"}).status_code == 404
    assert db.session.scalars(select(PilotMute)).all() == []


def test_message_markdown_is_sanitised(w, client, login):
    login(w.owner)
    _post_message(client, w.p, "<script>alert(1)</script> [x](javascript:alert(1))")
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "<script>alert(1)" not in page
    assert "href=\"javascript" not in page


def test_message_htmx_post_returns_conversation_with_empty_form(w, client, login):
    login(w.coordinator)
    r = _post_message(client, w.p, "Bitte Termin bestätigen", headers=HX)
    assert r.status_code == 200
    assert "Bitte Termin bestätigen" in r.text
    assert "<html" not in r.text
    assert 'name="message-body"' in r.text and "Bitte Termin bestätigen</textarea>" not in r.text


def test_message_empty_is_422_and_keeps_files_field(w, client, login):
    login(w.owner)
    r = _post_message(client, w.p, "   ")
    assert r.status_code == 422
    assert "Bitte schreiben Sie eine Nachricht." in r.text
    assert db.session.scalar(select(Message)) is None


def test_message_bad_attachment_is_422_and_keeps_text(w, client, login):
    login(w.owner)
    r = _post_message(client, w.p, "Hier der Bericht", files=[(io.BytesIO(b"kein pdf"), "x.pdf")])
    assert r.status_code == 422
    assert "Hier der Bericht" in r.text
    assert "keine gültige PDF-Datei" in r.text
    assert db.session.scalar(select(Message)) is None


def test_message_with_attachment_downloadable_by_team(w, client, login):
    login(w.owner)
    r = _post_message(client, w.p, "Anbei das Protokoll", files=[_pdf("protokoll.pdf")])
    assert r.status_code == 303
    a = db.session.scalar(select(Attachment))
    assert a.message_id is not None and a.filename == "protokoll.pdf"
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert url_for("proposals.download", attachment_id=a.id) in page
    for user in (w.member, w.coordinator, w.reviewer):
        login(user)
        assert client.get(url_for("proposals.download", attachment_id=a.id)).data == PDF
    login(w.outsider)
    assert client.get(url_for("proposals.download", attachment_id=a.id)).status_code == 404
    # not listed among the proposal's own attachments
    login(w.owner)
    show = client.get(url_for("proposals.show", proposal_id=w.p.id)).text
    assert "Es sind keine Anhänge vorhanden." in show


def test_internal_note_never_reaches_partners(w, client, login, outbox):
    w.p.staff_contact_id = w.reviewer.id  # the staff taking part hear it
    db.session.commit()
    login(w.coordinator)
    r = _post_message(client, w.p, SECRET, internal=True, files=[_pdf("intern.pdf")])
    assert r.status_code == 303
    note = db.session.scalar(select(Message))
    assert note.internal
    a = note.attachments[0]
    # staff see it
    for role in ("coordinator", "reviewer", "admin"):
        login(w.staff[role])
        assert SECRET in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
        assert client.get(url_for("proposals.download", attachment_id=a.id)).status_code == 200
    # partners never: page, htmx fragment, download, mail
    for partner in (w.owner, w.member):
        login(partner)
        assert SECRET not in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
        frag = client.get(url_for("pilots.messages", proposal_id=w.p.id), headers=HX)
        assert frag.status_code == 200 and SECRET not in frag.text
        assert "intern.pdf" not in frag.text
        assert client.get(url_for("proposals.download", attachment_id=a.id)).status_code == 404
        assert outbox(partner.email) == []
    assert any(SECRET in m.body_text for m in outbox(w.reviewer.email))
    for mail in outbox():
        assert mail.recipient not in (w.owner.email, w.member.email)


def test_internal_checkbox_only_for_staff(w, client, login):
    login(w.owner)
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "message-internal" not in page
    assert _post_message(client, w.p, "Ich bin intern", internal=True).status_code == 403
    assert db.session.scalar(select(Message)) is None
    login(w.coordinator)
    assert "message-internal" in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text


def test_staff_member_of_the_org_sees_no_internal(w, client, login):
    insider = f.staff("coordinator")
    w.org.memberships.append(Membership(user=insider, role="member"))
    db.session.commit()
    login(w.coordinator)
    _post_message(client, w.p, SECRET, internal=True)
    login(insider)
    assert SECRET not in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text


def test_messages_fragment_polls_only_changes(w, client, login):
    login(w.owner)
    frag = client.get(url_for("pilots.messages", proposal_id=w.p.id), headers=HX)
    assert frag.status_code == 200 and "Noch keine Nachrichten." in frag.text
    assert "every 5s" in frag.text

    seen = re.search(r"seen=([0-9a-f]+)", frag.text).group(1)
    again = client.get(url_for("pilots.messages", proposal_id=w.p.id, seen=seen), headers=HX)
    assert again.status_code == 204
    login(w.coordinator)
    _post_message(client, w.p, SECRET, internal=True)
    login(w.owner)  # an internal note changes nothing for the partner
    again = client.get(url_for("pilots.messages", proposal_id=w.p.id, seen=seen), headers=HX)
    assert again.status_code == 204
    login(w.coordinator)
    _post_message(client, w.p, "Neue Nachricht für alle")
    login(w.owner)
    changed = client.get(url_for("pilots.messages", proposal_id=w.p.id, seen=seen), headers=HX)
    assert changed.status_code == 200 and "Neue Nachricht für alle" in changed.text
    assert 'aria-live="polite"' in client.get(
        url_for("pilots.workspace", proposal_id=w.p.id)).text


def test_messages_get_without_htmx_redirects_to_page(w, client, login):
    login(w.owner)
    r = client.get(url_for("pilots.messages", proposal_id=w.p.id))
    assert r.status_code == 303
    assert r.headers["Location"].endswith("#messages")


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_messages_closed_after_pilot_ended(w, client, login, status):
    w.p.status = status
    db.session.commit()
    login(w.owner)
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "Nachricht senden" not in page
    resp = _post_message(client, w.p, "Noch etwas")
    assert resp.status_code == 403
    assert "Der Pilot ist beendet; der Projektraum kann nur noch gelesen werden." in resp.text
    assert db.session.scalar(select(Message).where(Message.body == "Noch etwas")) is None


def test_message_post_refused_for_outsider(w, client, login):
    login(w.outsider)
    assert _post_message(client, w.p, "Hallo").status_code == 404
    assert db.session.scalar(select(Message)) is None


def test_message_post_by_visitor_goes_to_login(w, client):
    r = _post_message(client, w.p, "Hallo")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert db.session.scalar(select(Message)) is None


# ---------------------------------------------------------------- milestones


def test_milestone_lifecycle(w, client, login):
    login(w.owner)
    due = date.today() + timedelta(days=10)
    r = client.post(url_for("pilots.milestones", proposal_id=w.p.id),
                    data={"milestone-title": "Schnittstelle fertig",
                          "milestone-due_date": due.isoformat(),
                          "milestone-description": "Anbindung an das Fachverfahren"})
    assert r.status_code == 303
    m = db.session.scalar(select(Milestone))
    assert m.status() == "open"
    page = client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert "Schnittstelle fertig" in page and "offen" in page

    login(w.coordinator)
    r = client.post(url_for("pilots.milestone", proposal_id=w.p.id, milestone_id=m.id),
                    data={"action": "done"})
    assert r.status_code == 303
    db.session.refresh(m)
    assert m.status() == "done"
    assert "erledigt" in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    client.post(url_for("pilots.milestone", proposal_id=w.p.id, milestone_id=m.id),
                data={"action": "reopen"})
    db.session.refresh(m)
    assert m.status() == "open"

    r = client.post(url_for("pilots.milestone", proposal_id=w.p.id, milestone_id=m.id),
                    data={"action": "save", "title": "Schnittstelle live",
                          "due_date": (date.today() - timedelta(days=1)).isoformat(),
                          "description": ""})
    assert r.status_code == 303
    db.session.refresh(m)
    assert m.title == "Schnittstelle live" and m.status() == "late"
    assert "überfällig" in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"milestone.create", "milestone.done", "milestone.reopen",
            "milestone.update"} <= actions


def test_milestone_bad_date_is_422(w, client, login):
    login(w.owner)
    r = client.post(url_for("pilots.milestones", proposal_id=w.p.id),
                    data={"milestone-title": "Abnahme", "milestone-due_date": "31.02.2026"})
    assert r.status_code == 422
    assert 'value="Abnahme"' in r.text
    assert db.session.scalar(select(Milestone)) is None


@pytest.mark.parametrize("who, expected", [
    ("outsider", 404), ("reviewer", 403), ("decider", 403), ("admin", 403), ("dpo", 403),
    ("iso", 403),
])
def test_milestone_editing_refused(w, client, login, who, expected):
    m = Milestone(proposal=w.p, title="Abnahme", due_date=date.today())
    db.session.add(m)
    db.session.commit()
    login(_users(w)[who])
    assert client.post(url_for("pilots.milestones", proposal_id=w.p.id),
                       data={"milestone-title": "X", "milestone-due_date": "2030-01-01"}
                       ).status_code == expected
    assert client.post(url_for("pilots.milestone", proposal_id=w.p.id, milestone_id=m.id),
                       data={"action": "done"}).status_code == expected
    db.session.refresh(m)
    assert m.done_at is None


def test_milestones_fragment_for_htmx(w, client, login):
    db.session.add(Milestone(proposal=w.p, title="Abnahme", due_date=date.today()))
    db.session.commit()
    login(w.member)
    r = client.get(url_for("pilots.milestones", proposal_id=w.p.id), headers=HX)
    assert r.status_code == 200 and "Abnahme" in r.text and "<html" not in r.text
    login(w.outsider)
    assert client.get(url_for("pilots.milestones", proposal_id=w.p.id),
                      headers=HX).status_code == 404


# ---------------------------------------------------------------- documents


def _upload_document(client, p, title, internal=False, data=PDF, name="konzept.pdf"):
    form = {"document-title": title, "document-file": (io.BytesIO(data), name),
            "document-note": "Erste Fassung"}
    if internal:
        form["document-internal"] = "y"
    return client.post(url_for("pilots.documents", proposal_id=p.id), data=form,
                       content_type="multipart/form-data")


def test_document_versions_are_kept(w, client, login, storage_backend):
    login(w.owner)
    assert _upload_document(client, w.p, "Betriebskonzept").status_code == 303
    doc = db.session.scalar(select(Document))
    login(w.coordinator)
    r = client.post(url_for("pilots.document", proposal_id=w.p.id, document_id=doc.id),
                    data={"file": (io.BytesIO(PDF2), "konzept-v2.pdf"), "note": "Kapitel 3 neu"},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    db.session.refresh(doc)
    assert [v.number for v in doc.versions] == [1, 2]
    v1, v2 = doc.versions
    login(w.member)
    page = client.get(url_for("pilots.document", proposal_id=w.p.id, document_id=doc.id)).text
    assert "konzept.pdf" in page and "konzept-v2.pdf" in page and "Kapitel 3 neu" in page
    assert client.get(url_for("pilots.document_version", version_id=v1.id)).data == PDF
    second = client.get(url_for("pilots.document_version", version_id=v2.id))
    assert second.data == PDF2 and second.mimetype == "application/pdf"
    assert second.headers["Content-Disposition"].startswith("attachment")
    assert "konzept-v2.pdf" in second.headers["Content-Disposition"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.version"))
    # both versions are kept, each its own file, in the storage the app is set to
    assert storage_backend.names() == sorted([v1.stored_name, v2.stored_name])
    assert storage_backend.read(v2.stored_name) == PDF2


def test_document_bad_file_is_422(w, client, login):
    login(w.owner)
    r = _upload_document(client, w.p, "Kostenplan", data=b"nur text", name="plan.xlsx")
    assert r.status_code == 422
    assert 'value="Kostenplan"' in r.text
    assert db.session.scalar(select(Document)) is None


def test_internal_document_hidden_from_partners(w, client, login):
    login(w.coordinator)
    assert _upload_document(client, w.p, SECRET_DOC, internal=True).status_code == 303
    doc = db.session.scalar(select(Document))
    assert doc.internal
    v = doc.versions[0]
    for role in ("coordinator", "reviewer", "admin", "decider"):
        login(w.staff[role])
        assert SECRET_DOC in client.get(url_for("pilots.workspace", proposal_id=w.p.id)).text
        assert client.get(url_for("pilots.document_version", version_id=v.id)).status_code == 200
    for partner in (w.owner, w.member, w.outsider):
        login(partner)
        page = client.get(url_for("pilots.workspace", proposal_id=w.p.id))
        assert SECRET_DOC not in page.text
        assert client.get(url_for("pilots.document_version", version_id=v.id)).status_code == 404
        assert client.get(url_for("pilots.document", proposal_id=w.p.id,
                                  document_id=doc.id)).status_code == 404
        assert client.post(url_for("pilots.document", proposal_id=w.p.id, document_id=doc.id),
                           data={"file": (io.BytesIO(PDF), "x.pdf")},
                           content_type="multipart/form-data").status_code == 404


def test_partner_cannot_make_internal_document(w, client, login):
    login(w.owner)
    assert "document-internal" not in client.get(
        url_for("pilots.workspace", proposal_id=w.p.id)).text
    assert _upload_document(client, w.p, "Versuch", internal=True).status_code == 403
    assert db.session.scalar(select(Document)) is None


@pytest.mark.parametrize("who", ["visitor", "outsider"])
def test_document_download_refused(w, client, login, who):
    login(w.owner)
    _upload_document(client, w.p, "Betriebskonzept")
    v = db.session.scalar(select(DocumentVersion))
    with client.session_transaction() as s:
        s.clear()
    if who == "outsider":
        login(w.outsider)
    r = client.get(url_for("pilots.document_version", version_id=v.id))
    assert r.status_code in ((302,) if who == "visitor" else (404,))
    assert client.get(url_for("pilots.document_version", version_id=999999)).status_code in (
        302, 404)


def test_poll_after_session_ended_redirects_whole_page(w, client):
    r = client.get(url_for("pilots.messages", proposal_id=w.p.id), headers=HX)
    assert r.status_code == 200
    assert "/login" in r.headers["HX-Redirect"]
    assert r.text == ""


def test_internal_workspace_content_not_in_api_or_feeds(w, client, login):
    """The open data (API and feeds) never carries workspace content, least of all internal."""
    w.p.published_at = utcnow()
    db.session.commit()
    login(w.coordinator)
    _post_message(client, w.p, SECRET, internal=True)
    _upload_document(client, w.p, SECRET_DOC, internal=True)
    with client.session_transaction() as s:
        s.clear()
    app = client.application
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or "GET" not in rule.methods:
            continue
        values = {"proposal_id": w.p.id, "slug": w.org.slug, "challenge_id": 999999}
        urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    assert url_for("api.pilot", proposal_id=w.p.id) in urls
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert SECRET not in body and SECRET_DOC not in body, url
