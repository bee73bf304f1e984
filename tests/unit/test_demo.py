"""The demo data: every status, real timelines, demo accounts, idempotent."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from innolab import demo
from innolab.domain.accounts import verify_password
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Authority, Challenge, Organisation, OutboxMail, Proposal, Role, Status,
    TimelineEntry, Topic, User,
)
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

REACHABLE = {s.value for s in Status} - {Status.COMPLETED.value}  # completed needs a report


def _count(model):
    return db.session.execute(select(func.count(model.id))).scalar_one()


@pytest.fixture
def seeded():
    assert demo.seed() is True
    return {p.status: p for p in db.session.execute(select(Proposal)).scalars()}


def test_seed_creates_every_reachable_status(seeded):
    assert set(seeded) >= REACHABLE


def test_seed_moves_proposals_through_the_workflow(seeded):
    for status, p in seeded.items():
        moves = [e for e in p.timeline if e.from_status != e.to_status]
        if status == "draft":
            assert moves == [] and p.reference is None
            continue
        assert moves[0].action == "submit" and p.reference.startswith("IL-")
        assert moves[-1].to_status == status
        assert p.version >= 1
    changes = seeded["changes_requested"].timeline[-1]
    assert changes.action == "request_changes" and "Bitte" in changes.message
    assert seeded["rejected"].decision_rationale
    audit_actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"proposal.submit", "proposal.approve", "proposal.reject", "proposal.withdraw",
            "proposal.start_pilot", "proposal.cancel", "proposal.request_changes",
            "proposal.resubmit"} <= audit_actions


def test_seed_in_review_has_reviews_and_checks(seeded):
    p = seeded["in_review"]
    assert len(p.assignments) == 2
    assert any(r.completed for r in p.reviews) and any(not r.completed for r in p.reviews)
    assert p.checks and len(p.versions) == 2


def test_seed_publishes_at_least_two_pilots_with_consent(seeded):
    published = db.session.execute(
        select(Proposal).where(Proposal.published_at.is_not(None))).scalars().all()
    assert len(published) >= 2
    assert all(p.publication_consent and p.is_pilot for p in published)


def test_seed_queues_no_mail(seeded):
    assert _count(OutboxMail) == 0


def test_seed_reference_data(seeded):
    names = set(db.session.execute(select(Authority.name)).scalars())
    assert "Staatskanzlei Mecklenburg-Vorpommern" in names
    assert "Landesamt für Umwelt, Naturschutz und Geologie" in names
    assert {t.name_de for t in db.session.execute(select(Topic)).scalars()} >= {
        "KI", "Bürgerservice", "Open Data", "IT-Sicherheit"}
    statuses = [c.status for c in db.session.execute(select(Challenge)).scalars()]
    assert statuses.count("closed") == 1 and statuses.count("draft") == 1
    assert 5 <= len(statuses) <= 6
    orgs = db.session.execute(select(Organisation)).scalars().all()
    assert len(orgs) == 4 and all(o.memberships and o.owners for o in orgs)


def test_demo_accounts_can_sign_in_with_their_roles(seeded):
    emails = [a.email for a in demo.DEMO_ACCOUNTS]
    assert len(set(emails)) == len(emails)
    covered = set()
    admin = db.session.execute(
        select(User).where(User.email == "admin@innolab.example")).scalar_one()
    assert verify_password(admin, demo.DEMO_PASSWORD)
    demo_hash = admin.password_hash
    for account in demo.DEMO_ACCOUNTS:
        email, password, roles, description = account
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert user.email_confirmed and user.active and description
        assert {r.value for r in user.roles} == set(roles)
        covered |= set(roles)
        assert user.password_hash == demo_hash  # one hash for all: verify it once
    assert covered == {r.value for r in Role}
    assert {"admin@innolab.example", "partner@innolab.example",
            "partner2@innolab.example"} <= set(emails)


def test_seed_is_idempotent(seeded):
    counts = [_count(m) for m in (User, Proposal, Challenge, Organisation, TimelineEntry)]
    assert demo.seed() is False
    assert [_count(m) for m in (User, Proposal, Challenge, Organisation, TimelineEntry)] == counts
    assert demo.seed(force=True) is True
    assert [_count(m) for m in (User, Proposal, Challenge, Organisation, TimelineEntry)] == counts


def test_seed_refuses_when_any_user_exists():
    f.user()
    assert demo.seed() is False
    assert _count(Proposal) == 0 and _count(Authority) == 0
