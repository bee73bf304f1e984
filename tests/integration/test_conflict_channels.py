"""A staff member with a conflict of interest sees nothing internal of the proposal, anywhere.

For a reviewer, a data-protection officer, an information-security officer, a decider and a
coordinator, each with a conflict of every kind (declared, member, former member, confirmed
shared e-mail domain), the test walks every channel – every GET route of the URL map with the
proposal's objects (staff page, htmx fragments, attachment and document downloads, workspace,
results report, versions, CSV export, API and feeds), the inbox search and its count, the
notification centre and the mails sent afterwards – and finds none of the distinctive marker
strings written into the proposals' internal data. The same person without a conflict finds
every one of them, so the test can fail.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from innolab.domain import conflicts, organisations, uploads
from innolab.domain import workspace as ws
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Check, ConflictDeclaration, DomainFlagDecision, Membership, Notification,
    Proposal, Review, ReviewAssignment, TimelineEntry, User,
)
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

MARKERS = {
    "review comment": "MARKER-GUTACHTEN-7Q",
    "data-protection comment": "MARKER-DSB-7Q",
    "security comment": "MARKER-ISB-7Q",
    "internal timeline": "MARKER-VERLAUF-7Q",
    "reviewer name": "Rita Markerfrau",
    "internal attachment": "marker-anhang-7q.pdf",
    "internal note": "MARKER-NOTIZ-7Q",
    "internal document": "MARKER-DOKUMENT-7Q",
}
LATER_NOTE = "MARKER-SPAETER-7Q"
# Pages that name a marker without telling anything of the proposal: the coordinators'
# workload lists every reviewer with counts only (no proposal, no title, no reference).
NAMES_ONLY = {"reviewer name": ("/staff/review/workload ",)}

ROLES = ("reviewer", "dpo", "iso", "decider", "coordinator")
KINDS = ("declared", "member", "former_member", "mail_domain")
PARTNER_DOMAIN = "nordlicht-marker.de"


@dataclass
class World:
    person: User
    coordinator: User
    owner: User
    org: object
    a: Proposal                    # in review
    b: Proposal                    # a running pilot
    ids: dict = field(default_factory=dict)


def _file(name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF), filename=name, content_type="application/pdf")


def _internal_data(p: Proposal, w_staff: dict) -> None:
    rita, dora, isa, clara = (w_staff[k] for k in ("reviewer", "dpo", "iso", "coordinator"))
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=rita.id,
                                    assigned_by_id=clara.id))
    db.session.add(Review(proposal_id=p.id, reviewer_id=rita.id, innovation=4, benefit=4,
                          feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", comment=MARKERS["review comment"],
                          submitted_at=utcnow()))
    db.session.add(Check(proposal_id=p.id, kind="data_protection", officer_id=dora.id,
                         outcome="passed", comment=MARKERS["data-protection comment"]))
    db.session.add(Check(proposal_id=p.id, kind="information_security", officer_id=isa.id,
                         outcome="passed", comment=MARKERS["security comment"]))
    db.session.add(TimelineEntry(proposal_id=p.id, actor_id=rita.id, action="review_submitted",
                                 from_status=p.status, to_status=p.status, internal=True,
                                 message=MARKERS["internal timeline"]))
    uploads.store(p, _file(MARKERS["internal attachment"]), clara, internal=True)
    db.session.commit()


def _world(role: str, kind: str | None) -> World:
    owner = f.user(name="Olga Eigner", email=f"olga@{PARTNER_DOMAIN}")
    colleague = f.user(name="Karl Kollege", email=f"karl@{PARTNER_DOMAIN}")
    org = f.organisation(owner=owner, members=[colleague], name="Nordlicht Marker GmbH")
    staff = {
        "reviewer": f.staff("reviewer", name=MARKERS["reviewer name"],
                            email="rita@zdmv-intern.example"),
        "dpo": f.staff("dpo", name="Dora Datenschutz", email="dora@zdmv-intern.example"),
        "iso": f.staff("iso", name="Isa Sicherheit", email="isa@zdmv-intern.example"),
        "coordinator": f.staff("coordinator", name="Clara Koordination",
                               email="clara@zdmv-intern.example"),
    }
    email = f"paul@{PARTNER_DOMAIN}" if kind == "mail_domain" else "paul@zdmv-intern.example"
    person = f.staff(role, name="Paul Prüfling", email=email)
    a = f.proposal(org=org, status="in_review", title="Vorschlag in Begutachtung",
                   personal_data=True, personal_data_details="Namen der Antragsteller")
    b = f.proposal(org=org, status="running", title="Laufender Pilot", personal_data=True,
                   personal_data_details="Namen der Antragsteller",
                   pilot_start_date=date.today() - timedelta(days=10))
    for p in (a, b):
        _internal_data(p, staff)
        if role == "reviewer":  # assigned, with their own review: they see the others'
            db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                            proposal_id=p.id, reviewer_id=person.id))
            db.session.add(Review(proposal_id=p.id, reviewer_id=person.id, innovation=3,
                                  benefit=3, feasibility=3, cost_effectiveness=3,
                                  privacy_security=3, recommendation="revise",
                                  comment="Eigenes Gutachten", submitted_at=utcnow()))
    f.goal(b)
    ws.post_message(b, staff["coordinator"], MARKERS["internal note"], internal=True)
    doc = ws.add_document(b, staff["coordinator"], title=MARKERS["internal document"],
                          file_storage=_file("konzept.pdf"), internal=True)
    # heard of before the conflict: the notification centre must forget it
    db.session.add(Notification(user_id=person.id, kind="new_message", proposal_id=b.id,
                                params={"reference": b.reference, "title": b.title},
                                link=url_for("pilots.workspace", proposal_id=b.id)))
    db.session.commit()
    w = World(person=person, coordinator=staff["coordinator"], owner=owner, org=org, a=a, b=b)
    w.ids = {
        "attachment_id": [att.id for p in (a, b) for att in p.attachments],
        "document_id": [doc.id],
        "version_id": [v.id for v in doc.versions],
        "goal_id": [g.id for g in b.goals],
        "milestone_id": [1],
    }
    return w


def _give_conflict(w: World, kind: str, client, login) -> None:
    person, org = w.person, w.org
    if kind == "declared":
        for p in (w.a, w.b):
            a = next((x for x in p.assignments if x.reviewer_id == person.id), None)
            if a is not None:
                a.conflict_declared_at, a.conflict_reason = utcnow(), "Früher Gesellschafter"
            else:
                db.session.add(ConflictDeclaration(proposal_id=p.id, user_id=person.id,
                                                   reason="Früher Gesellschafter"))
    elif kind == "member":
        org.memberships.append(Membership(user=person, role="member"))
    elif kind == "former_member":
        org.memberships.append(Membership(user=person, role="member"))
        db.session.commit()
        organisations.leave(org, person)
    elif kind == "mail_domain":
        assert [fl.user.id for fl in conflicts.flags() if fl.open] == [person.id]
        login(w.coordinator)
        r = client.post(url_for("review.decide_conflict_flag"), data={
            "organisation_id": org.id, "user_id": person.id, "decision": "confirmed",
            "reason": "Gleiche Firma, andere Abteilung"})
        assert r.status_code == 303, r.text
    db.session.commit()


# Routes answering htmx with a fragment of their own (the others render the same page).
FRAGMENTS = {"review.inbox", "pilots.messages", "pilots.milestones", "pilots.workspace",
             "proposals.show", "proposals.index"}
# Routes that show a proposal's data without naming it in their arguments: lists, searches,
# counts, exports, open data, notifications.
LISTS = {"review.inbox", "review.mine", "review.conflict_flags", "api.export_proposals",
         "notifications.index", "proposals.index", "api.pilots", "api.results",
         "api.feed_pilots", "api.feed_results", "showcase.pilots", "showcase.results",
         "showcase.home", "admin.index"}
OBJECTS = {"proposal_id", "attachment_id", "document_id", "version_id", "goal_id",
           "milestone_id"}


def _urls(app, w: World, everything: bool) -> list[tuple[str, str]]:
    """(endpoint, url) for every GET route with this world's objects; unless `everything`,
    only the routes of a proposal's objects and the lists (the rest show no proposal)."""
    values = {
        "proposal_id": [w.a.id, w.b.id], "org_id": [w.org.id], "slug": [w.org.slug],
        "kind": ["data_protection", "information_security"], "challenge_id": [1],
        "user_id": [w.person.id], "token": ["ungueltig"], "provider": ["unbekannt"],
        "what": ["pilot", "results"], "locale": ["de"], "authority_id": [1], "topic_id": [1],
        **w.ids,
    }
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if not everything and not (OBJECTS & set(rule.arguments) or rule.endpoint in LISTS):
            continue
        combos = [{}]
        for arg in sorted(rule.arguments):
            combos = [dict(c, **{arg: v}) for c in combos for v in values.get(arg, [1])]
        found += [(rule.endpoint, url_for(rule.endpoint, **args)) for args in combos]
    return sorted(set(found))


