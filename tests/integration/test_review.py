"""The staff side of proposals: inbox, staff view, lifecycle moves, reviewers, reviews, checks."""
from __future__ import annotations

import re

from datetime import date, timedelta

import pytest

from innolab.extensions import db
from innolab.models import (
    AuditEvent, Check, Membership, Proposal, Review, ReviewAssignment, TimelineEntry,
)
from innolab.models._base import utcnow
from tests import factories as f
from innolab.domain.states import counting_reviews
from innolab.domain.states import latest_check
from innolab.models import Attachment

ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")

YES = {"confirmed": "1"}  # the irreversible step confirmed (web/confirm.py)


# ---------------------------------------------------------------- helpers


def _assign(p, reviewer, coordinator=None):
    a = ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                         proposal_id=p.id, reviewer_id=reviewer.id,
                         assigned_by_id=coordinator.id if coordinator else None)
    db.session.add(a)
    db.session.commit()
    return a


def _review(p, reviewer, submitted=True, score=4, recommendation="approve"):
    r = Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=score, benefit=score,
               feasibility=score, cost_effectiveness=score, privacy_security=score,
               recommendation=recommendation, comment="Solide Idee.",
               submitted_at=utcnow() if submitted else None)
    db.session.add(r)
    db.session.commit()
    return r


def _check(p, officer, kind="information_security", outcome="passed"):
    c = Check(proposal_id=p.id, kind=kind, officer_id=officer.id, outcome=outcome,
              comment="geprüft")
    db.session.add(c)
    db.session.commit()
    return c


def _reload(p):
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _audit(action):
    return db.session.query(AuditEvent).filter_by(action=action).all()


def _as(client, login, user):
    """The client signed in as `user` (None: a visitor)."""
    if user is not None:
        login(user)
    return client


@pytest.fixture
def people(app_ctx):
    """One user per role plus two partners; `who[name]` returns the user (None = visitor)."""
    owner = f.user(name="Olga Eigentümerin")
    other = f.user(name="Otto Anderswo")
    org = f.organisation(owner=owner, name="Chatbot Nord GmbH")
    f.organisation(owner=other, name="Andere Firma GmbH")
    users = {role: f.staff(role, name=f"{role.title()} Person") for role in ROLES}
    users.update(visitor=None, owner=owner, other_partner=other)
    users["org"] = org
    return users


def _in_review(people, **kw):
    p = f.proposal(org=people["org"], status="in_review", **kw)
    return p


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 200),
    ("coordinator", 200), ("reviewer", 303), ("decider", 200), ("dpo", 200), ("iso", 200),
])
def test_inbox_access_by_role(client, login, people, who, expected):
    f.proposal(org=people["org"], status="submitted", title="Chatbot für Anträge")
    resp = _as(client, login, people[who]).get("/staff/review/")
    assert resp.status_code == expected
    if who == "visitor":
        assert "/login" in resp.headers["Location"]
    elif who == "reviewer":
        assert resp.headers["Location"].endswith("/staff/review/mine")
    elif expected == 200:
        assert "Chatbot für Anträge" in resp.get_data(as_text=True)


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 200),
    ("coordinator", 200), ("reviewer", 404), ("decider", 200), ("dpo", 200), ("iso", 200),
])
def test_proposal_view_by_role(client, login, people, who, expected):
    p = _in_review(people, title="Chatbot für Anträge")
    resp = _as(client, login, people[who]).get(f"/staff/review/proposals/{p.id}")
    assert resp.status_code == expected
    if expected == 200:
        html = resp.get_data(as_text=True)
        assert "Chatbot für Anträge" in html
        assert "Prüfung der Informationssicherheit" in html


