"""Notifications: notify() and preferences, the notification centre, the header count, the
lifecycle events."""
from __future__ import annotations

from innolab.models._base import utcnow
import re
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import force_locale
import pytest

from innolab.domain import notifications as nt
from innolab.domain.states import TRANSITIONS
from innolab.extensions import db
from innolab.models import (
    AuditEvent,
    Check,
    Notification,
    NotificationPreference,
    ReviewAssignment,
    User,
)
from tests import factories as f


def _prefer(user, kind, delivery):
    db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    db.session.commit()


def _notes(user):
    return db.session.query(Notification).filter_by(user_id=user.id).order_by(
        Notification.id).all()


# ---------------------------------------------------------------- notify() and preferences


def test_notify_immediate_by_default_records_and_mails(app_ctx, outbox):
    user = f.user()
    p = f.proposal(status="running")
    nt.notify([user, user, None], "new_message", proposal=p, link=f"/workspace/{p.id}")
    db.session.commit()
    (n,) = _notes(user)
    assert n.kind == "new_message" and n.params["reference"] == p.reference
    assert n.link == f"/workspace/{p.id}" and n.proposal_id == p.id and not n.digest_due
    (mail,) = outbox(user.email)
    assert mail.subject == f"Neue Nachricht im Piloten {p.reference}"
    assert mail.body_html and "<html" in mail.body_html


def test_notify_digest_preference_waits_for_digest(app_ctx, outbox):
    user = f.user()
    _prefer(user, "new_message", "digest")
    nt.notify([user], "new_message", proposal=f.proposal(status="running"))
    db.session.commit()
    (n,) = _notes(user)
    assert n.digest_due and n.mailed_at is None
    assert outbox() == []


def test_notify_off_preference_is_in_app_only(app_ctx, outbox):
    user = f.user()
    _prefer(user, "pilot_started", "off")
    nt.notify([user], "pilot_started", proposal=f.proposal(status="running"))
    db.session.commit()
    assert len(_notes(user)) == 1 and outbox() == []


@pytest.mark.parametrize("kind", sorted(nt.PROCESS_KINDS))
def test_process_kinds_are_mailed_even_when_switched_off(app_ctx, outbox, kind):
    user = f.user()
    _prefer(user, kind, "off")  # e.g. stored before the kind became a process kind
    nt.notify([user], kind, proposal=f.proposal(status="in_review"))
    db.session.commit()
    assert len(outbox(user.email)) == 1
    assert nt.preferences(user)[kind] == "immediate"


def test_set_preferences_ignores_process_kinds_and_bad_values(app_ctx):
    user = f.user()
    changed = nt.set_preferences(user, {"decision": "off", "new_message": "digest",
                                        "pilot_started": "sometimes", "no_such_kind": "off"})
    db.session.commit()
    assert changed == {"new_message": "digest"}
    prefs = nt.preferences(user)
    assert prefs["decision"] == "immediate" and prefs["new_message"] == "digest"
    assert prefs["pilot_started"] == "immediate"


def test_notify_skips_inactive_users_and_unknown_kinds(app_ctx, outbox):
    gone = f.user(active=False)
    nt.notify([gone], "pilot_started", proposal=f.proposal(status="running"))
    assert _notes(gone) == [] and outbox() == []
    with pytest.raises(ValueError):
        nt.notify([gone], "no_such_kind")


def test_internal_notice_never_reaches_a_partner(app_ctx, outbox):
    partner = f.user()
    coordinator = f.staff("coordinator")
    p = f.proposal(org=f.organisation(owner=partner), status="running")
    nt.notify([partner, coordinator], "new_message", proposal=p, internal=True,
              message="Nur intern: Budget prüfen")
    db.session.commit()
    assert _notes(partner) == [] and outbox(partner.email) == []
    assert len(_notes(coordinator)) == 1
    assert "Nur intern: Budget prüfen" in outbox(coordinator.email)[0].body_text


def test_text_renders_in_reader_language_and_survives_missing_params(app_ctx):
    assert str(nt.text("milestone_late", {"title": "Abnahme"})) == (
        "Meilenstein „Abnahme“ ist überfällig")
    assert "…" in str(nt.text("milestone_late", {}))
    with force_locale("en"):
        assert str(nt.text("milestone_late", {"title": "Abnahme"}))  # never an error


# ---------------------------------------------------------------- the notification centre


