"""workflow.apply: the one function that moves a proposal, and what it records."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from innolab.domain import workflow
from innolab.extensions import db
from innolab.models import AuditEvent, ProposalVersion, Role, TimelineEntry
from tests import factories as f

YEAR = date.today().year


@pytest.fixture
def people(app_ctx):
    member = f.user(name="Erika Partnerin")
    coordinator = f.staff(Role.COORDINATOR.value, name="Kai Koordinator")
    org = f.organisation(owner=member)
    return member, coordinator, org


def test_apply_submit_records_timeline_audit_mails_and_reference(people, outbox):
    member, coordinator, org = people
    p = f.proposal(org)
    entry = workflow.apply(p, "submit", member, message="  Hallo  ")
    db.session.commit()

    assert p.status == "submitted"
    assert p.reference == f"IL-{YEAR}-0001"
    assert p.submitted_at is not None
    assert entry.from_status == "draft" and entry.to_status == "submitted"
    assert entry.actor_id == member.id and entry.message == "Hallo" and not entry.internal
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "proposal.submit")).scalars().all()
    assert len(events) == 1 and events[0].object_id == p.id and events[0].actor_id == member.id
    assert events[0].details["status_to"] == "submitted"
    recipients = {m.recipient for m in outbox()}
    assert recipients == {member.email, coordinator.email}
    mail = outbox(member.email)[0]
    assert p.reference in mail.subject and "eingegangen" in mail.body_text


def test_apply_hands_out_consecutive_references(people):
    member, _, org = people
    first, second = f.proposal(org), f.proposal(org)
    workflow.apply(first, "submit", member)
    workflow.apply(second, "submit", member)
    db.session.commit()
    assert (first.reference, second.reference) == (f"IL-{YEAR}-0001", f"IL-{YEAR}-0002")


def test_apply_submit_records_version_one_with_the_content(people):
    member, _, org = people
    p = f.proposal(org, title="Digitale Bauakte", topics=[f.topic(slug="bauen")])
    workflow.apply(p, "submit", member)
    db.session.commit()
    versions = db.session.execute(select(ProposalVersion)).scalars().all()
    assert [v.number for v in versions] == [1]
    assert versions[0].content["title"] == "Digitale Bauakte"
    assert versions[0].content["topics"] == ["bauen"]
    assert versions[0].created_by_id == member.id


def test_resubmit_records_version_two_and_keeps_the_reference(people, outbox):
    member, coordinator, org = people
    p = f.proposal(org)
    workflow.apply(p, "submit", member)
    reference = p.reference
    workflow.apply(p, "request_changes", coordinator, message="Bitte Kosten genauer aufschlüsseln.")
    p.cost_estimate = 52000
    workflow.apply(p, "resubmit", member, message="Kosten aufgeschlüsselt")
    db.session.commit()

    assert p.status == "submitted" and p.version == 2 and p.reference == reference
    v1, v2 = p.versions
    assert (v1.number, v2.number) == (1, 2)
    assert workflow.version_diff(v1.content, v2.content) == [("cost_estimate", 45000, 52000)]
    actions = [e.action for e in p.timeline]
    assert actions == ["submit", "request_changes", "resubmit"]
    assert any("Nachbesserung" in m.subject for m in outbox(member.email))


def test_apply_refused_changes_nothing(people, outbox):
    member, _, org = people
    p = f.proposal(org, complete=False)
    with pytest.raises(workflow.TransitionRefused) as exc:
        workflow.apply(p, "submit", member)
    assert "Bitte füllen Sie noch aus" in str(exc.value.reason)
    db.session.commit()
    assert p.status == "draft" and p.reference is None and p.version == 0
    assert db.session.execute(select(TimelineEntry)).first() is None
    assert db.session.execute(select(AuditEvent)).first() is None
    assert outbox() == []


def test_apply_refuses_another_organisation(people):
    _, _, org = people
    stranger = f.user()
    f.organisation(owner=stranger)
    p = f.proposal(org)
    with pytest.raises(workflow.TransitionRefused):
        workflow.apply(p, "submit", stranger)


def test_withdraw_tells_the_coordinators(people, outbox):
    member, coordinator, org = people
    p = f.proposal(org, status="submitted")
    workflow.apply(p, "withdraw", member, message="Wir haben keine Kapazität mehr.")
    db.session.commit()
    assert p.status == "withdrawn"
    mails = outbox(coordinator.email)
    assert len(mails) == 1 and "zurückgezogen" in mails[0].subject
    assert "Kapazität" in mails[0].body_text
