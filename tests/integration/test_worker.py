"""The worker: delivers the outbox to a real SMTP server (aiosmtpd), once, also with two workers;
sends the daily digests; creates reminders once."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from innolab.models import Notification
import pytest

from innolab.domain import mailer
from innolab.domain import notifications as nt
from innolab.extensions import db
from innolab.models import (
    Milestone,
    NotificationPreference,
    OutboxMail,
    Review,
    ReviewAssignment,
    User,
)
from innolab.models._base import utcnow
from tests import factories as f
from tests.smtp import running_server


@pytest.fixture
def smtp(app):
    server, restore = running_server(app)
    yield server
    restore()


def _worker(app, *args):
    result = app.test_cli_runner().invoke(args=["innolab", "worker", "--once", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _prefer(user, kind, delivery):
    db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    db.session.commit()


def _plain(obj):
    """What a test needs of an object after the worker ended the session."""
    return SimpleNamespace(id=obj.id, reference=getattr(obj, "reference", None),
                           email=getattr(obj, "email", None))


def _body(msg, kind="plain"):
    return msg.get_body(preferencelist=(kind,)).get_content()


# ---------------------------------------------------------------- delivery


def test_worker_once_delivers_queued_notification_with_plain_and_html_part(app, app_ctx, smtp):
    user = f.user(email="anna@example.org", name="Anna Beispiel")
    p = f.proposal(status="submitted")
    nt.notify([user], "pilot_started", proposal=p, link=f"/proposals/{p.id}")
    db.session.commit()
    p = _plain(p)

    output = _worker(app)

    assert "1 mail(s) sent" in output
    (rcpts, msg), = smtp.inbox.messages
    assert rcpts == ["anna@example.org"]
    assert msg["Subject"] == f"Pilot {p.reference} hat begonnen"
    plain, html = _body(msg, "plain"), _body(msg, "html")
    assert "Guten Tag Anna Beispiel," in plain and f"/proposals/{p.id}" in plain
    assert "<html" in html and f'href="http://localhost/proposals/{p.id}"' in html
    assert "Guten Tag Anna Beispiel," in html
    assert db.session.query(OutboxMail).one().sent_at is not None


def test_worker_html_part_escapes_user_text(app, app_ctx, smtp):
    user = f.user()
    p = f.proposal(status="submitted", title="<script>alert(1)</script> Akte")
    nt.notify([user], "submission_received", proposal=p)
    db.session.commit()
    _worker(app)
    (_, msg), = smtp.inbox.messages
    html = _body(msg, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_mail_in_recipients_language(app, app_ctx, smtp):
    user = f.user(name="Jane Doe", locale="en")
    p = f.proposal(status="in_review")
    nt.notify([user], "decision", proposal=p, link="/x", action="approve", as_staff=False,
              message="Gut.")
    db.session.commit()
    _worker(app)
    (_, msg), = smtp.inbox.messages
    assert _body(msg).startswith("Dear Jane Doe,")
    assert "Dear Jane Doe," in _body(msg, "html")
    assert '<html lang="en">' in _body(msg, "html")


def test_mails_wait_while_server_down_and_arrive_exactly_once(app, app_ctx, smtp):
    users = [f.user() for _ in range(3)]
    p = f.proposal(status="submitted")
    nt.notify(users, "pilot_started", proposal=p)
    db.session.commit()
    users = [_plain(u) for u in users]
    smtp.stop()

    assert "0 mail(s) sent" in _worker(app)
    mails = db.session.query(OutboxMail).all()
    assert len(mails) == 3
    assert all(m.sent_at is None and m.attempts == 1 and m.last_error for m in mails)
    assert all(m.next_attempt_at > utcnow() for m in mails)  # backs off

    smtp.start()
    _worker(app)
    assert smtp.inbox.messages == []  # not due yet: exponential back-off
    db.session.expire_all()
    for m in db.session.query(OutboxMail):
        m.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert "3 mail(s) sent" in _worker(app)
    assert "0 mail(s) sent" in _worker(app)
    assert sorted(r for (r,), _ in smtp.inbox.messages) == sorted(u.email for u in users)


def test_claimed_mail_is_not_taken_by_a_second_worker(app_ctx):
    mailer.queue("a@example.org", "notification", "Betreff", recipient_name="A",
                 subject_text="Betreff")
    db.session.commit()
    first = mailer.claim()
    assert len(first) == 1
    assert mailer.claim() == []  # another worker finds nothing to do
    assert mailer.deliver_pending() == 0


def test_mail_claimed_by_a_worker_that_died_is_sent_later(app_ctx, smtp):
    mailer.queue("b@example.org", "notification", "Betreff", subject_text="Betreff")
    db.session.commit()
    assert len(mailer.claim()) == 1  # … and the worker dies before sending
    mail = db.session.query(OutboxMail).one()
    mail.next_attempt_at = utcnow() - timedelta(seconds=1)  # the claim ran out
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert len(smtp.inbox.messages) == 1


def test_two_workers_in_parallel_send_each_mail_once(app, smtp):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent workers need a server database (PostgreSQL)")
        for n in range(30):
            mailer.queue(f"person{n}@example.org", "notification", f"Betreff {n}",
                         subject_text="x")
        db.session.commit()

    barrier = threading.Barrier(3)
    errors = []

    def work():
        with app.test_request_context():
            try:
                barrier.wait()
                while mailer.deliver_pending(limit=4):
                    pass
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    recipients = [r for (r,), _ in smtp.inbox.messages]
    assert len(recipients) == 30 and len(set(recipients)) == 30
    with app.app_context():
        assert db.session.query(OutboxMail).filter(OutboxMail.sent_at.is_(None)).count() == 0


def test_poisoned_mails_fail_alone_and_the_pass_still_sends_digests_and_reminders(
        app, app_ctx, smtp, login, client):
    admin = f.session_token(f.staff("admin"))
    user = f.user(email="digest@example.org")
    _prefer(user, "new_message", "digest")
    nt.notify([user], "new_message", proposal=f.proposal(status="running"))
    _, reviewer, _ = _assignment(_today() + timedelta(days=1))
    reviewer_email = reviewer.email
    # Rows as old data holds them, past the forms; the bad ones come first in the outbox.
    broken = OutboxMail(recipient="eve@example.org\r\nBcc: victim@example.org",
                        subject="Einladung zu Nordlicht", body_text="Text", kind="general")
    crlf = OutboxMail(recipient="anna@example.org", subject="Nordlicht\r\nBcc: victim@example.org",
                      body_text="Text", kind="general")
    db.session.add(broken)
    db.session.flush()
    db.session.add(crlf)
    mailer.queue("good@example.org", "notification", "Gut", subject_text="Gut")
    db.session.commit()
    broken_id = broken.id

    output = _worker(app, "--digest-now")

    assert "1 digest(s)" in output and "1 reminder(s)" in output
    received = {r: msg for (r,), msg in smtp.inbox.messages}
    assert sorted(received) == sorted(["anna@example.org", "good@example.org",
                                       "digest@example.org", reviewer_email])
    assert received["anna@example.org"]["Subject"] == "Nordlicht Bcc: victim@example.org"
    assert all(rcpts != ["victim@example.org"] for rcpts, _ in smtp.inbox.messages)
    failed = db.session.get(OutboxMail, broken_id)
    assert failed.failed_at is not None and failed.sent_at is None
    assert "invalid recipient address" in failed.last_error

    page = login(admin).get("/admin/mails").get_data(as_text=True)
    assert "Einladung zu Nordlicht" in page and "eve@example.org" in page
    assert "invalid recipient address" in page and "Erneut senden" in page


def test_worker_pass_sends_digests_and_reminders_when_delivery_itself_fails(app, app_ctx,
                                                                             smtp):
    app.config["MAIL_FROM"], saved = "kein Absender", app.config["MAIL_FROM"]
    try:
        user = f.user()
        _prefer(user, "new_message", "digest")
        nt.notify([user], "new_message", proposal=f.proposal(status="running"))
        _assignment(_today() + timedelta(days=1))
        output = _worker(app, "--digest-now")
    finally:
        app.config["MAIL_FROM"] = saved
    assert "1 digest(s)" in output and "1 reminder(s)" in output
    assert smtp.inbox.messages == []
    db.session.expire_all()
    waiting = db.session.query(OutboxMail).all()
    assert len(waiting) == 2 and all(m.sent_at is None and m.failed_at is None for m in waiting)


# ---------------------------------------------------------------- digests


def _at_local(hour: int, day: date | None = None) -> datetime:
    day = day or date.today()
    return datetime(day.year, day.month, day.day, hour, 5,
                    tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def test_digest_bundles_digest_notifications_only(app, app_ctx, smtp):
    user = f.user(email="digest@example.org")
    user_id = user.id
    _prefer(user, "new_message", "digest")
    _prefer(user, "milestone_due_soon", "digest")
    _prefer(user, "report_published", "off")
    p = f.proposal(status="running", title="Digitale Akte")
    nt.notify([user], "new_message", proposal=p, link="/workspace/1")
    nt.notify([user], "milestone_due_soon", proposal=p, params={"title": "Testphase"})
    nt.notify([user], "pilot_started", proposal=p)       # immediate
    nt.notify([user], "report_published", proposal=p)    # off
    db.session.commit()
    p = _plain(p)

    mailer.deliver_pending()  # only the immediate one
    assert [m["Subject"] for _, m in smtp.inbox.messages] == [f"Pilot {p.reference} hat begonnen"]

    assert nt.send_digests(_at_local(6)) == 0  # before DIGEST_HOUR (7)
    assert nt.send_digests(_at_local(7)) == 1
    mailer.deliver_pending()
    assert len(smtp.inbox.messages) == 2
    _, digest = smtp.inbox.messages[1]
    assert digest["Subject"] == "Ihre Benachrichtigungen im InnoLab"
    text = _body(digest)
    assert f"Neue Nachricht im Piloten {p.reference}" in text
    assert "Meilenstein „Testphase“ bald fällig" in text
    assert "hat begonnen" not in text and "veröffentlicht" not in text
    assert "http://localhost/workspace/1" in text
    assert "Testphase" in _body(digest, "html")

    # once a day: what comes later waits for tomorrow's digest
    nt.notify([db.session.get(User, user_id)], "new_message", params={"reference": "X"})
    db.session.commit()
    assert nt.send_digests(_at_local(9)) == 0
    assert nt.send_digests(_at_local(7, date.today() + timedelta(days=1))) == 1
    assert nt.send_digests(_at_local(8, date.today() + timedelta(days=1))) == 0


def test_digest_skips_notifications_read_in_the_app(app_ctx):
    user = f.user()
    _prefer(user, "new_message", "digest")
    p = f.proposal(status="running")
    (n,) = nt.notify([user], "new_message", proposal=p)
    db.session.commit()
    nt.mark_read(user, n)
    db.session.commit()
    assert nt.send_digests(_at_local(8)) == 0
    assert db.session.query(OutboxMail).count() == 0


def test_worker_digest_now_sends_waiting_digest(app, app_ctx, smtp):
    user = f.user()
    _prefer(user, "new_message", "digest")
    nt.notify([user], "new_message", proposal=f.proposal(status="running"))
    db.session.commit()
    output = _worker(app, "--digest-now")
    assert "1 digest(s)" in output and len(smtp.inbox.messages) == 1


# ---------------------------------------------------------------- reminders


def _today() -> date:
    """The date the worker goes by (local time of the platform)."""
    return nt._local_today(utcnow())


def _assignment(due: date, submitted=False, status="in_review"):
    reviewer = f.staff("reviewer")
    coordinator = f.staff("coordinator")
    p = f.proposal(status=status)
    a = ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                         proposal=p, reviewer=reviewer, assigned_by_id=coordinator.id,
                         due_date=due)
    db.session.add(a)
    if submitted:
        db.session.add(Review(proposal=p, reviewer=reviewer, submitted_at=utcnow()))
    db.session.commit()
    return a, reviewer, coordinator


def _kinds(user):
    return [n.kind for n in db.session.query(Notification).filter_by(user_id=user.id)
            .order_by(Notification.id)]


def test_review_due_soon_reminder_once(app_ctx, outbox):
    a, reviewer, coordinator = _assignment(_today() + timedelta(days=2))
    _, far_reviewer, _ = _assignment(_today() + timedelta(days=5))
    assert nt.create_reminders() == 1
    assert nt.create_reminders() == 0
    assert _kinds(reviewer) == ["review_due_soon"] and _kinds(far_reviewer) == []
    assert _kinds(coordinator) == []
    (mail,) = outbox(reviewer.email)
    assert "bald fällig" in mail.subject and a.proposal.reference in mail.subject
    assert a.reminded_due_at is not None


def test_review_overdue_reminder_once_to_reviewer_and_assigning_coordinator(app_ctx, outbox):
    _, reviewer, coordinator = _assignment(_today() - timedelta(days=1))
    assert nt.create_reminders() == 1
    assert nt.create_reminders() == 0
    assert _kinds(reviewer) == ["review_overdue"]  # not "due soon" as well
    assert _kinds(coordinator) == ["review_overdue"]
    assert len(outbox(reviewer.email)) == 1 and len(outbox(coordinator.email)) == 1


def test_no_review_reminder_when_review_submitted_or_proposal_decided(app_ctx):
    _, done, _ = _assignment(_today() - timedelta(days=1), submitted=True)
    _, decided, _ = _assignment(_today() - timedelta(days=1), status="approved")
    assert nt.create_reminders() == 0
    assert _kinds(done) == [] and _kinds(decided) == []


def _milestone(due: date, done=False, status="running"):
    owner = f.user()
    org = f.organisation(owner=owner)
    p = f.proposal(org=org, status=status)
    m = Milestone(proposal=p, title="Schnittstelle fertig", due_date=due,
                  done_at=utcnow() if done else None)
    db.session.add(m)
    db.session.commit()
    return m, owner


def test_milestone_due_soon_and_late_reminders_once(app_ctx, outbox):
    coordinator = f.staff("coordinator")
    soon, soon_owner = _milestone(_today() + timedelta(days=3))
    late, late_owner = _milestone(_today() - timedelta(days=1))
    _, done_owner = _milestone(_today() - timedelta(days=1), done=True)
    _, later_owner = _milestone(_today() + timedelta(days=4))
    assert nt.create_reminders() == 2
    assert nt.create_reminders() == 0
    assert _kinds(soon_owner) == ["milestone_due_soon"]
    assert _kinds(late_owner) == ["milestone_late"]
    assert _kinds(done_owner) == [] and _kinds(later_owner) == []
    assert sorted(_kinds(coordinator)) == ["milestone_due_soon", "milestone_late"]
    assert "Schnittstelle fertig" in outbox(late_owner.email)[0].subject
    assert soon.reminded_due_at is not None and late.reminded_late_at is not None


def test_worker_creates_reminders_and_delivers_them(app, app_ctx, smtp):
    _, reviewer, _ = _assignment(_today() + timedelta(days=1))
    reviewer = _plain(reviewer)
    output = _worker(app)
    assert "1 reminder(s)" in output
    assert [r for (r,), _ in smtp.inbox.messages] == [reviewer.email]
    _worker(app)
    assert len(smtp.inbox.messages) == 1


def test_request_leaves_mail_to_worker_when_after_request_delivery_is_off(app, client, login,
                                                                          smtp):
    app.config["MAIL_SEND_AFTER_REQUEST"] = False
    try:
        with app.app_context():
            coordinator = f.staff("coordinator")
            reviewer = f.staff("reviewer", email="gutachter@example.org")
            p = f.proposal(status="submitted")
            ids = p.id, reviewer.id
            coordinator = f.session_token(coordinator)
        resp = login(coordinator).post(f"/staff/review/proposals/{ids[0]}/reviewers",
                                       data={"reviewer_id": ids[1]})
        assert resp.status_code == 303
        assert smtp.inbox.messages == []
        with app.app_context():
            assert db.session.query(OutboxMail).filter(OutboxMail.sent_at.is_(None)).count() == 1
        _worker(app)
        assert [r for (r,), _ in smtp.inbox.messages] == ["gutachter@example.org"]
    finally:
        app.config["MAIL_SEND_AFTER_REQUEST"] = True
