"""The other changes that must happen once, each made twice at the same moment."""
from __future__ import annotations

from datetime import timedelta
from html import unescape


from innolab.domain.accounts import random_token
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Check, Invitation, Membership, Notification, ReviewAssignment,
    TimelineEntry, User,
)
from innolab.models._base import utcnow
from tests import factories as f
from innolab.models import PendingRoleGrant, UserRole

REVIEW = {"innovation": "4", "benefit": "4", "feasibility": "3", "cost_effectiveness": "4",
          "privacy_security": "5", "recommendation": "approve", "comment": "Tragfähig.",
          "intent": "submit", "confirmed": "1"}
YES = {"confirmed": "1"}  # the irreversible step confirmed (web/confirm.py)


def _timeline(p, action):
    db.session.expire_all()
    return db.session.query(TimelineEntry).filter_by(proposal_id=p.id, action=action).count()


def _fine(answers):
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]


def test_review_submitted_twice_at_once_is_completed_once(app_ctx, server, signed_in, at_once):
    reviewer = f.staff("reviewer", name="Gerd Gutachter")
    p = f.proposal(status="in_review")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.commit()
    tab1, tab2 = signed_in(reviewer), signed_in(reviewer)
    url = f"{server}/staff/review/proposals/{p.id}/review"

    answers = at_once(lambda: tab1.post(url, data=REVIEW, timeout=60),
                      lambda: tab2.post(url, data=REVIEW, timeout=60))

    _fine(answers)
    assert _timeline(p, "review_submitted") == 1
    assert sum("Ihr Gutachten ist abgeschlossen" in unescape(a.text) for a in answers) == 2


def test_two_officers_checking_at_once_record_one_result(app_ctx, server, signed_in, at_once):
    ines, ingo = (f.staff("iso", name=n) for n in ("Ines Sicherheit", "Ingo Sicherheit"))
    p = f.proposal(status="in_review")
    url = f"{server}/staff/review/proposals/{p.id}/checks/information_security"
    data = {"outcome": "passed", "comment": "Geprüft.", "seen_latest": "0"}
    first, second = signed_in(ines), signed_in(ingo)

    answers = at_once(lambda: first.post(url, data=data, timeout=60),
                      lambda: second.post(url, data=data, timeout=60))

    _fine(answers)
    assert db.session.query(Check).filter_by(proposal_id=p.id).count() == 1
    refused = [unescape(a.text) for a in answers if a.status_code == 422]
    assert len(refused) == 1 and "Inzwischen hat" in refused[0]


def test_publishing_a_pilot_twice_at_once_publishes_once(app_ctx, server, signed_in, at_once):
    klara, konrad = (f.staff("coordinator", name=n) for n in ("Klara K.", "Konrad K."))
    p = f.proposal(status="running", publication_consent=True)
    url = f"{server}/staff/review/proposals/{p.id}/publish"
    first, second = signed_in(klara), signed_in(konrad)

    answers = at_once(lambda: first.post(url, data=YES, timeout=60),
                      lambda: second.post(url, data=YES, timeout=60))

    _fine(answers)
    assert _timeline(p, "published") == 1
    texts = [unescape(a.text) for a in answers]
    assert sum("ist jetzt im Schaufenster veröffentlicht" in t for t in texts) == 1
    assert sum("bereits im Schaufenster" in t for t in texts) == 1


def test_report_submitted_twice_at_once_is_submitted_once(app_ctx, server, signed_in, at_once):
    partner, colleague = f.user(name="Paula Partnerin"), f.user(name="Kai Kollege")
    org = f.organisation(owner=partner, members=[colleague])
    p = f.proposal(org, status="running")
    f.goal(p)
    db.session.refresh(p)
    report = f.results_report(p, status="draft")
    coordinator = f.staff("coordinator")
    url = f"{server}/workspace/{p.id}/report/submit"
    goal = p.goals[0]
    data = {"summary": report.summary, "what_worked": report.what_worked,
            "what_did_not_work": report.what_did_not_work,
            "lessons_learned": report.lessons_learned, "recommendation": "roll_out",
            "reuse_requirements": report.reuse_requirements, "publication_consent": "y",
            f"goal_{goal.id}_value": "6 Tage", f"goal_{goal.id}_reached": "yes"}
    first, second = signed_in(partner), signed_in(colleague)

    answers = at_once(lambda: first.post(url, data=data, timeout=60),
                      lambda: second.post(url, data=data, timeout=60))

    _fine(answers)
    assert _timeline(p, "report_submitted") == 1
    assert db.session.query(Notification).filter_by(
        user_id=coordinator.id, kind="report_submitted").count() == 1


