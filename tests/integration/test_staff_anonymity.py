"""Partners never see who on the staff did what, except the pilot's chosen contact person.

Staff with distinctive names and addresses do every kind of thing – assign, review, check,
decide, request changes, start, comment, post notes and files, upload document versions, edit
goals and milestones, send back, accept and publish the results – on proposals in every status.
Then a member of the partner organisation requests every GET route of the URL map with every
object (and the fragments htmx asks for), and the mails and notifications sent to partners,
the feeds and the API are read: no staff name or address appears, only "InnoLab-Team" and the
contact person a coordinator chose for one pilot.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from innolab.domain import results, uploads, workflow
from innolab.domain import review as rv
from innolab.domain import workspace as ws
from innolab.extensions import db
from innolab.models import (
    Attachment, Check, Document, DocumentVersion, Milestone, Notification, OutboxMail, PilotGoal,
    Proposal, Review, ReviewAssignment, Status, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

STAFF = {
    "coordinator": ("Zacharias Geheimkoordinator", "zacharias.geheim@zdmv-intern.example"),
    "reviewer": ("Yvonne Verborgengutachterin", "yvonne.verborgen@zdmv-intern.example"),
    "dpo": ("Xaver Stilldatenschutz", "xaver.still@zdmv-intern.example"),
    "iso": ("Wilma Unsichtbarsicherheit", "wilma.unsichtbar@zdmv-intern.example"),
    "decider": ("Viktor Namenlosentscheider", "viktor.namenlos@zdmv-intern.example"),
}
CONTACT = ("Ulla Ansprechpartnerin", "ulla.kontakt@zdmv-intern.example")


def _file(name="datei.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF), filename=name, content_type="application/pdf")


def _forbidden() -> list[str]:
    words = []
    for name, email in STAFF.values():
        words += [name, name.split()[-1], email, email.split("@")[0]]
    return words


def _staff_rows(p: Proposal, s: dict, *, decided: str | None = None) -> None:
    """What the staff did on `p` so far, as rows: assignment, review, checks, the internal and
    the partner's timeline, an internal file."""
    c, r = s["coordinator"], s["reviewer"]
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=r.id, assigned_by_id=c.id))
    db.session.add(Review(proposal_id=p.id, reviewer_id=r.id, innovation=4, benefit=4,
                          feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", comment="Gutachten", submitted_at=utcnow()))
    for kind, officer in (("data_protection", s["dpo"]), ("information_security", s["iso"])):
        db.session.add(Check(proposal_id=p.id, kind=kind, officer_id=officer.id,
                             outcome="passed", comment="geprüft"))
        db.session.add(TimelineEntry(proposal_id=p.id, actor_id=officer.id,
                                     action=f"{kind}_passed", internal=True,
                                     message=f"geprüft von {officer.name}"))
    entries = [("reviewer_assigned", c, True, r.name), ("review_submitted", r, True, r.name),
               ("start_review", c, False, None)]
    if decided:
        entries.append((decided, s["decider"], False, "Begründung der Entscheidung"))
    for action, actor, internal, message in entries:
        db.session.add(TimelineEntry(proposal_id=p.id, actor_id=actor.id, action=action,
                                     internal=internal, message=message))
    uploads.store(p, _file("intern.pdf"), c, internal=True)
    db.session.commit()


def _workspace_rows(p: Proposal, s: dict) -> None:
    c = s["coordinator"]
    goal = f.goal(p)
    goal.created_by_id = c.id
    db.session.add(Milestone(proposal=p, title="Abnahme", due_date=date.today() + timedelta(7),
                             created_by_id=c.id))
    db.session.commit()
    ws.post_message(p, c, "Willkommen im Projektraum", files=[_file("agenda.pdf")])
    ws.post_message(p, s["dpo"], "Interne Notiz zur DSFA", internal=True)
    doc = ws.add_document(p, c, title="Konzept", file_storage=_file("konzept.pdf"))
    ws.add_version(doc, s["reviewer"], _file("konzept-2.pdf"), note="Kapitel 3")
    ws.add_document(p, s["iso"], title="Internes Prüfprotokoll", file_storage=_file(),
                    internal=True)
    db.session.commit()


def _real_flow(org, owner, s: dict) -> Proposal:
    """One proposal through the real lifecycle, to a completed pilot with published results."""
    c = s["coordinator"]
    p = f.proposal(org=org, status="draft", title="Digitale Poststelle", personal_data=True,
                   personal_data_details="Namen und Anschriften")
    workflow.apply(p, "submit", owner)
    rv.assign(p, s["reviewer"], c)
    workflow.apply(p, "start_review", c)
    workflow.apply(p, "request_changes", c, message="Bitte die Kosten aufschlüsseln.")
    p.cost_estimate = 42000
    workflow.apply(p, "resubmit", owner)
    workflow.apply(p, "start_review", c)
    rv.save_review(p, s["reviewer"], scores={k: 4 for k in rv.CRITERION_LABELS},
                   recommendation="approve", comment="Gut", submit=True)
    rv.record_check(p, s["dpo"], "data_protection", "passed", "Datenschutz in Ordnung",
                    dpia="not_needed", processing_agreement="done")
    rv.record_check(p, s["iso"], "information_security", "passed", "Sicherheit in Ordnung")
    workflow.apply(p, "approve", s["decider"], message="Überzeugender Vorschlag.")
    ws.add_goal(p, c, title="Bearbeitungszeit", baseline="14 Tage", target="7 Tage",
                measurement="Fachverfahren")
    workflow.apply(p, "start_pilot", c, start_date=date.today())
    db.session.commit()
    _workspace_rows(p, s)
    f.results_report(p, status="submitted")
    results.send_back(p, c, "Bitte die Ziele genauer belegen.")
    p.results_report.status = "submitted"
    p.results_report.submitted_at = utcnow()
    results.accept(p, c)
    rv.publish(p, c)
    results.publish(p, c)
    db.session.commit()
    return p


def _world():
    owner = f.user(name="Olga Offen", email="olga@partner-firma.example")
    colleague = f.user(name="Paula Partner", email="paula@partner-firma.example")
    org = f.organisation(owner=owner, members=[colleague], name="Partner Firma GmbH")
    s = {role: f.staff(role, name=name, email=email) for role, (name, email) in STAFF.items()}
    contact = f.staff("coordinator", name=CONTACT[0], email=CONTACT[1])
    proposals = [_real_flow(org, owner, s)]
    for status in Status:
        p = f.proposal(org=org, status=status.value, title=f"Vorschlag {status.value}")
        proposals.append(p)
        if status in (Status.DRAFT, Status.SUBMITTED):
            continue
        decided = {Status.REJECTED: "reject"}.get(status)
        if status.value in ("approved", "running", "completed", "cancelled"):
            decided = "approve"
        _staff_rows(p, s, decided=decided)
        if p.is_pilot:
            _workspace_rows(p, s)
        if status == Status.RUNNING:  # the pilot whose contact person partners see by name
            rv.set_staff_contact(p, contact, s["coordinator"])
            db.session.commit()
            ws.post_message(p, contact, "Ich bin Ihre Ansprechperson.")
            f.results_report(p, status="submitted")
            results.send_back(p, s["coordinator"], "Bitte ergänzen.")
            db.session.commit()
    return owner, colleague, org, s, contact, proposals


FRAGMENTS = {"review.inbox", "pilots.messages", "pilots.milestones", "pilots.workspace",
             "proposals.show", "proposals.index"}


def _ids(model) -> list[int]:
    return list(db.session.execute(select(model.id)).scalars())


def _urls(app, org) -> list[tuple[str, str]]:
    values = {
        "proposal_id": _ids(Proposal), "attachment_id": _ids(Attachment),
        "document_id": _ids(Document), "version_id": _ids(DocumentVersion),
        "goal_id": _ids(PilotGoal), "milestone_id": _ids(Milestone), "org_id": [org.id],
        "slug": [org.slug], "kind": ["data_protection", "information_security"],
        "token": ["ungueltig"], "provider": ["unbekannt"], "locale": ["de"],
        "what": ["pilot", "results"],
        "challenge_id": [1], "user_id": [1], "authority_id": [1], "topic_id": [1],
    }
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        combos = [{}]
        for arg in sorted(rule.arguments):
            combos = [dict(c, **{arg: v}) for c in combos for v in values.get(arg, [1])]
        for args in combos:
            if "document_id" in args or "goal_id" in args or "milestone_id" in args:
                child = {"document_id": Document, "goal_id": PilotGoal,
                         "milestone_id": Milestone}
                key = next(k for k in child if k in args)
                row = db.session.get(child[key], args[key])
                if row is None or row.proposal_id != args["proposal_id"]:
                    continue  # another proposal's child: a 404, nothing to read
            found.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return sorted(set(found))


def test_partners_never_see_a_staff_members_name_or_address(app, client, login):
    owner, _colleague, org, _s, contact, proposals = _world()
    login(owner)
    forbidden = _forbidden()
    leaks, seen_team, contact_pages = [], 0, []
    for endpoint, url in _urls(app, org):
        for headers in ({}, {"HX-Request": "true"}) if endpoint in FRAGMENTS else ({},):
            r = client.get(url, headers=headers)
            # the readiness probe answers 503 by design here (an unmigrated database)
            assert r.status_code < 500 or url == "/readyz", f"{url}: {r.status_code}"
            body = r.get_data().decode("utf-8", "replace")  # downloads (icons, PDFs) too
            leaks += [f"{url} {headers}: {w}" for w in forbidden if w in body]
            seen_team += "InnoLab-Team" in body
            if contact.name in body:
                contact_pages.append(url)
    assert leaks == []
    assert seen_team  # staff are named as the team
    running = next(p for p in proposals if p.status == "running")
    assert url_for("pilots.workspace", proposal_id=running.id) in contact_pages
    assert all(str(running.id) in u for u in contact_pages)  # the contact of that pilot only


def test_mails_and_notifications_to_partners_name_no_staff(app, client, login):
    owner, colleague, _org, _s, _contact, _proposals = _world()
    forbidden = _forbidden()
    mails = db.session.execute(select(OutboxMail).where(
        OutboxMail.recipient.in_((owner.email, colleague.email)))).scalars().all()
    assert len(mails) >= 5  # submission, changes requested, decision, start, report ...
    for m in mails:
        text = f"{m.subject}\n{m.body_text}\n{m.body_html or ''}"
        assert [w for w in forbidden if w in text] == [], m.subject
    notes = db.session.execute(select(Notification).where(
        Notification.user_id.in_((owner.id, colleague.id)))).scalars().all()
    assert notes
    for n in notes:
        assert [w for w in forbidden if w in repr(n.params) or w in (n.link or "")] == []
    login(owner)
    html = client.get(url_for("notifications.index")).text
    assert [w for w in forbidden if w in html] == []


def test_an_edit_conflict_shows_the_team_not_the_coordinator(app, client, login):
    owner, _colleague, _org, s, _contact, proposals = _world()
    running = next(p for p in proposals if p.status == "running")
    m = running.milestones[0]
    seen = m.lock_version
    ws.update_milestone(m, s["coordinator"], title="Abnahme verschoben",
                        due_date=m.due_date + timedelta(days=7), seen_version=seen)
    db.session.commit()
    login(owner)
    r = client.post(url_for("pilots.milestone", proposal_id=running.id, milestone_id=m.id),
                    data={"action": "save", "milestone-title": "Abnahme vorgezogen",
                          "milestone-due_date": m.due_date.isoformat(), "version": seen,
                          "title": "Abnahme vorgezogen", "due_date": m.due_date.isoformat()})
    assert r.status_code == 409, r.text
    assert "InnoLab-Team" in r.text
    assert [w for w in _forbidden() if w in r.text] == []
    # staff see who it was
    login(s["coordinator"])
    r = client.get(url_for("pilots.document", proposal_id=running.id,
                           document_id=running.documents[0].id))
    assert STAFF["reviewer"][0] in r.text