def test_centre_lists_newest_first_and_marks_unread(client, login, app_ctx):
    user = f.user()
    p = f.proposal(status="running")
    nt.notify([user], "pilot_started", proposal=p, link="/a")
    nt.notify([user], "new_message", proposal=p, link="/b")
    db.session.commit()
    older, newer = _notes(user)
    older.created_at = newer.created_at - timedelta(hours=1)
    older.read_at = newer.created_at
    db.session.commit()

    html = login(user).get("/notifications/").get_data(as_text=True)
    assert "<h1" in html and html.count("<h1") == 1
    assert html.index(f"Neue Nachricht im Piloten {p.reference}") < html.index(
        f"Pilot {p.reference} hat begonnen")
    assert "Sie haben 1 ungelesene Benachrichtigung." in html
    assert html.count("(ungelesen)") == 1


def test_centre_paginates(client, login, app_ctx):
    user = f.user()
    for n in range(nt.PER_PAGE + 3):
        nt.notify([user], "new_message", params={"reference": f"REF-{n:03d}"})
    db.session.commit()
    c = login(user)
    first = c.get("/notifications/").get_data(as_text=True)
    second = c.get("/notifications/?page=2").get_data(as_text=True)
    assert first.count("Neue Nachricht im Piloten") == nt.PER_PAGE
    assert second.count("Neue Nachricht im Piloten") == 3
    assert c.get("/notifications/?page=x").status_code == 200


def test_read_marks_read_and_redirects_to_link(client, login, app_ctx):
    user = f.user()
    p = f.proposal(status="running")
    (n,) = nt.notify([user], "pilot_started", proposal=p, link=f"/proposals/{p.id}")
    db.session.commit()
    resp = login(user).post(f"/notifications/{n.id}/read")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/proposals/{p.id}")
    db.session.refresh(n)
    assert n.read_at is not None
    assert db.session.query(AuditEvent).filter_by(action="notification.read").count() == 1


@pytest.mark.parametrize("link", ["https://evil.example/x", "//evil.example/x", None,
                                  "javascript:alert(1)"])
def test_read_never_redirects_off_site(client, login, app_ctx, link):
    user = f.user()
    (n,) = nt.notify([user], "new_message", params={"reference": "X"}, link=link)
    db.session.commit()
    resp = login(user).post(f"/notifications/{n.id}/read")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/notifications/")


def test_read_of_someone_elses_notification_is_404(client, login, app_ctx):
    owner, other = f.user(), f.user()
    (n,) = nt.notify([owner], "new_message", params={"reference": "X"}, link="/x")
    db.session.commit()
    c = login(other)
    assert c.post(f"/notifications/{n.id}/read").status_code == 404
    assert c.post("/notifications/999999/read").status_code == 404
    db.session.refresh(n)
    assert n.read_at is None


def test_read_all_marks_only_mine(client, login, app_ctx):
    me, other = f.user(), f.user()
    nt.notify([me, other], "new_message", params={"reference": "X"})
    nt.notify([me], "pilot_started", params={"reference": "X"})
    db.session.commit()
    ids = me.id, other.id
    resp = login(me).post("/notifications/read-all", follow_redirects=True)
    assert "Alle Benachrichtigungen sind als gelesen markiert." in resp.get_data(as_text=True)
    me, other = (db.session.get(User, i) for i in ids)
    assert nt.unread_count(me) == 0 and nt.unread_count(other) == 1


@pytest.mark.parametrize("method,url", [
    ("get", "/notifications/"), ("get", "/notifications/preferences"),
    ("post", "/notifications/read-all"), ("post", "/notifications/1/read"),
    ("post", "/notifications/preferences"),
])
def test_visitor_is_sent_to_login(client, method, url):
    resp = getattr(client, method)(url)
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_read_needs_post(client, login, app_ctx):
    user = f.user()
    (n,) = nt.notify([user], "pilot_started", proposal=f.proposal(status="running"), link="/a")
    db.session.commit()
    response = login(user).get(f"/notifications/{n.id}/read")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/"
    db.session.refresh(n)
    assert n.read_at is None


@pytest.mark.parametrize("role", [None, "admin", "coordinator", "reviewer", "decider", "dpo",
                                  "iso"])