def _crawl(app, client, w: World, everything: bool = True) -> dict[str, str]:
    """The GET routes as the signed-in person (and as htmx where fragments answer)."""
    bodies = {}
    for endpoint, url in _urls(app, w, everything):
        for headers in ({}, {"HX-Request": "true"}) if endpoint in FRAGMENTS else ({},):
            r = client.get(url, headers=headers)
            # the readiness probe answers 503 by design here (an unmigrated database)
            assert r.status_code < 500 or url == "/readyz", f"{url} {headers}: {r.status_code}"
            # any answer, also a download (an icon, the PDF of the Art. 30 record) is searched
            bodies[f"{url} {headers}"] = r.get_data().decode("utf-8", "replace")
    return bodies


def _found(bodies: dict[str, str], text: str) -> list[str]:
    return [where for where, body in bodies.items() if text in body]


def _later_events(client, login, w: World) -> None:
    """After the crawl: an internal note in the pilot and a withdrawal, both notified. The
    person is the pilot's contact at the ZDMV, so takes part in its conversation (with a
    conflict of interest, they hear nothing of it all the same)."""
    b = db.session.get(Proposal, w.b.id)
    b.staff_contact_id = w.person.id
    db.session.commit()
    login(w.coordinator)
    r = client.post(url_for("pilots.messages", proposal_id=w.b.id),
                    data={"message-body": LATER_NOTE, "message-internal": "y"})
    assert r.status_code in (302, 303)
    login(w.owner)
    a = db.session.get(Proposal, w.a.id)
    r = client.post(url_for("proposals.act", proposal_id=a.id),
                    data={"action": "withdraw", "confirmed": "1", "seen_status": a.status})
    assert r.status_code in (302, 303)


