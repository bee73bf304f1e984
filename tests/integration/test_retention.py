"""The deletion schedule: with a frozen clock it removes exactly what is due, no more."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from innolab.domain import retention, uploads
from innolab.domain.notifications import run_pass
from innolab.extensions import db
from innolab.models import (
    AuditEvent, Notification, OutboxMail, PendingRoleGrant, Proposal, TimelineEntry, User,
)
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

# Midday, so that "an hour later" is the same day whenever the suite runs.
NOW = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def ago(days: int):
    return NOW - timedelta(days=days)


def _exists(model, id_) -> bool:
    db.session.expire_all()
    return db.session.get(model, id_) is not None


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# ---------------------------------------------------------------- accounts


def test_unconfirmed_accounts_go_after_seven_days_and_nothing_else_does():
    due = f.user(confirmed=False, created_at=ago(8))
    young = f.user(confirmed=False, created_at=ago(6))
    confirmed = f.user(created_at=ago(400))
    member = f.user(confirmed=False, created_at=ago(30))
    f.organisation(owner=member)
    invited = f.user(confirmed=False, created_at=ago(30))
    db.session.add(PendingRoleGrant(user=invited, roles="reviewer", token_hash="x" * 64,
                                    expires_at=NOW + timedelta(days=3)))
    db.session.commit()
    ids = [u.id for u in (due, young, confirmed, member, invited)]

    counts = retention.run(NOW)

    assert counts["unconfirmed_accounts"] == 1
    assert [_exists(User, i) for i in ids] == [False, True, True, True, True]


# ---------------------------------------------------------------- drafts


@pytest.fixture
def draft_with_file(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    owner = f.user(name="Dora Entwurf")
    org = f.organisation(owner=owner)
    p = f.proposal(org=org, status="draft", title="Alter Entwurf", updated_at=ago(400))
    a = uploads.store(p, FileStorage(io.BytesIO(PDF), filename="konzept.pdf"), owner)
    db.session.commit()
    # storing the file touched the draft; put its last change back a long time ago
    db.session.execute(Proposal.__table__.update().where(Proposal.id == p.id)
                       .values(updated_at=ago(400)))
    db.session.commit()
    return p, uploads.path_of(a), owner


def test_a_stale_draft_is_first_announced_then_deleted_with_its_files(draft_with_file, outbox):
    p, path, owner = draft_with_file
    p_id = p.id
    assert path.exists()

    assert retention.run(NOW)["stale_drafts"] == 0
    (mail,) = outbox(owner.email)
    assert "„Alter Entwurf“ wird bald gelöscht" in mail.subject
    assert "Alter Entwurf" in mail.body_text and "/proposals/" in mail.body_text
    assert "die 1 Jahr lang nicht bearbeitet wurden" in mail.body_text

    # a day later: still there, and no second warning
    assert retention.run(NOW + timedelta(days=1))["stale_drafts"] == 0
    assert len(outbox(owner.email)) == 1 and _exists(Proposal, p_id)

    # the month of the warning is over
    assert retention.run(NOW + timedelta(days=31))["stale_drafts"] == 1
    assert not _exists(Proposal, p_id)
    assert not path.exists()


def test_editing_a_draft_after_the_warning_saves_it(draft_with_file, outbox):
    p, path, owner = draft_with_file
    retention.run(NOW)
    edited = NOW + timedelta(days=10)
    db.session.execute(Proposal.__table__.update().where(Proposal.id == p.id)
                       .values(updated_at=edited))
    db.session.commit()

    assert retention.run(NOW + timedelta(days=31))["stale_drafts"] == 0
    assert _exists(Proposal, p.id) and path.exists()
    assert len(outbox(owner.email)) == 1  # edited ten days ago: far from a new warning


def test_drafts_edited_this_year_and_submitted_proposals_stay(outbox):
    recent = f.proposal(status="draft", updated_at=ago(200))
    submitted = f.proposal(status="submitted", updated_at=ago(900))
    retention.run(NOW)
    retention.run(NOW + timedelta(days=40))
    assert _exists(Proposal, recent.id) and _exists(Proposal, submitted.id)
    assert outbox() == []


# ---------------------------------------------------------------- closed proposals


def test_rejected_and_withdrawn_proposals_go_three_years_after_they_closed():
    old_rejected = f.proposal(status="rejected", decided_at=ago(3 * 365 + 5),
                              updated_at=ago(3 * 365 + 5))
    new_rejected = f.proposal(status="rejected", decided_at=ago(400), updated_at=ago(400))
    old_withdrawn = f.proposal(status="withdrawn", updated_at=ago(3 * 365 + 5))
    db.session.add(TimelineEntry(proposal=old_withdrawn, action="withdraw",
                                 from_status="submitted", to_status="withdrawn",
                                 created_at=ago(3 * 365 + 5)))
    old_approved = f.proposal(status="completed", decided_at=ago(2000), updated_at=ago(2000))
    db.session.commit()
    ids = [p.id for p in (old_rejected, old_withdrawn, new_rejected, old_approved)]

    assert retention.run(NOW)["closed_proposals"] == 2
    assert [_exists(Proposal, i) for i in ids] == [False, False, True, True]


# ---------------------------------------------------------------- audit, mails, notifications


def test_audit_entries_stay_but_lose_their_ip_address_after_90_days():
    old = AuditEvent(action="user.login", ip="192.0.2.10", created_at=ago(91))
    new = AuditEvent(action="user.login", ip="192.0.2.11", created_at=ago(10))
    db.session.add_all([old, new])
    db.session.commit()
    before = _count(AuditEvent)

    assert retention.run(NOW)["audit_ips"] == 1
    db.session.expire_all()
    assert db.session.get(AuditEvent, old.id).ip is None
    assert db.session.get(AuditEvent, new.id).ip == "192.0.2.11"
    assert _count(AuditEvent) == before + 1  # the run's own entry


def _mail(**kw) -> OutboxMail:
    mail = OutboxMail(recipient="a@example.org", subject="Betreff", body_text="Text", **kw)
    db.session.add(mail)
    return mail


def test_delivered_and_failed_mails_go_after_30_days_pending_ones_stay():
    sent_old = _mail(sent_at=ago(31), created_at=ago(31))
    failed_old = _mail(failed_at=ago(31), created_at=ago(31))
    sent_new = _mail(sent_at=ago(5), created_at=ago(5))
    pending_old = _mail(created_at=ago(60), next_attempt_at=ago(1))
    db.session.commit()
    ids = [m.id for m in (sent_old, failed_old, sent_new, pending_old)]

    assert retention.run(NOW)["sent_mails"] == 2
    assert [_exists(OutboxMail, i) for i in ids] == [False, False, True, True]


def test_notifications_go_after_a_year():
    user = f.user()
    old = Notification(user_id=user.id, kind="decision", created_at=ago(366))
    new = Notification(user_id=user.id, kind="decision", created_at=ago(300))
    db.session.add_all([old, new])
    db.session.commit()
    ids = old.id, new.id
    assert retention.run(NOW)["notifications"] == 1
    assert [_exists(Notification, i) for i in ids] == [False, True]


# ---------------------------------------------------------------- the run itself


def test_each_run_is_recorded_with_counts_only():
    f.user(confirmed=False, created_at=ago(8), name="Vertraulicher Name")
    retention.run(NOW)
    event = retention.last_run()
    assert event.details["counts"]["unconfirmed_accounts"] == 1
    assert event.details["periods"]["unconfirmed_accounts"] == 7
    assert "Vertraulicher Name" not in str(event.details)


def test_the_worker_runs_the_schedule_once_a_day():
    f.user(confirmed=False, created_at=ago(8))
    assert run_pass(NOW)["retention"] == 1
    f.user(confirmed=False, created_at=ago(8))
    assert run_pass(NOW + timedelta(hours=1))["retention"] == 0  # already ran today
    assert run_pass(NOW + timedelta(days=1))["retention"] == 1
    runs = db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "retention.run")).scalar_one()
    assert runs == 2


def test_a_longer_period_set_by_an_admin_keeps_what_the_default_would_delete():
    admin = f.staff("admin")
    account = f.user(confirmed=False, created_at=ago(8)).id
    assert retention.set_days(admin, {"unconfirmed_accounts": 14}) == ["unconfirmed_accounts"]
    db.session.commit()
    assert retention.run(NOW)["unconfirmed_accounts"] == 0 and _exists(User, account)
    change = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "setting.change")).scalar_one()
    assert change.details["after"] == "14" and change.actor_id == admin.id


# ---------------------------------------------------------------- the admin page


def test_admin_sees_and_changes_the_periods(client, login):
    admin = f.staff("admin")
    c = login(admin)
    page = c.get("/admin/retention")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nicht bestätigte Konten" in html and 'value="7"' in html
    assert "noch nicht stattgefunden" in html

    fields = {p.key: str(p.days) for p in retention.periods()}
    response = c.post("/admin/retention", data={**fields, "audit_ips": "30"})
    assert response.status_code == 303
    assert retention.days("audit_ips") == 30
    assert "Die Löschfristen sind gespeichert." in c.get("/admin/retention").get_data(
        as_text=True)


def test_a_period_out_of_bounds_is_refused_and_the_form_keeps_the_input(client, login):
    c = login(f.staff("admin"))
    fields = {p.key: str(p.days) for p in retention.periods()}
    response = c.post("/admin/retention", data={**fields, "unconfirmed_accounts": "0",
                                                 "notifications": "viele"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte eine Zahl zwischen 1 und 90 Tagen." in html
    assert "Keine gültige, ganze Zahl." in html and 'value="viele"' in html
    assert retention.days("unconfirmed_accounts") == 7


def test_the_page_is_for_admins_only(client, login):
    assert login(f.staff("coordinator")).get("/admin/retention").status_code == 403


# ---------------------------------------------------------------- inactive accounts


def test_an_inactive_partner_is_warned_then_deleted_like_a_self_deletion(outbox):
    sleeper = f.user(name="Siegfried Schläfer", email="schlaefer@example.org",
                     created_at=ago(5 * 365), last_login_at=ago(3 * 365 + 10))
    active = f.user(created_at=ago(5 * 365), last_login_at=ago(30))
    staff = f.staff("reviewer", created_at=ago(5 * 365), last_login_at=ago(4 * 365))
    ids = sleeper.id, active.id, staff.id

    assert retention.run(NOW)["inactive_accounts"] == 0
    (warning,) = outbox("schlaefer@example.org")
    assert "wird bald gelöscht" in warning.subject and "3 Jahre lang" in warning.body_text
    assert "/login" in warning.body_text

    assert retention.run(NOW + timedelta(days=31))["inactive_accounts"] == 1
    db.session.expire_all()
    gone = db.session.get(User, ids[0])
    assert gone.deleted_at is not None and gone.name.startswith("Gelöschtes Konto")
    assert gone.email != "schlaefer@example.org"
    assert db.session.get(User, ids[1]).deleted_at is None
    assert db.session.get(User, ids[2]).deleted_at is None  # staff: the admins' to end
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "account.delete")).scalar_one()
    assert event.details["method"] == "retention"


def test_signing_in_after_the_warning_keeps_the_account(outbox):
    sleeper = f.user(email="wach@example.org", created_at=ago(5 * 365),
                     last_login_at=ago(3 * 365 + 10))
    retention.run(NOW)
    sleeper.last_login_at = NOW + timedelta(days=2)
    db.session.commit()
    assert retention.run(NOW + timedelta(days=31))["inactive_accounts"] == 0
    db.session.expire_all()
    assert db.session.get(User, sleeper.id).deleted_at is None
    assert len(outbox("wach@example.org")) == 1  # no second warning


def test_the_privacy_page_shows_the_periods_in_force(client):
    admin = f.staff("admin")
    retention.set_days(admin, {"audit_ips": 30})
    db.session.commit()
    html = client.get("/pages/datenschutz").get_data(as_text=True)
    assert "IP-Adressen im Audit-Protokoll: 30 Tage" in html
    assert "Nicht bestätigte Konten: 7 Tage" in html
