"""Test data of the privacy tests: a person with one of every kind of personal data, and other
people with data of their own whose distinctive markers must never reach the person's export."""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from innolab.domain import audit, mail_limits, mailer, storage, throttle
from innolab.domain import notifications as nt
from innolab.domain import organisations as orgs
from innolab.domain import proposals as proposals_domain
from innolab.extensions import db
from innolab.models import (
    Attachment, Document, DocumentVersion, ExternalIdentity, FormReceipt, Message, Milestone,
    NotificationPreference, PendingRoleGrant, PilotGoal, ProposalVersion, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f

PERSON_EMAIL = "petra.privat@example.org"
PERSON_NAME = "Petra Privat"

# Whatever of these shows up in Petra's export is a leak of someone else's data.
OTHER_MARKERS = (
    "Otto Anders", "otto.anders@example.org", "OTTO-PROBLEM-SECRET", "OTTO-MESSAGE",
    "OTTO-FILE", "OTTO-SUBJECT", "Sina Fremd", "sina.fremd@example.org", "SINA-SECRET",
    "neu.kollege@example.org", "Klara Koordination", "klara@zdmv.example", "KLARA-INTERN",
    "otto-subject-id",
)
# One marker per kind of Petra's data, and where it must show up in daten.json.
PERSON_MARKERS = {
    "PETRA-PROBLEM": "proposals_authored",
    "PETRA-VERSION": "proposals_authored",
    "PETRA-REPORT": "proposals_authored",
    "PETRA-MESSAGE": "messages",
    "PETRA-EDIT": "edits",
    "PETRA-GOAL": "pilot_goals",
    "PETRA-MILESTONE": "milestones",
    "petra-subject-id": "sign_in_identities",
}

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def stored_file(content: bytes) -> str:
    """Write `content` as an uploaded file (in the configured storage); returns its stored
    name."""
    name = secrets.token_hex(16)
    storage.current().put(name, io.BytesIO(content))
    return name


def attachment(p, user, filename: str, content: bytes, **kw) -> Attachment:
    a = Attachment(proposal=p, filename=filename, stored_name=stored_file(content),
                   content_type="application/pdf", size=len(content),
                   uploaded_by_id=getattr(user, "id", None), **kw)
    db.session.add(a)
    db.session.commit()
    return a


@dataclass
class World:
    person: object
    colleague: object
    stranger: object
    coordinator: object
    org: object
    own: object            # Petra's running pilot (decided)
    colleagues: object     # Otto's draft in the same organisation, edited by Petra too
    foreign: object        # Sina's proposal in another organisation
    files: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)  # plain values, usable after the worker's session