def test_header_shows_unread_count_for_every_user(client, login, app_ctx, role):
    user = f.staff(role) if role else f.user()
    nt.notify([user], "new_message", params={"reference": "X"})
    nt.notify([user], "pilot_started", params={"reference": "X"})
    db.session.commit()
    html = login(user).get("/").get_data(as_text=True)
    assert 'href="/notifications/"' in html and ", 2 ungelesen" in html
    nt.mark_all_read(user)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/notifications/"' in html and "ungelesen" not in html


def test_header_has_no_notifications_link_for_visitors(client):
    assert "/notifications/" not in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- preferences page


def test_preferences_page_shows_kinds_and_fixed_process_kinds(client, login, app_ctx):
    html = login(f.user()).get("/notifications/preferences").get_data(as_text=True)
    assert "Neue Nachricht im Arbeitsbereich eines Piloten" in html
    assert "Sofort per E-Mail" in html and "Tägliche Zusammenfassung" in html
    assert "Über einen Pilotvorschlag wurde entschieden" in html  # fixed list
    assert 'name="decision"' not in html  # cannot be switched
    assert "Ihnen wurde ein Gutachten zugewiesen" not in html  # staff only
    assert html.count('class="kern-form-check__radio"') >= 3


def test_preferences_page_shows_review_kinds_to_staff(client, login, app_ctx):
    html = login(f.staff("reviewer")).get("/notifications/preferences").get_data(as_text=True)
    assert 'name="review_due_soon"' in html


def test_preferences_save(client, login, app_ctx):
    user = f.user()
    resp = login(user).post("/notifications/preferences",
                            data=_all(user, new_message="digest", pilot_started="off",
                                      decision="off"))
    assert resp.status_code == 303
    prefs = nt.preferences(user)
    assert prefs["new_message"] == "digest" and prefs["pilot_started"] == "off"
    assert prefs["decision"] == "immediate"
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="new_message"[^>]*value="digest"', html)
    assert db.session.query(AuditEvent).filter_by(
        action="notification.preferences").count() == 1


def test_preferences_bad_value_is_form_error(client, login, app_ctx):
    user = f.user()
    resp = login(user).post("/notifications/preferences",
                            data=_all(user, new_message="sometimes"))
    assert resp.status_code == 422
    assert "Bitte wählen Sie eine der angebotenen Möglichkeiten." in resp.get_data(as_text=True)
    assert nt.preferences(user)["new_message"] == "immediate"


def _all(user, **override):
    data = {k: "immediate" for k in nt.kinds_for(user) if k not in nt.PROCESS_KINDS}
    data.update(override)
    return data


def test_account_page_links_to_preferences(client, login, app_ctx):
    html = login(f.user()).get("/account").get_data(as_text=True)
    assert 'href="/notifications/preferences"' in html


# ---------------------------------------------------------------- lifecycle events


def _people():
    owner = f.user(email="owner@example.org")
    org = f.organisation(owner=owner)
    coordinator = f.staff("coordinator")
    return owner, org, coordinator


def test_submission_notifies_partner_members_and_coordinators(client, login, app_ctx, outbox):
    owner, org, coordinator = _people()
    p = f.proposal(org=org)
    resp = login(owner).post(f"/proposals/{p.id}/act", data={"action": "submit", "confirmed": "1"})
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.status == "submitted"
    (mine,), (theirs,) = _notes(owner), _notes(coordinator)
    assert mine.kind == theirs.kind == "submission_received"
    assert mine.link == f"/proposals/{p.id}" and theirs.link == f"/staff/review/proposals/{p.id}"
    assert len(outbox(owner.email)) == 1 and len(outbox(coordinator.email)) == 1


def test_decision_mailed_to_partner_even_with_everything_off(app_ctx, outbox):
    owner, org, _ = _people()
    for kind in nt.KINDS:
        _prefer(owner, kind, "off")
    p = f.proposal(org=org, status="approved")
    nt.transition(p, "approve", None, "Passt gut.")
    nt.transition(p, "start_pilot", None, None)
    db.session.commit()
    assert [n.kind for n in _notes(owner)] == ["decision", "pilot_started"]
    (mail,) = outbox(owner.email)  # pilot_started is off, the decision cannot be
    assert "Passt gut." in mail.body_text and mail.body_html