def test_proposal_view_assigned_reviewer_sees_it(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    html = _as(client, login, people["reviewer"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Gutachten schreiben" in html


def test_proposal_view_draft_is_hidden_from_staff(client, login, people):
    p = f.proposal(org=people["org"], status="draft")
    resp = _as(client, login, people["coordinator"]).get(f"/staff/review/proposals/{p.id}")
    assert resp.status_code == 404
    assert "Seite nicht gefunden" in resp.text and p.title not in resp.text


def test_proposal_view_unknown_id_is_404(client, login, people):
    resp = _as(client, login, people["coordinator"]).get("/staff/review/proposals/99999")
    assert resp.status_code == 404
    assert "Seite nicht gefunden" in resp.text


def test_proposal_view_shows_internal_timeline_and_decider_refusal(client, login, people):
    p = _in_review(people, personal_data=True, personal_data_details="Namen und Adressen")
    db.session.add(TimelineEntry(proposal_id=p.id, action="reviewer_assigned", internal=True,
                                 message="Rita Review"))
    db.session.commit()
    html = _as(client, login, people["decider"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Gutachter/in zugewiesen" in html
    # approval refused: no completed review yet – the reason is shown next to the action
    assert "Es liegen 0 von mindestens 1 abgeschlossenen Gutachten vor." in html
    assert "disabled" in html


def test_mine_lists_my_assignments(client, login, people):
    p = _in_review(people, title="Mein zugewiesener Vorschlag")
    f.proposal(org=people["org"], status="in_review", title="Fremder Vorschlag")
    _assign(p, people["reviewer"])
    html = _as(client, login, people["reviewer"]).get("/staff/review/mine").get_data(as_text=True)
    assert "Mein zugewiesener Vorschlag" in html
    assert "Fremder Vorschlag" not in html
    assert "Gutachten schreiben" in html


# ---------------------------------------------------------------- inbox filters and htmx


def test_inbox_filters_by_status_and_search(client, login, people):
    f.proposal(org=people["org"], status="submitted", title="Chatbot für Anträge")
    f.proposal(org=people["org"], status="in_review", title="Sensoren im Wald")
    f.proposal(org=people["org"], status="draft", title="Geheimer Entwurf")
    c = _as(client, login, people["coordinator"])
    html = c.get("/staff/review/").get_data(as_text=True)
    assert "2 Vorschläge gefunden" in html
    assert "Geheimer Entwurf" not in html
    html = c.get("/staff/review/?status=in_review").get_data(as_text=True)
    assert "Sensoren im Wald" in html and "Chatbot für Anträge" not in html
    html = c.get("/staff/review/?q=SENSOREN").get_data(as_text=True)
    assert "1 Vorschlag gefunden" in html and "Chatbot für Anträge" not in html
    ref = db.session.query(Proposal).filter_by(title="Chatbot für Anträge").one().reference
    html = c.get(f"/staff/review/?q={ref}").get_data(as_text=True)
    assert "1 Vorschlag gefunden" in html and "Chatbot für Anträge" in html
    html = c.get("/staff/review/?q=chatbot nord").get_data(as_text=True)  # organisation name
    assert "2 Vorschläge gefunden" in html


def test_inbox_filters_by_challenge_and_sorts(client, login, people):
    ch = f.challenge(title="Digitale Akte")
    f.proposal(org=people["org"], status="submitted", title="Alpha", challenge_=ch)
    f.proposal(org=people["org"], status="submitted", title="Beta")
    c = _as(client, login, people["coordinator"])
    html = c.get(f"/staff/review/?challenge={ch.id}").get_data(as_text=True)
    assert "Alpha" in html and ">Beta<" not in html
    html = c.get("/staff/review/?challenge=none").get_data(as_text=True)
    assert ">Beta<" in html and ">Alpha<" not in html
    html = c.get("/staff/review/?sort=title_desc").get_data(as_text=True)
    assert html.index(">Beta<") < html.index(">Alpha<")
    html = c.get("/staff/review/?sort=title_asc").get_data(as_text=True)
    assert html.index(">Alpha<") < html.index(">Beta<")


def test_inbox_bad_filter_values_are_ignored(client, login, people):
    f.proposal(org=people["org"], status="submitted", title="Chatbot")
    c = _as(client, login, people["coordinator"])
    resp = c.get("/staff/review/?status=nonsense&challenge=abc&sort=x&page=zz")
    assert resp.status_code == 200
    assert "1 Vorschlag gefunden" in resp.get_data(as_text=True)
    resp = c.get("/staff/review/?q=%25_&page=99")  # SQL wildcards are searched literally
    assert resp.status_code == 200
    assert "0 Vorschläge gefunden" in resp.get_data(as_text=True)


def test_inbox_paginates(client, login, people):
    for i in range(23):
        f.proposal(org=people["org"], status="submitted", title=f"Vorschlag Nummer {i:02d}")
    c = _as(client, login, people["coordinator"])
    html = c.get("/staff/review/?sort=title_asc").get_data(as_text=True)
    assert "23 Vorschläge gefunden" in html
    assert "Vorschlag Nummer 19" in html and "Vorschlag Nummer 20" not in html
    html = c.get("/staff/review/?sort=title_asc&page=2").get_data(as_text=True)
    assert "Vorschlag Nummer 20" in html and "Vorschlag Nummer 00" not in html


def test_inbox_htmx_returns_only_results_block(client, login, people):
    f.proposal(org=people["org"], status="submitted", title="Chatbot für Anträge")
    c = _as(client, login, people["coordinator"])
    resp = c.get("/staff/review/?q=chatbot", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "HX-Request" in resp.headers.get("Vary", "")
    assert "1 Vorschlag gefunden" in html and "Chatbot für Anträge" in html
    # the rows (with the selection for assigning many at once), not the page nor its filters
    assert "<html" not in html and 'role="search"' not in html and "<h1" not in html
    full = c.get("/staff/review/?q=chatbot")
    assert "HX-Request" in full.headers.get("Vary", "")
    body = full.get_data(as_text=True)
    assert "<h1" in body and 'aria-live="polite"' in body and 'hx-push-url="true"' in body


def test_inbox_htmx_history_restore_gets_full_page(client, login, people):
    c = _as(client, login, people["coordinator"])
    html = c.get("/staff/review/", headers={"HX-Request": "true",
                                             "HX-History-Restore-Request": "true"}
                 ).get_data(as_text=True)
    assert "<h1" in html


def test_inbox_shows_review_counts_and_checks(client, login, people):
    p = _in_review(people, title="Gezählter Vorschlag")
    r1, r2 = f.staff("reviewer"), f.staff("reviewer")
    _assign(p, r1)
    _assign(p, r2)
    _review(p, r1)
    _check(p, people["iso"])
    html = _as(client, login, people["coordinator"]).get("/staff/review/").get_data(as_text=True)
    assert "1 von 2" in html
    assert "Prüfung der Informationssicherheit: bestanden" in html


# ---------------------------------------------------------------- assigning reviewers


def test_assign_reviewer_queues_mail_and_records(client, login, people, outbox):
    p = f.proposal(org=people["org"], status="submitted")
    rev = people["reviewer"]
    resp = _as(client, login, people["coordinator"]).post(
        f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": rev.id})
    assert resp.status_code == 303
    p = _reload(p)
    assert [a.reviewer_id for a in p.assignments] == [rev.id]
    entry = p.timeline[-1]
    assert entry.action == "reviewer_assigned" and entry.internal
    mails = outbox(rev.email)
    assert len(mails) == 1 and p.reference in mails[0].subject
    assert _audit("review.assign")


def test_assign_offers_only_eligible_reviewers(client, login, people):
    member_reviewer = f.staff("reviewer", name="Befangene Person")
    people["org"].memberships.append(Membership(user=member_reviewer))
    db.session.commit()
    inactive = f.staff("reviewer", name="Inaktive Person", active=False)
    p = f.proposal(org=people["org"], status="submitted")
    c = _as(client, login, people["coordinator"])
    html = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    choices = html[html.index('name="reviewer_id"'):]
    choices = choices[:choices.index("</select>")]
    assert people["reviewer"].name in choices
    assert "Befangene Person" not in choices and "Inaktive Person" not in choices
    assert "Decider Person (" not in choices  # not a reviewer
    # the coordinators see who has a conflict of interest, and why
    assert "Befangene Person: Mitglied der vorschlagenden Organisation" in html
    for bad in (member_reviewer.id, inactive.id, people["decider"].id, "abc", ""):
        resp = c.post(f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": bad})
        assert resp.status_code == 422
    assert not _reload(p).assignments


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 403),
    ("reviewer", 404), ("decider", 403), ("dpo", 403), ("iso", 403),
])
def test_assign_refused_for_roles(client, login, people, who, expected):
    p = f.proposal(org=people["org"], status="submitted")
    resp = _as(client, login, people[who]).post(
        f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": people["reviewer"].id})
    assert resp.status_code == expected
    assert not _reload(p).assignments


def test_assign_refused_after_decision(client, login, people):
    p = f.proposal(org=people["org"], status="approved")
    resp = _as(client, login, people["coordinator"]).post(
        f"/staff/review/proposals/{p.id}/reviewers", data={"reviewer_id": people["reviewer"].id})
    assert resp.status_code == 403
    assert "Gutachter können nur eingereichten Vorschlägen" in resp.text
    assert not _reload(p).assignments


def test_unassign_removes_assignment_and_draft(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    _review(p, people["reviewer"], submitted=False)
    resp = _as(client, login, people["coordinator"]).post(
        f"/staff/review/proposals/{p.id}/reviewers/{people['reviewer'].id}/remove")
    assert resp.status_code == 303
    p = _reload(p)
    assert not p.assignments and not p.reviews
    assert p.timeline[-1].action == "reviewer_unassigned"
    assert _audit("review.unassign")


def test_unassign_refused_after_submitted_review(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    _review(p, people["reviewer"])
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers/{people['reviewer'].id}/remove")
    assert resp.status_code == 303
    assert len(_reload(p).assignments) == 1
    html = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "hat das Gutachten bereits abgeschlossen" in html


def test_unassign_refused_for_reviewer_and_unknown_user(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    resp = _as(client, login, people["reviewer"]).post(
        f"/staff/review/proposals/{p.id}/reviewers/{people['reviewer'].id}/remove")
    assert resp.status_code == 403
    resp = _as(client, login, people["coordinator"]).post(
        f"/staff/review/proposals/{p.id}/reviewers/99999/remove")
    assert resp.status_code == 404
    assert len(_reload(p).assignments) == 1


# ---------------------------------------------------------------- writing a review

FULL = {"innovation": "5", "benefit": "4", "feasibility": "4", "cost_effectiveness": "3",
        "privacy_security": "4", "recommendation": "approve", "comment": "Überzeugt."}


def test_review_form_shows_criteria_as_fieldsets(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    html = _as(client, login, people["reviewer"]).get(
        f"/staff/review/proposals/{p.id}/review").get_data(as_text=True)
    for label in ("Innovationsgrad", "Nutzen für die Verwaltung", "Umsetzbarkeit",
                  "Wirtschaftlichkeit", "Reife für Datenschutz und Informationssicherheit"):
        assert f'<legend class="kern-label">{label}</legend>' in html
    assert "Zwischenspeichern" in html and "Gutachten abschließen" in html
    assert html.count('class="kern-form-check__radio"') == 5 * 5 + 3


def test_review_save_draft_then_submit(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    c = _as(client, login, people["reviewer"])
    resp = c.post(f"/staff/review/proposals/{p.id}/review",
                  data={"innovation": "3", "comment": "Erste Gedanken", "intent": "save"})
    assert resp.status_code == 303
    r = db.session.query(Review).one()
    assert r.innovation == 3 and r.benefit is None and r.submitted_at is None
    html = c.get(f"/staff/review/proposals/{p.id}/review").get_data(as_text=True)
    assert "Erste Gedanken" in html
    resp = c.post(f"/staff/review/proposals/{p.id}/review", data={**FULL, "intent": "submit",
                                                                  "confirmed": "1"})
    assert resp.status_code == 303
    db.session.expire_all()
    r = db.session.query(Review).one()
    assert r.submitted_at is not None and r.innovation == 5 and r.recommendation == "approve"
    assert _audit("review.submit")
    assert _reload(p).timeline[-1].action == "review_submitted"


def test_review_submit_needs_every_score_and_keeps_text(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    data = {**FULL, "intent": "submit", "comment": "Mein getippter Kommentar"}
    del data["feasibility"]
    resp = _as(client, login, people["reviewer"]).post(
        f"/staff/review/proposals/{p.id}/review", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Mein getippter Kommentar" in html
    assert "Bitte vergeben Sie eine Bewertung von 1 bis 5." in html
    assert db.session.query(Review).count() == 0


@pytest.mark.parametrize("bad", ["0", "6", "-1", "abc", "4.5"])
def test_review_score_out_of_range_is_refused(client, login, people, bad):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    resp = _as(client, login, people["reviewer"]).post(
        f"/staff/review/proposals/{p.id}/review",
        data={**FULL, "innovation": bad, "intent": "submit", "comment": "Bleibt stehen"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Bleibt stehen" in html and "Bitte wählen Sie einen der angebotenen Werte." in html
    assert db.session.query(Review).count() == 0


def test_review_submitted_is_not_changed_without_reopening(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    _review(p, people["reviewer"], score=2)
    c = _as(client, login, people["reviewer"])
    resp = c.post(f"/staff/review/proposals/{p.id}/review", data={**FULL, "intent": "submit",
                                                                  "confirmed": "1"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.query(Review).one().innovation == 2
    page = c.get(f"/staff/review/proposals/{p.id}/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Gutachten wieder öffnen" in html
    assert 'name="intent"' not in html  # the completed review is shown, not a form


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 403),
    ("coordinator", 403), ("reviewer", 404), ("decider", 403), ("dpo", 403), ("iso", 403),
])
def test_review_refused_for_roles(client, login, people, who, expected):
    p = _in_review(people)
    _assign(p, f.staff("reviewer"))
    c = _as(client, login, people[who])
    assert c.get(f"/staff/review/proposals/{p.id}/review").status_code == expected
    resp = c.post(f"/staff/review/proposals/{p.id}/review", data={**FULL, "intent": "submit",
                                                                  "confirmed": "1"})
    assert resp.status_code == expected
    assert db.session.query(Review).count() == 0


def test_review_refused_before_review_started(client, login, people):
    p = f.proposal(org=people["org"], status="submitted")
    _assign(p, people["reviewer"])
    resp = _as(client, login, people["reviewer"]).get(f"/staff/review/proposals/{p.id}/review")
    assert resp.status_code == 403
    assert "Gutachten sind nur während der Begutachtung möglich." in resp.text


def test_reviewer_sees_other_reviews_only_after_own(client, login, people):
    p = _in_review(people)
    other = f.staff("reviewer", name="Zweite Gutachterin")
    _assign(p, people["reviewer"])
    _assign(p, other)
    _review(p, other)
    c = _as(client, login, people["reviewer"])
    html = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Gutachten von Zweite Gutachterin" not in html
    assert "sobald Sie Ihr eigenes Gutachten abgeschlossen haben" in html
    _review(p, people["reviewer"])
    html = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Gutachten von Zweite Gutachterin" in html
    html = _as(client, login, people["coordinator"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Gutachten von Zweite Gutachterin" in html and "Solide Idee." in html


# ---------------------------------------------------------------- conflict of interest


def test_conflict_takes_reviewer_off(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    _review(p, people["reviewer"])  # a submitted review no longer counts after the conflict
    c = _as(client, login, people["reviewer"])
    assert c.get(f"/staff/review/proposals/{p.id}/conflict").status_code == 200
    resp = c.post(f"/staff/review/proposals/{p.id}/conflict",
                  data={"reason": "Ich habe dort früher gearbeitet."})
    assert resp.status_code == 303
    a = db.session.query(ReviewAssignment).one()
    db.session.refresh(a)
    assert a.conflict_declared_at is not None
    assert c.get(f"/staff/review/proposals/{p.id}/review").status_code == 403

    assert counting_reviews(_reload(p)) == []
    html = _as(client, login, people["coordinator"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Interessenkonflikt" in html and "Ich habe dort früher gearbeitet." in html
    assert _audit("review.conflict")


def test_conflict_needs_reason(client, login, people):
    p = _in_review(people)
    _assign(p, people["reviewer"])
    resp = _as(client, login, people["reviewer"]).post(
        f"/staff/review/proposals/{p.id}/conflict", data={"reason": "  "})
    assert resp.status_code == 422
    assert "Bitte nennen Sie den Grund" in resp.get_data(as_text=True)
    assert db.session.query(ReviewAssignment).one().conflict_declared_at is None


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("reviewer", 404),
])
def test_conflict_refused_for_roles(client, login, people, who, expected):
    p = _in_review(people)
    _assign(p, f.staff("reviewer"))
    resp = _as(client, login, people[who]).post(
        f"/staff/review/proposals/{p.id}/conflict", data={"reason": "Befangen"})
    assert resp.status_code == expected


@pytest.mark.parametrize("who", ["admin", "coordinator", "decider", "dpo", "iso"])
def test_other_staff_declare_a_conflict_and_lose_the_staff_view(client, login, people, who):
    p = _in_review(people)
    c = _as(client, login, people[who])
    resp = c.post(f"/staff/review/proposals/{p.id}/conflict", data={"reason": "Mein Bruder"})
    assert resp.status_code == 303
    resp = c.get(f"/staff/review/proposals/{p.id}")
    assert resp.status_code == 403
    assert "Interessenkonflikt" in resp.get_data(as_text=True)
    assert _audit("conflict.declare")
    if who != "coordinator":
        html = _as(client, login, people["coordinator"]).get(
            f"/staff/review/proposals/{p.id}").get_data(as_text=True)
        assert "Mein Bruder" in html


# ---------------------------------------------------------------- checks


def test_check_recorded_by_iso_and_replaced(client, login, people):
    p = _in_review(people)
    c = _as(client, login, people["iso"])
    url = f"/staff/review/proposals/{p.id}/checks/information_security"
    assert c.get(url).status_code == 200
    resp = c.post(url, data={"outcome": "failed", "comment": "Kein Löschkonzept."})
    assert resp.status_code == 303
    resp = c.post(url, data={"outcome": "passed", "comment": "Nachgereicht."})
    assert resp.status_code == 303

    p = _reload(p)
    assert len(p.checks) == 2
    assert latest_check(p, "information_security").outcome == "passed"
    html = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Frühere Ergebnisse (1)" in html and "Kein Löschkonzept." in html
    assert _audit("review.check")


def test_check_failed_needs_comment(client, login, people):
    p = _in_review(people)
    resp = _as(client, login, people["iso"]).post(
        f"/staff/review/proposals/{p.id}/checks/information_security", data={"outcome": "failed"})
    assert resp.status_code == 422
    assert "Bitte begründen Sie" in resp.get_data(as_text=True)
    resp = _as(client, login, people["iso"]).post(
        f"/staff/review/proposals/{p.id}/checks/information_security", data={"outcome": "maybe"})
    assert resp.status_code == 422
    assert db.session.query(Check).count() == 0


def test_check_data_protection_only_with_personal_data(client, login, people):
    without = _in_review(people)
    with_pd = _in_review(people, personal_data=True, personal_data_details="Namen")
    c = _as(client, login, people["dpo"])
    assert c.get(f"/staff/review/proposals/{without.id}/checks/data_protection").status_code == 403
    resp = c.post(f"/staff/review/proposals/{with_pd.id}/checks/data_protection",
                  data={"outcome": "passed", "dpia": "not_needed",
                        "processing_agreement": "needed"})
    assert resp.status_code == 303
    check = db.session.query(Check).one()
    assert check.kind == "data_protection"
    assert (check.dpia, check.processing_agreement) == ("not_needed", "needed")
    html = c.get(f"/staff/review/proposals/{with_pd.id}").get_data(as_text=True)
    assert "DSFA: nicht erforderlich" in html
    assert "AV-Vertrag: erforderlich, noch nicht abgeschlossen" in html


def test_data_protection_check_asks_for_dsfa_and_av_contract(client, login, people):
    p = _in_review(people, personal_data=True, personal_data_details="Namen")
    c = _as(client, login, people["dpo"])
    form = c.get(f"/staff/review/proposals/{p.id}/checks/data_protection").get_data(
        as_text=True)
    assert "Datenschutz-Folgenabschätzung (DSFA, Art. 35 DSGVO)" in form
    assert 'name="processing_agreement"' in form
    resp = c.post(f"/staff/review/proposals/{p.id}/checks/data_protection",
                  data={"outcome": "passed", "comment": "Alles gut"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and db.session.query(Check).count() == 0
    assert "ob eine Datenschutz-Folgenabschätzung erforderlich ist" in html
    assert "ob ein Vertrag zur Auftragsverarbeitung erforderlich ist" in html
    assert "Alles gut" in html  # what was typed stays
    # the security check has neither question
    iso = _as(client, login, people["iso"])
    assert 'name="dpia"' not in iso.get(
        f"/staff/review/proposals/{p.id}/checks/information_security").get_data(as_text=True)


def test_check_unknown_kind_is_404(client, login, people):
    p = _in_review(people)
    assert _as(client, login, people["iso"]).get(
        f"/staff/review/proposals/{p.id}/checks/fire_safety").status_code == 404


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 403),
    ("coordinator", 403), ("reviewer", 404), ("decider", 403), ("dpo", 403),
])
def test_check_information_security_refused_for_roles(client, login, people, who, expected):
    p = _in_review(people)
    resp = _as(client, login, people[who]).post(
        f"/staff/review/proposals/{p.id}/checks/information_security", data={"outcome": "passed"})
    assert resp.status_code == expected
    assert db.session.query(Check).count() == 0


def test_check_refused_outside_review(client, login, people):
    p = f.proposal(org=people["org"], status="submitted")
    resp = _as(client, login, people["iso"]).post(
        f"/staff/review/proposals/{p.id}/checks/information_security", data={"outcome": "passed"})
    assert resp.status_code == 403
    assert "Prüfungen sind nur während der Begutachtung möglich." in resp.text
    assert db.session.query(Check).count() == 0


# ---------------------------------------------------------------- lifecycle moves


def test_start_review_needs_a_reviewer(client, login, people):
    p = f.proposal(org=people["org"], status="submitted")
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data={"action": "start_review"})
    assert resp.status_code == 422
    assert "Weisen Sie zuerst mindestens eine Gutachterin" in resp.get_data(as_text=True)
    assert _reload(p).status == "submitted"
    _assign(p, people["reviewer"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data={"action": "start_review"})
    assert resp.status_code == 303
    assert _reload(p).status == "in_review"


def test_request_changes_needs_message_and_mails_partner(client, login, people, outbox):
    p = f.proposal(org=people["org"], status="submitted")
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "request_changes", "message": "   "})
    assert resp.status_code == 422
    assert "Bitte geben Sie eine Nachricht an die Partnerorganisation ein." in resp.get_data(
        as_text=True)
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "request_changes", "message": "Bitte Kosten aufschlüsseln."})
    assert resp.status_code == 303
    assert _reload(p).status == "changes_requested"
    mails = outbox(people["owner"].email)
    assert len(mails) == 1 and "Bitte Kosten aufschlüsseln." in mails[0].body_text


def _ready_for_decision(people, personal_data=False):
    kw = {"personal_data": True, "personal_data_details": "Namen"} if personal_data else {}
    p = _in_review(people, **kw)
    _assign(p, people["reviewer"])
    _review(p, people["reviewer"])
    _check(p, people["iso"])
    if personal_data:
        _check(p, people["dpo"], kind="data_protection")
    return p


def test_approve_happy_path_mails_partner(client, login, people, outbox):
    p = _ready_for_decision(people, personal_data=True)
    resp = _as(client, login, people["decider"]).post(
        f"/staff/review/proposals/{p.id}/act",
        data={"action": "approve", "confirmed": "1", "message": "Passt gut zur Herausforderung."})
    assert resp.status_code == 303
    p = _reload(p)
    assert p.status == "approved" and p.decision_rationale == "Passt gut zur Herausforderung."
    mails = outbox(people["owner"].email)
    assert len(mails) == 1 and "Passt gut zur Herausforderung." in mails[0].body_text
    assert _audit("proposal.approve")


def test_approve_refused_until_reviews_and_checks_complete(client, login, people):
    p = _in_review(people, personal_data=True, personal_data_details="Namen")
    _assign(p, people["reviewer"])
    c = _as(client, login, people["decider"])
    data = {"action": "approve", "confirmed": "1", "message": "Meine getippte Begründung"}

    resp = c.post(f"/staff/review/proposals/{p.id}/act", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "abgeschlossenen Gutachten vor" in html

    _review(p, people["reviewer"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data=data)
    assert resp.status_code == 422
    assert "Die Datenschutzprüfung ist nicht bestanden oder steht noch aus." in resp.get_data(
        as_text=True)

    _check(p, people["dpo"], kind="data_protection")
    _check(p, people["iso"], outcome="failed")
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data=data)
    assert resp.status_code == 422
    assert "Informationssicherheit ist nicht bestanden" in resp.get_data(as_text=True)
    assert _reload(p).status == "in_review"

    _check(p, people["iso"], outcome="passed")  # the latest check counts
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data=data)
    assert resp.status_code == 303
    assert _reload(p).status == "approved"


def test_approve_refused_when_decider_wrote_the_only_review(client, login, people):
    decider = f.staff("decider", "reviewer", name="Doppelrolle")
    p = _in_review(people)
    _assign(p, decider)
    _review(p, decider)
    _check(p, people["iso"])
    resp = _as(client, login, decider).post(
        f"/staff/review/proposals/{p.id}/act", data={"action": "approve", "confirmed": "1",
                                                     "message": "Gut."})
    assert resp.status_code == 422
    assert "Sie haben das einzige Gutachten geschrieben" in resp.get_data(as_text=True)
    assert _reload(p).status == "in_review"


def test_approve_missing_rationale_keeps_nothing_changed(client, login, people):
    p = _ready_for_decision(people)
    resp = _as(client, login, people["decider"]).post(
        f"/staff/review/proposals/{p.id}/act", data={"action": "approve", "confirmed": "1",
                                                     "message": ""})
    assert resp.status_code == 422
    assert "Bitte begründen Sie die Entscheidung" in resp.get_data(as_text=True)
    assert _reload(p).status == "in_review"


def test_reject_keeps_typed_text_on_refusal_and_mails_on_success(client, login, people, outbox):
    p = _in_review(people)
    conflicted = f.staff("decider", "reviewer")
    a = _assign(p, conflicted)
    a.conflict_declared_at = utcnow()
    db.session.commit()
    resp = _as(client, login, conflicted).post(
        f"/staff/review/proposals/{p.id}/act",
        data={"action": "reject", "confirmed": "1", "message": "Mein sorgfältiger Text"})
    # a decider with a conflict of interest is told that another person must decide
    assert resp.status_code == 403
    html = resp.get_data(as_text=True)
    assert "Interessenkonflikt" in html and "andere Person" in html
    assert _reload(p).status == "in_review"
    resp = _as(client, login, people["decider"]).post(
        f"/staff/review/proposals/{p.id}/act",
        data={"action": "reject", "confirmed": "1", "message": "Mein sorgfältiger Text",
              "seen_status": "submitted"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Mein sorgfältiger Text</textarea>" in html
    assert "inzwischen bearbeitet" in html
    resp = _as(client, login, people["decider"]).post(
        f"/staff/review/proposals/{p.id}/act",
        data={"action": "reject", "confirmed": "1", "message": "Nicht wirtschaftlich."})
    assert resp.status_code == 303
    assert _reload(p).status == "rejected"
    assert "Nicht wirtschaftlich." in outbox(people["owner"].email)[0].body_text


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 403),
    ("coordinator", 403), ("dpo", 403), ("iso", 403), ("unassigned_reviewer", 404),
])
def test_approve_refused_for_roles(client, login, people, who, expected):
    p = _ready_for_decision(people)
    people["unassigned_reviewer"] = f.staff("reviewer")
    resp = _as(client, login, people[who]).post(
        f"/staff/review/proposals/{p.id}/act", data={"action": "approve", "confirmed": "1",
                                                     "message": "Gut."})
    assert resp.status_code == expected
    assert _reload(p).status == "in_review"


def test_approve_refused_for_assigned_reviewer(client, login, people):
    p = _ready_for_decision(people)
    resp = _as(client, login, people["reviewer"]).post(
        f"/staff/review/proposals/{p.id}/act", data={"action": "approve", "confirmed": "1",
                                                     "message": "Gut."})
    assert resp.status_code == 403
    assert _reload(p).status == "in_review"


def test_act_unknown_action_is_400(client, login, people):
    p = _in_review(people)
    c = _as(client, login, people["coordinator"])
    for action in ("explode", "submit", ""):
        resp = c.post(f"/staff/review/proposals/{p.id}/act", data={"action": action})
        assert resp.status_code == 400
    assert _reload(p).status == "in_review"


def test_act_wrong_status_is_refused_with_reason(client, login, people):
    p = f.proposal(org=people["org"], status="rejected")
    resp = _as(client, login, people["coordinator"]).post(
        f"/staff/review/proposals/{p.id}/act", data={"action": "start_review"})
    assert resp.status_code == 422
    assert "ist diese Aktion nicht möglich" in resp.get_data(as_text=True)


def test_start_pilot_refused_until_goals_are_agreed(client, login, people):
    p = f.proposal(org=people["org"], status="approved")
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "start_pilot", "confirmed": "1",
                        "start_date": date.today().isoformat()})
    assert resp.status_code == 422
    assert "messbares Ziel" in resp.get_data(as_text=True)
    assert _reload(p).status == "approved"


def test_start_pilot_needs_valid_date(client, login, people, outbox):
    p = f.proposal(org=people["org"], status="approved")
    f.goal(p)
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "start_pilot", "confirmed": "1", "start_date": "kein Datum"})
    assert resp.status_code == 422
    assert 'value="kein Datum"' in resp.get_data(as_text=True)
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data={"action": "start_pilot",
                                                               "confirmed": "1"})
    assert resp.status_code == 422
    assert "Bitte geben Sie das Startdatum des Piloten an." in resp.get_data(as_text=True)
    start = date.today() + timedelta(days=7)
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "start_pilot", "confirmed": "1", "start_date": start.isoformat()})
    assert resp.status_code == 303
    p = _reload(p)
    assert p.status == "running" and p.pilot_start_date == start
    assert outbox(people["owner"].email)


def test_cancel_needs_reason(client, login, people):
    p = f.proposal(org=people["org"], status="running")
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/act", data={"action": "cancel",
                                                               "confirmed": "1"})
    assert resp.status_code == 422
    assert "Bitte geben Sie einen Grund an." in resp.get_data(as_text=True)
    resp = c.post(f"/staff/review/proposals/{p.id}/act",
                  data={"action": "cancel", "confirmed": "1", "message": "Partner insolvent."})
    assert resp.status_code == 303
    assert _reload(p).status == "cancelled"


def test_action_panel_shows_forms_for_coordinator(client, login, people):
    p = f.proposal(org=people["org"], status="submitted")
    html = _as(client, login, people["coordinator"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Nachbesserung anfordern" in html and 'id="message-request_changes"' in html
    assert "Weisen Sie zuerst mindestens eine Gutachterin" in html  # start_review refused


# ---------------------------------------------------------------- showcase


def test_publish_and_unpublish(client, login, people):
    p = f.proposal(org=people["org"], status="approved", publication_consent=True)
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/publish", data=YES)
    assert resp.status_code == 303
    p = _reload(p)
    assert p.published_at is not None
    entry = p.timeline[-1]
    assert entry.action == "published" and not entry.internal
    html = c.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Im Schaufenster veröffentlicht" in html
    resp = c.post(f"/staff/review/proposals/{p.id}/unpublish")
    assert resp.status_code == 303
    assert _reload(p).published_at is None
    assert _audit("proposal.publish") and _audit("proposal.unpublish")


def test_publish_refused_without_consent_or_in_review(client, login, people):
    c = _as(client, login, people["coordinator"])
    p = f.proposal(org=people["org"], status="approved", publication_consent=False)
    assert c.post(f"/staff/review/proposals/{p.id}/publish", data=YES).status_code == 403
    q = _in_review(people)
    assert c.post(f"/staff/review/proposals/{q.id}/publish", data=YES).status_code == 403
    assert c.post(f"/staff/review/proposals/{q.id}/unpublish").status_code == 403
    assert _reload(p).published_at is None


@pytest.mark.parametrize("who,expected", [
    ("visitor", 302), ("owner", 403), ("other_partner", 403), ("admin", 403),
    ("reviewer", 404), ("decider", 403), ("dpo", 403), ("iso", 403),
])
def test_publish_refused_for_roles(client, login, people, who, expected):
    p = f.proposal(org=people["org"], status="running", publication_consent=True)
    resp = _as(client, login, people[who]).post(f"/staff/review/proposals/{p.id}/publish", data=YES)
    assert resp.status_code == expected
    assert _reload(p).published_at is None


# ---------------------------------------------------------------- attachments and versions


def test_proposal_view_lists_attachments_and_offers_internal_upload(client, login, people):
    p = _in_review(people)
    p.version = 2
    db.session.add(Attachment(proposal_id=p.id, filename="Konzept.pdf", stored_name="a" * 32,
                              content_type="application/pdf", size=2048))
    db.session.add(Attachment(proposal_id=p.id, filename="Vermerk.pdf", stored_name="b" * 32,
                              content_type="application/pdf", size=1024, internal=True))
    db.session.commit()
    html = _as(client, login, people["coordinator"]).get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "Konzept.pdf" in html and "Vermerk.pdf" in html and ">intern<" in html
    assert f'action="/proposals/{p.id}/attachments"' in html
    assert 'name="internal" value="y"' in html
    assert f"/proposals/{p.id}/versions" in html


def test_refusal_with_a_name_is_escaped(client, login, people):
    p = _in_review(people)
    sneaky = f.staff("reviewer", name="<b>Fett</b>")
    _assign(p, sneaky)
    _review(p, sneaky)
    c = _as(client, login, people["coordinator"])
    resp = c.post(f"/staff/review/proposals/{p.id}/reviewers/{sneaky.id}/remove")
    html = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "&lt;b&gt;Fett&lt;/b&gt; hat das Gutachten bereits abgeschlossen" in html
    assert "<b>Fett</b>" not in html


def test_a_refused_action_names_the_page_it_belongs_to_and_a_reload_finds_it(client, login,
                                                                             people):
    p = _in_review(people)
    staff = _as(client, login, people["coordinator"])
    action = f"/staff/review/proposals/{p.id}/reviewers"
    resp = staff.post(action, data={"reviewer_id": "999999"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    # the browser's address bar is set to the page (static/js/innolab.js) ...
    assert f'<meta name="innolab-page-address" content="/staff/review/proposals/{p.id}">' in html
    # ... and a reload of the action's own address (only POST reaches it) leads there too
    reload = staff.get(action)
    assert reload.status_code == 303
    assert reload.headers["Location"].endswith(f"/staff/review/proposals/{p.id}")
    # a page answering a GET (or a successful POST's redirect target) carries no such mark
    assert "innolab-page-address" not in staff.get(
        f"/staff/review/proposals/{p.id}").get_data(as_text=True)


def test_a_get_of_an_action_under_a_file_is_not_sent_to_the_file(client, login, people):
    owner = _as(client, login, people["owner"])
    resp = owner.get("/proposals/attachments/1/delete")
    assert resp.status_code == 303
    assert "/attachments/1" not in resp.headers["Location"]


def test_inbox_search_ignores_case_and_sharp_s(client, login, people):
    f.proposal(org=people["org"], status="submitted", title="StraßenBlick für Bauhöfe")
    c = _as(client, login, people["coordinator"])
    for typed in ("STRASSENBLICK", "strassenblick", "Straßenblick"):
        html = c.get(f"/staff/review/?q={typed}").get_data(as_text=True)
        assert "1 Vorschlag gefunden" in html and "StraßenBlick für Bauhöfe" in html, typed


def test_inbox_filters_announce_the_count_not_the_table(client, login, people):
    f.proposal(org=people["org"], status="submitted", title="Chatbot für Anträge")
    f.proposal(org=people["org"], status="in_review", title="Sensoren im Wald")
    c = _as(client, login, people["coordinator"])
    html = c.get("/staff/review/").get_data(as_text=True)
    live = re.findall(r'<[^>]+aria-live="polite"[^>]*>', html)
    # the flash area and the count; the table of results is no live region
    assert any('id="results-count"' in tag for tag in live)
    assert '<div id="results">' in html and '<div id="results" aria-live' not in html
    assert re.search(r'id="results-count"[^>]*>2 Vorschläge gefunden</p>', html)
    part = c.get("/staff/review/?status=in_review",
                 headers={"HX-Request": "true", "HX-Target": "results"}).get_data(as_text=True)
    assert '<span id="results-count" hx-swap-oob="innerHTML">1 Vorschlag gefunden</span>' in part
    assert "Sensoren im Wald" in part and "<html" not in part
