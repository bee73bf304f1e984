"""The workspace rules in the domain, without the web layer."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from innolab.domain import permissions
from innolab.domain import workspace as ws
from innolab.extensions import db
from innolab.models import Membership, Message, Milestone, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f


def test_milestone_status_open_late_done():
    today = date(2026, 6, 15)
    m = Milestone(title="Abnahme", due_date=today)
    assert m.status(today) == "open"
    assert m.status(today + timedelta(days=1)) == "late"
    m.done_at = utcnow()
    assert m.status(today + timedelta(days=30)) == "done"


def test_fingerprint_changes_with_content():
    assert ws.fingerprint([1, 2]) == ws.fingerprint([1, 2])
    assert ws.fingerprint([1, 2]) != ws.fingerprint([1, 2, 3])


@pytest.fixture
def pilot(app_ctx):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="approved")
    return p, owner


def test_goals_refused_after_start(pilot):
    p, owner = pilot
    g = ws.add_goal(p, owner, title=" Ziel ", baseline="1", target="2", measurement="Zählung")
    assert g.title == "Ziel"
    p.status = "running"
    with pytest.raises(ws.WorkspaceRefused):
        ws.add_goal(p, owner, title="Noch eins", baseline="1", target="2", measurement="x")
    with pytest.raises(ws.WorkspaceRefused):
        ws.update_goal(g, owner, title="Neu", baseline="1", target="2", measurement="x")
    with pytest.raises(ws.WorkspaceRefused):
        ws.delete_goal(g, owner)


def test_goals_limited(pilot):
    p, owner = pilot
    for n in range(ws.MAX_GOALS):
        ws.add_goal(p, owner, title=f"Ziel {n}", baseline="1", target="2", measurement="x")
    with pytest.raises(ws.WorkspaceRefused):
        ws.add_goal(p, owner, title="Zu viel", baseline="1", target="2", measurement="x")


def test_conversation_staff_are_the_contact_and_staff_who_wrote(pilot):
    p, owner = pilot
    coordinator, contact = f.staff("coordinator"), f.staff("coordinator")
    reviewer, writer = f.staff("reviewer"), f.staff("reviewer")
    f.staff("coordinator", active=False)
    insider = f.staff("coordinator")
    p.organisation.memberships.append(Membership(user=insider, role="member"))
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal=p, reviewer=reviewer))
    db.session.commit()
    # nobody of the staff takes part yet: the coordinators hear the partner
    assert {u.id for u in ws.conversation_staff(p)} == {coordinator.id, contact.id}
    p.staff_contact_id = contact.id
    db.session.add(Message(proposal=p, author_id=writer.id, body="Frage zum Zeitplan"))
    db.session.add(Message(proposal=p, author_id=owner.id, body="Antwort"))
    db.session.commit()
    ids = {u.id for u in ws.conversation_staff(p)}
    assert ids == {contact.id, writer.id}  # not every coordinator, not the assigned reviewer
    assert insider.id not in ids


def test_author_label_hides_staff_from_partners_except_the_contact(pilot):
    p, owner = pilot
    coordinator, dpo = f.staff("coordinator", name="Jens"), f.staff("dpo", name="Sabine")
    assert ws.author_label(p, owner, owner) == owner.name
    assert ws.author_label(p, coordinator, owner) == "InnoLab-Team"
    assert ws.author_label(p, dpo, owner) == "InnoLab-Team"
    assert ws.author_label(p, dpo, coordinator) == "Sabine (InnoLab-Team)"
    p.staff_contact = coordinator
    db.session.commit()
    assert ws.author_label(p, coordinator, owner) == "Jens (InnoLab-Team)"
    assert ws.author_label(p, dpo, owner) == "InnoLab-Team"


def test_permissions_by_status(pilot):
    p, owner = pilot
    coordinator = f.staff("coordinator")
    assert permissions.edit_goals(owner, p) and permissions.edit_goals(coordinator, p)
    assert permissions.post_message(owner, p) and not permissions.post_internal(owner, p)
    assert permissions.post_internal(coordinator, p)
    p.status = "completed"
    assert permissions.use_workspace(owner, p)
    assert not permissions.post_message(owner, p)
    assert not permissions.edit_milestones(coordinator, p)
    p.status = "in_review"
    assert not permissions.use_workspace(coordinator, p)