def test_assign_sets_due_date_in_14_days_by_default(client, login, app_ctx, outbox):
    _, org, coordinator = _people()
    reviewer = f.staff("reviewer")
    p = f.proposal(org=org, status="submitted")
    c = login(coordinator)
    page = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    default = (date.today() + timedelta(days=14)).isoformat()
    assert f'value="{default}"' in page
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": reviewer.id})
    assert resp.status_code == 303
    a = db.session.query(ReviewAssignment).one()
    assert a.due_date == date.today() + timedelta(days=14)
    (n,) = _notes(reviewer)
    assert n.kind == "reviewer_assigned"
    (mail,) = outbox(reviewer.email)
    assert "Bitte schließen Sie das Gutachten bis zum" in mail.body_text


def test_assign_with_chosen_due_date_and_past_date_refused(client, login, app_ctx):
    _, org, coordinator = _people()
    reviewer = f.staff("reviewer")
    p = f.proposal(org=org, status="submitted")
    c = login(coordinator)
    past = (date.today() - timedelta(days=1)).isoformat()
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers",
                  data={"reviewer_id": reviewer.id, "due_date": past})
    assert resp.status_code == 422
    assert "nicht in der Vergangenheit" in resp.get_data(as_text=True)
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers",
                  data={"reviewer_id": reviewer.id, "due_date": "kein Datum"})
    assert resp.status_code == 422
    chosen = date.today() + timedelta(days=5)
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers",
                  data={"reviewer_id": reviewer.id, "due_date": chosen.isoformat()})
    assert resp.status_code == 303
    assert db.session.query(ReviewAssignment).one().due_date == chosen


# ---------------------------------------------------------------- each step, to whose turn it is