def _notifications_of(person: User) -> list[int]:
    return list(db.session.execute(select(Notification.id).where(
        Notification.user_id == person.id).order_by(Notification.id)).scalars())


def _mails_to(outbox, person: User) -> str:
    return "\n".join(f"{m.subject}\n{m.body_text}\n{m.body_html or ''}"
                     for m in outbox(person.email))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_a_conflicted_staff_member_sees_nothing_internal_in_any_channel(
        app, client, login, outbox, role, kind):
    w = _world(role, kind)
    _give_conflict(w, kind, client, login)
    person = db.session.get(User, w.person.id)
    assert conflicts.conflict_of(person, db.session.get(Proposal, w.a.id)) is not None
    login(person)
    # every route for a declared conflict; the routes that can show a proposal for the others
    bodies = _crawl(app, client, w, everything=kind == "declared")
    for what, marker in MARKERS.items():
        found = [where for where in _found(bodies, marker)
                 if not where.startswith(NAMES_ONLY.get(what, ()))]
        assert found == [], f"{role}/{kind} sees the {what}"
    workload = bodies.get("/staff/review/workload {}")
    if workload is not None:  # it names the reviewer, but nothing of the proposal
        assert w.a.title not in workload and (w.a.reference or "-") not in workload

    # the staff page tells why, and that another person must act
    r = client.get(url_for("review.proposal", proposal_id=w.a.id))
    assert r.status_code == 403
    assert "Interessenkonflikt" in r.text and "andere Person" in r.text
    # downloads
    for attachment_id in w.ids["attachment_id"]:
        assert client.get(url_for("proposals.download", attachment_id=attachment_id)
                          ).status_code in (403, 404)
    for version_id in w.ids["version_id"]:
        assert client.get(url_for("pilots.document_version", version_id=version_id)
                          ).status_code in (403, 404)
    # search, counts and the export leave the proposals out
    if role != "reviewer":
        r = client.get(url_for("review.inbox", q=w.a.reference))
        assert "0 Vorschläge gefunden" in r.text
        assert url_for("review.proposal", proposal_id=w.a.id) not in r.text
        r = client.get(url_for("review.inbox"))
        assert "0 Vorschläge gefunden" in r.text
        csv = client.get(url_for("api.export_proposals", status="all")).get_data(as_text=True)
        assert w.a.reference not in csv and w.b.reference not in csv
    # the notification centre no longer shows what came before the conflict (a member knows
    # the organisation's proposals by their reference anyway)
    if kind != "member":
        assert w.b.reference not in client.get(url_for("notifications.index")).text

    before = _notifications_of(person)
    _later_events(client, login, w)
    mails = _mails_to(outbox, person)
    assert LATER_NOTE not in mails and w.a.reference not in mails
    assert _notifications_of(person) == before