def world(app_ctx) -> World:
    person = f.user(email=PERSON_EMAIL, name=PERSON_NAME)
    colleague = f.user(email="otto.anders@example.org", name="Otto Anders")
    stranger = f.user(email="sina.fremd@example.org", name="Sina Fremd")
    coordinator = f.staff("coordinator", email="klara@zdmv.example", name="Klara Koordination")
    org = f.organisation(owner=person, members=[colleague], name="Nordlicht Daten GmbH")
    other_org = f.organisation(owner=stranger, name="Fremdfirma AG")

    # Petra's own pilot: content, a submitted version, files, timeline, workspace, report.
    own = f.proposal(org=org, status="running", title="Petras Pilot",
                     problem="PETRA-PROBLEM: lange Wartezeiten", contact_name=PERSON_NAME,
                     contact_email=PERSON_EMAIL, contact_phone="0385 999")
    own.decided_at = utcnow()
    own.created_by = person
    db.session.add(ProposalVersion(proposal=own, number=1, created_by_id=person.id,
                                   content={**own.snapshot(), "solution": "PETRA-VERSION"}))
    db.session.add(TimelineEntry(proposal=own, actor_id=coordinator.id, action="approve",
                                 from_status="in_review", to_status="approved",
                                 message="Bewilligt."))
    db.session.add(TimelineEntry(proposal=own, actor_id=coordinator.id, action="assign",
                                 message="KLARA-INTERN", internal=True))
    db.session.add(TimelineEntry(proposal=own, actor_id=colleague.id, action="note",
                                 message="OTTO-MESSAGE im Verlauf"))
    db.session.commit()
    own_file = attachment(own, person, "konzept.pdf", PDF + b"PETRA-FILE")
    colleague_file = attachment(own, colleague, "otto.pdf", PDF + b"attachment of the pilot")
    internal_file = attachment(own, coordinator, "intern.pdf", PDF + b"KLARA-INTERN",
                               internal=True)
    mine = Message(proposal_id=own.id, author_id=person.id,
                   body="PETRA-MESSAGE: Stand der Dinge")
    theirs = Message(proposal_id=own.id, author_id=colleague.id, body="OTTO-MESSAGE: Antwort")
    staff_note = Message(proposal_id=own.id, author_id=coordinator.id, body="KLARA-INTERN",
                         internal=True)
    db.session.add_all([mine, theirs, staff_note])
    db.session.commit()
    attachment(own, colleague, "otto-chat.pdf", PDF + b"OTTO-FILE", message_id=theirs.id)
    doc = Document(proposal=own, title="Projektplan", created_by_id=person.id)
    db.session.add(doc)
    db.session.commit()
    doc_bytes = PDF + b"PETRA-DOC"
    db.session.add(DocumentVersion(document=doc, number=1, filename="plan.pdf",
                                   stored_name=stored_file(doc_bytes),
                                   content_type="application/pdf", size=len(doc_bytes),
                                   uploaded_by_id=person.id))
    db.session.add(PilotGoal(proposal=own, title="PETRA-GOAL", baseline="14 Tage",
                             target="7 Tage", measurement="Zählung", created_by_id=person.id))
    db.session.add(Milestone(proposal=own, title="PETRA-MILESTONE",
                             due_date=utcnow().date() + timedelta(days=30),
                             created_by_id=person.id))
    db.session.commit()
    report = f.results_report(own)
    report.summary = "PETRA-REPORT"
    db.session.commit()

    # Otto's draft, which Petra edits once: only her change may show.
    colleagues = f.proposal(org=org, status="draft", title="Zweiter Vorschlag",
                            problem="OTTO-PROBLEM-SECRET", contact_name="Otto Anders",
                            contact_email="otto.anders@example.org")
    colleagues.created_by = colleague
    db.session.commit()
    proposals_domain.update_draft(colleagues, colleague, {"solution": "OTTO-PROBLEM-SECRET 2"})
    db.session.commit()
    proposals_domain.update_draft(colleagues, person, {"benefit": "PETRA-EDIT: schneller"})
    db.session.commit()

    # Sina's proposal elsewhere.
    foreign = f.proposal(org=other_org, status="submitted", title="Fremder Vorschlag",
                         problem="SINA-SECRET", contact_name="Sina Fremd",
                         contact_email="sina.fremd@example.org")
    attachment(foreign, stranger, "sina.pdf", PDF + b"SINA-SECRET")

    # The account's other traces.
    db.session.add(ExternalIdentity(user_id=person.id, provider="example",
                                    subject="petra-subject-id", email=PERSON_EMAIL))
    db.session.add(ExternalIdentity(user_id=colleague.id, provider="example",
                                    subject="otto-subject-id", email="otto.anders@example.org"))
    db.session.add(PendingRoleGrant(user_id=person.id, roles="reviewer",
                                    token_hash=secrets.token_hex(32),
                                    granted_by_id=coordinator.id,
                                    expires_at=utcnow() + timedelta(days=7)))
    db.session.add(NotificationPreference(user_id=person.id, kind="new_message",
                                          delivery="digest"))
    db.session.add(FormReceipt(token=secrets.token_hex(16), user_id=person.id,
                               endpoint="auth.settings"))
    db.session.add(FormReceipt(token=secrets.token_hex(16), user_id=colleague.id,
                               endpoint="OTTO-SUBJECT"))
    db.session.commit()
    orgs.invite(org, person, "neu.kollege@example.org")          # sent by Petra
    orgs.invite(other_org, stranger, PERSON_EMAIL)               # received by Petra
    nt.notify([person], "pilot_started", proposal=own, link=f"/pilots/{own.id}")
    nt.notify([colleague], "pilot_started", proposal=own, link=f"/pilots/{own.id}")
    mailer.queue(colleague, "notification", "OTTO-SUBJECT", kind="general")
    audit.record(person, "user.login", person, method="password")
    audit.record(coordinator, "user.roles_change", person, email=PERSON_EMAIL, added=[],
                 removed=["reviewer"], by="klara@zdmv.example")
    audit.record(colleague, "user.login", colleague, method="OTTO-SUBJECT")
    audit.record(None, "security.login_failed", None, email=PERSON_EMAIL, unknown=True)
    throttle.failed(PERSON_EMAIL)
    throttle.failed("otto.anders@example.org")
    mail_limits.allow(PERSON_EMAIL, "reset")
    db.session.commit()
    return World(person=person, colleague=colleague, stranger=stranger,
                 coordinator=coordinator, org=org, own=own, colleagues=colleagues,
                 foreign=foreign,
                 files={"own": own_file, "colleague": colleague_file,
                        "internal": internal_file},
                 ids={"person": person.id, "colleague": colleague.id, "own": own.id,
                      "own_reference": own.reference, "colleagues": colleagues.id,
                      "foreign": foreign.id, "org": org.id,
                      "colleague_email": colleague.email})