def test_start_of_review_asks_the_officers_for_their_checks_and_tells_the_partner(
        client, login, app_ctx, outbox):
    owner, org, coordinator = _people()
    dpo, iso, decider = f.staff("dpo"), f.staff("iso"), f.staff("decider")
    reviewer = f.staff("reviewer")
    with_data = f.proposal(org=org, status="submitted", personal_data=True)
    without = f.proposal(org=org, status="submitted", personal_data=False)
    c = login(coordinator)
    for p in (with_data, without):
        c.post(f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": reviewer.id})
        assert c.post(f"/staff/review/proposals/{p.id}/act",
                      data={"action": "start_review"}).status_code == 303
    assert [(n.kind, n.proposal_id, n.link) for n in _notes(dpo)] == [
        ("check_needed", with_data.id,
         f"/staff/review/proposals/{with_data.id}/checks/data_protection")]
    assert [(n.kind, n.proposal_id) for n in _notes(iso)] == [
        ("check_needed", with_data.id), ("check_needed", without.id)]
    assert _notes(decider) == []  # not its turn yet
    assert [n.kind for n in _notes(owner)].count("review_started") == 2
    (mail, *_) = outbox(owner.email)
    assert "die Begutachtung Ihres Pilotvorschlags hat begonnen" in mail.body_text
    (ask,) = outbox(dpo.email)
    assert ask.subject == f"Ihre Prüfung ist erbeten: {with_data.reference}"


def test_the_decider_hears_once_when_the_last_review_or_check_is_in(client, login, new_client,
                                                                    app_ctx):
    owner, org, coordinator = _people()
    reviewer, iso, decider = f.staff("reviewer"), f.staff("iso"), f.staff("decider")
    p = f.proposal(org=org, status="in_review", personal_data=False)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.commit()
    scores = {name: "4" for name in ("innovation", "benefit", "feasibility",
                                      "cost_effectiveness", "privacy_security")}
    r = login(reviewer, new_client()).post(f"/staff/review/proposals/{p.id}/review",
                                           data={**scores, "recommendation": "approve",
                                                 "intent": "submit", "confirmed": "1"})
    assert r.status_code == 303, r.get_data(as_text=True)
    assert _notes(decider) == []  # the security check is still open
    officer = login(iso, new_client())
    r = officer.post(f"/staff/review/proposals/{p.id}/checks/information_security",
                     data={"outcome": "passed", "seen_latest": "0"})
    assert r.status_code == 303, r.get_data(as_text=True)
    (n,) = _notes(decider)
    assert n.kind == "ready_for_decision" and n.link == f"/staff/review/proposals/{p.id}"
    assert [x.kind for x in _notes(coordinator)] == ["ready_for_decision"]
    # another passed check changes nothing: it was ready already
    latest = db.session.execute(db.select(Check.id).where(Check.proposal_id == p.id)).scalar()
    officer.post(f"/staff/review/proposals/{p.id}/checks/information_security",
                 data={"outcome": "passed", "seen_latest": str(latest)})
    assert len(_notes(decider)) == 1


def test_every_move_of_the_lifecycle_tells_someone():
    """Each row of the transition table sends its notice (complete: the report's acceptance
    tells the partner, results.accept)."""
    told_elsewhere = {"complete": "report_accepted"}
    for t in TRANSITIONS:
        kind = nt.TRANSITION_KINDS.get(t.action, (told_elsewhere.get(t.action),))[0]
        assert kind in nt.KINDS, t.action


def test_missed_check_and_decision_dates_are_escalated_once(client, login, new_client, app_ctx):
    owner, org, coordinator = _people()
    dpo, iso, decider = f.staff("dpo"), f.staff("iso"), f.staff("decider")
    reviewer = f.staff("reviewer")
    p = f.proposal(org=org, status="submitted", personal_data=True)
    c = login(coordinator)
    c.post(f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": reviewer.id})
    c.post(f"/staff/review/proposals/{p.id}/act", data={"action": "start_review"})
    db.session.expire_all()
    p = db.session.get(type(p), p.id)
    assert p.checks_due_on == date.today() + timedelta(days=nt.CHECK_DUE_DAYS)
    assert "Prüfungen fällig am" in c.get(f"/staff/review/proposals/{p.id}").text
    # the ISO checks in time, the DPO does not
    db.session.add(Check(proposal_id=p.id, kind="information_security", officer_id=iso.id,
                         outcome="passed"))
    db.session.commit()
    later = datetime.combine(p.checks_due_on + timedelta(days=1), time(12), tzinfo=UTC)
    assert nt.create_reminders(later) == 1
    assert nt.create_reminders(later) == 0  # once
    assert [n.kind for n in _notes(dpo)][-1] == "check_overdue"
    assert "check_overdue" in [n.kind for n in _notes(coordinator)]  # escalated
    assert "check_overdue" not in [n.kind for n in _notes(iso)]  # checked in time

    # the decision: due when the last check is in, then escalated once
    scores = {name: "4" for name in ("innovation", "benefit", "feasibility",
                                      "cost_effectiveness", "privacy_security")}
    desk = login(reviewer, new_client())
    desk.post(f"/staff/review/proposals/{p.id}/gate", data={"confirm": "y"})  # no conflict
    desk.post(f"/staff/review/proposals/{p.id}/review",
              data={**scores, "recommendation": "approve", "intent": "submit",
                    "confirmed": "1"})
    login(dpo, new_client()).post(
        f"/staff/review/proposals/{p.id}/checks/data_protection",
        data={"outcome": "passed", "seen_latest": "0", "dpia": "not_needed",
              "processing_agreement": "not_needed"})
    db.session.expire_all()
    p = db.session.get(type(p), p.id)
    assert p.decision_due_on == date.today() + timedelta(days=nt.DECISION_DUE_DAYS)
    tasks = login(decider, new_client()).get("/tasks/").text
    assert "Entscheiden: bereit zur Entscheidung" in tasks
    late = datetime.combine(p.decision_due_on + timedelta(days=1), time(12), tzinfo=UTC)
    assert nt.create_reminders(late) == 1
    assert nt.create_reminders(late) == 0
    assert [n.kind for n in _notes(decider)][-1] == "decision_overdue"
    assert [n.kind for n in _notes(coordinator)][-1] == "decision_overdue"


def test_a_resubmission_keeps_the_first_submission_date(client, login, app_ctx):
    owner, org, _coordinator = _people()
    p = f.proposal(org=org)
    c = login(owner)
    c.post(f"/proposals/{p.id}/act", data={"action": "submit", "confirmed": "1"})
    db.session.expire_all()
    first = db.session.get(type(p), p.id).first_submitted_at
    assert first is not None
    proposal = db.session.get(type(p), p.id)
    proposal.status = "changes_requested"
    proposal.first_submitted_at = first - timedelta(days=3)  # as if three days ago
    db.session.commit()
    c.post(f"/proposals/{p.id}/act", data={"action": "resubmit", "confirmed": "1"})
    db.session.expire_all()
    proposal = db.session.get(type(p), p.id)
    assert proposal.first_submitted_at == first - timedelta(days=3)
    assert proposal.submitted_at > proposal.first_submitted_at
    page = c.get(f"/proposals/{p.id}").text
    assert "Erstmals eingereicht am" in page and "Zuletzt eingereicht am" in page