@pytest.mark.parametrize("role", ROLES)
def test_without_a_conflict_the_same_person_sees_all_of_it(app, client, login, outbox, role):
    w = _world(role, None)
    login(w.person)
    bodies = _crawl(app, client, w)
    for what, marker in MARKERS.items():
        assert _found(bodies, marker), f"{role} does not see the {what}"
    for attachment_id in w.ids["attachment_id"]:
        assert client.get(url_for("proposals.download", attachment_id=attachment_id)
                          ).data == PDF
    for version_id in w.ids["version_id"]:
        assert client.get(url_for("pilots.document_version", version_id=version_id)
                          ).data == PDF
    if role != "reviewer":
        r = client.get(url_for("review.inbox", q=w.a.reference))
        assert "1 Vorschlag gefunden" in r.text
        csv = client.get(url_for("api.export_proposals", status="all")).get_data(as_text=True)
        assert w.a.reference in csv and w.b.reference in csv
    assert w.b.reference in client.get(url_for("notifications.index")).text

    _later_events(client, login, w)
    mails = _mails_to(outbox, w.person)
    if role in ("reviewer", "coordinator"):  # the pilot's contact hears of its internal notes
        assert LATER_NOTE in mails
    if role == "coordinator":  # coordinators hear of a withdrawal
        assert w.a.reference in mails


# ---------------------------------------------------------------- shared e-mail domains