def test_one_invitation_accepted_by_two_people_at_once_admits_one(app_ctx, server, signed_in,
                                                                   at_once):
    owner = f.user()
    org = f.organisation(owner=owner)
    token, token_hash = random_token()
    db.session.add(Invitation(organisation=org, email="neu@example.org", token_hash=token_hash,
                              invited_by=owner, created_at=utcnow(),
                              expires_at=utcnow() + timedelta(days=7)))
    db.session.commit()
    anna, bert = f.user(name="Anna"), f.user(name="Bert")
    url = f"{server}/account/organisations/join/{token}"
    first, second = signed_in(anna), signed_in(bert)

    answers = at_once(lambda: first.post(url, data=YES, timeout=60),
                      lambda: second.post(url, data=YES, timeout=60))

    _fine(answers)
    db.session.expire_all()
    joined = [m.user_id for m in db.session.query(Membership).filter_by(organisation_id=org.id)
              if m.user_id != owner.id]
    assert len(joined) == 1
    texts = [unescape(a.text) for a in answers]
    assert sum("Willkommen!" in t for t in texts) == 1
    assert sum("bereits angenommen" in t for t in texts) == 1


def test_ownership_handed_to_two_people_at_once_goes_to_one(app_ctx, server, signed_in, at_once):
    owner, bea, carl = f.user(name="Olga"), f.user(name="Bea"), f.user(name="Carl")
    org = f.organisation(owner=owner, members=[bea, carl])
    url = f"{server}/account/organisations/{org.id}/transfer"
    tab1, tab2 = signed_in(owner), signed_in(owner)

    answers = at_once(lambda: tab1.post(url, data={"user_id": str(bea.id)}, timeout=60),
                      lambda: tab2.post(url, data={"user_id": str(carl.id)}, timeout=60))

    _fine(answers)
    db.session.expire_all()
    owners = [m.user_id for m in db.session.query(Membership).filter_by(
        organisation_id=org.id, role="owner")]
    assert len(owners) == 1 and owners[0] in (bea.id, carl.id)
    assert db.session.query(AuditEvent).filter_by(
        action="organisation.transfer_ownership").count() == 1


def test_two_admins_removing_each_others_admin_role_leave_one_admin(app_ctx, server, signed_in,
                                                                     at_once):
    ada, alf = (f.staff("admin", "coordinator", name=n) for n in ("Ada Admin", "Alf Admin"))
    first, second = signed_in(ada), signed_in(alf)
    data = {"form": "roles", "roles": ["coordinator"]}

    answers = at_once(
        lambda: first.post(f"{server}/admin/users/{alf.id}", data=data, timeout=60),
        lambda: second.post(f"{server}/admin/users/{ada.id}", data=data, timeout=60))

    _fine(answers)
    db.session.expire_all()
    admins = [u for u in db.session.query(User) if u.has_role("admin")]
    assert len(admins) == 1
    assert sum(a.status_code == 422 for a in answers) == 1


def test_staff_invitation_accepted_twice_at_once_grants_once(app_ctx, server, signed_in,
                                                              at_once):
    nele = f.user(name="Nele Neu")
    admin = f.staff("admin")
    token, digest = random_token()
    db.session.add(PendingRoleGrant(user_id=nele.id, roles="reviewer", token_hash=digest,
                                    granted_by_id=admin.id,
                                    expires_at=utcnow() + timedelta(days=7)))
    db.session.commit()
    tab1, tab2 = signed_in(nele), signed_in(nele)
    url = f"{server}/account/staff-invitation/{token}"

    answers = at_once(lambda: tab1.post(url, timeout=60, allow_redirects=False),
                      lambda: tab2.post(url, timeout=60, allow_redirects=False))

    _fine(answers)
    db.session.expire_all()
    assert [r.role for r in db.session.query(UserRole).filter_by(user_id=nele.id)] == ["reviewer"]
    assert db.session.query(AuditEvent).filter_by(action="user.roles_accepted").count() == 1
    assert db.session.query(PendingRoleGrant).count() == 0


def test_two_owners_leaving_at_once_leave_one_owner(two_owners, server, signed_in, at_once):
    org, olga, otto = two_owners
    url = f"{server}/account/organisations/{org.id}/leave"
    first, second = signed_in(olga), signed_in(otto)

    answers = at_once(lambda: first.post(url, data=YES, timeout=60),
                      lambda: second.post(url, data=YES, timeout=60))

    _fine(answers)
    db.session.expire_all()
    owners = db.session.query(Membership).filter_by(organisation_id=org.id, role="owner").all()
    assert len(owners) == 1
    assert db.session.query(AuditEvent).filter_by(action="organisation.leave").count() == 1
    # the one who stays is told why, on the organisation's page
    stayed = first if owners[0].user_id == olga.id else second
    page = unescape(stayed.get(f"{server}/account/organisations/{org.id}", timeout=30).text)
    assert "Die Organisation braucht mindestens eine Eigentümerin oder einen Eigentümer." in page


def test_two_owners_removing_each_other_at_once_leave_one_owner(two_owners, server, signed_in,
                                                                 at_once):
    org, olga, otto = two_owners
    base = f"{server}/account/organisations/{org.id}/members"
    first, second = signed_in(olga), signed_in(otto)

    answers = at_once(lambda: first.post(f"{base}/{otto.id}/remove", timeout=60),
                      lambda: second.post(f"{base}/{olga.id}/remove", timeout=60))

    _fine(answers)
    db.session.expire_all()
    owners = db.session.query(Membership).filter_by(organisation_id=org.id, role="owner").all()
    assert len(owners) == 1
    assert db.session.query(AuditEvent).filter_by(
        action="organisation.remove_member").count() == 1