def test_an_open_domain_flag_counts_as_a_conflict_until_cleared(app, client, login):
    w = _world("decider", "mail_domain")
    person = w.person
    login(person)
    assert client.get(url_for("review.proposal", proposal_id=w.a.id)).status_code == 403
    # the coordinators see the open flag, on the proposal and in the list
    login(w.coordinator)
    html = client.get(url_for("review.proposal", proposal_id=w.a.id)).text
    assert "Paul Prüfling" in html and "Hinweis offen" in html
    html = client.get(url_for("review.inbox")).text
    assert "1 offener Hinweis auf einen Interessenkonflikt" in html
    html = client.get(url_for("review.conflict_flags")).text
    assert "offen: gilt als Interessenkonflikt" in html and PARTNER_DOMAIN in html
    # clearing needs a reason; the typed choice is kept
    r = client.post(url_for("review.decide_conflict_flag"), data={
        "organisation_id": w.org.id, "user_id": person.id, "decision": "cleared", "reason": ""})
    assert r.status_code == 422
    assert "Bitte begründen Sie die Entscheidung." in r.text
    r = client.post(url_for("review.decide_conflict_flag"), data={
        "organisation_id": w.org.id, "user_id": person.id, "decision": "cleared",
        "reason": "Konzern mit 5000 Beschäftigten, keine Verbindung"})
    assert r.status_code == 303
    decision = db.session.execute(select(DomainFlagDecision)).scalar_one()
    assert decision.decision == "cleared" and decision.decided_by_id == w.coordinator.id
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "conflict.flag_cleared")).scalar_one().details["user_id"] == person.id
    login(person)
    html = client.get(url_for("review.proposal", proposal_id=w.a.id)).text
    assert MARKERS["review comment"] in html


def test_a_coordinator_never_decides_a_flag_about_themselves(app, client, login):
    w = _world("coordinator", "mail_domain")
    login(w.person)
    html = client.get(url_for("review.conflict_flags")).text
    assert "entscheidet eine andere Person der Koordination" in html
    r = client.post(url_for("review.decide_conflict_flag"), data={
        "organisation_id": w.org.id, "user_id": w.person.id, "decision": "cleared",
        "reason": "Ich bin nicht befangen"})
    assert r.status_code == 422
    assert "andere Person der Koordination" in r.text
    assert db.session.execute(select(DomainFlagDecision)).first() is None


def test_public_mail_providers_and_reserved_names_raise_no_flag(app, client, login):
    owner = f.user(email="olga@gmx.de")
    f.organisation(owner=owner)
    f.staff("decider", email="paul@gmx.de")
    f.staff("decider", email="erika@example.org")
    f.organisation(owner=f.user(email="karl@example.org"))
    assert conflicts.flags() == []
    app.config["CONFLICT_IGNORED_MAIL_DOMAINS"] = ["nordlicht-marker.de"]
    try:
        assert not conflicts.domain_flags("nordlicht-marker.de")
    finally:
        app.config["CONFLICT_IGNORED_MAIL_DOMAINS"] = []
    assert conflicts.domain_flags("nordlicht-marker.de")


# ---------------------------------------------------------------- memberships that ended


def test_leaving_or_being_removed_leaves_a_trace(app, client, login):
    owner, staff_member = f.user(), f.staff("decider")
    org = f.organisation(owner=owner, members=[staff_member])
    p = f.proposal(org=org, status="submitted")
    login(owner)
    membership = org.membership_of(staff_member)
    r = client.post(url_for("accounts.remove_member", org_id=org.id, user_id=staff_member.id))
    assert r.status_code in (302, 303)
    assert membership is not None
    staff_member = db.session.get(User, staff_member.id)
    p = db.session.get(Proposal, p.id)
    assert not p.organisation.is_member(staff_member)
    c = conflicts.conflict_of(staff_member, p)
    assert c is not None and c.kind == conflicts.FORMER_MEMBER


def test_a_conflicted_reviewer_is_not_offered_for_assignment(app, client, login):
    w = _world("reviewer", None)
    former = f.staff("reviewer", name="Frieda Früher")
    w.org.memberships.append(Membership(user=former, role="member"))
    db.session.commit()
    organisations.leave(w.org, former)
    db.session.commit()
    login(w.coordinator)
    p = f.proposal(org=w.org, status="submitted")
    html = client.get(url_for("review.proposal", proposal_id=p.id)).text
    choices = html[html.index('name="reviewer_id"'):]
    assert "Frieda Früher" not in choices[:choices.index("</select>")]
    assert "Frieda Früher: früheres Mitglied der vorschlagenden Organisation" in html
