"""Checks that pass with conditions ("Auflagen"): recorded with the check, shown to the staff,
a task of the officer, and the pilot does not start until the officer marks each one met."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, CheckCondition, Proposal, Review, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import page_text

pytestmark = pytest.mark.usefixtures("app_ctx")

DSFA = "Datenschutz-Folgenabschätzung (DSFA) vor dem Start durchführen"


@pytest.fixture
def w(new_client, login):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="in_review", personal_data=True,
                   title="Sprachassistent im Bürgerbüro")
    staff = {role: f.staff(role) for role in ("dpo", "iso", "coordinator", "decider",
                                              "reviewer")}
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=staff["reviewer"].id))
    db.session.add(Review(proposal_id=p.id, reviewer_id=staff["reviewer"].id, innovation=4,
                          benefit=4, feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", submitted_at=utcnow()))
    db.session.commit()
    clients = {role: login(user, new_client()) for role, user in staff.items()}
    return p, staff, clients


def _check(client, p, kind="data_protection", outcome="passed", conditions="", **extra):
    data = {"outcome": outcome, "seen_latest": extra.pop("seen_latest", "0"),
            "conditions": conditions, **extra}
    if kind == "data_protection":
        data.setdefault("dpia", "not_needed")
        data.setdefault("processing_agreement", "not_needed")
    return client.post(f"/staff/review/proposals/{p.id}/checks/{kind}", data=data)


def _conditions(p) -> list[CheckCondition]:
    return list(db.session.execute(select(CheckCondition).order_by(CheckCondition.id)).scalars())


def _start(client, p):
    return client.post(f"/staff/review/proposals/{p.id}/act",
                       data={"action": "start_pilot", "confirmed": "1", "seen_status": "approved",
                             "start_date": date.today().isoformat()})


def test_conditions_block_the_start_until_the_officer_marks_them_met(w):
    p, staff, c = w
    r = _check(c["dpo"], p, dpia="needed",
               conditions="Löschkonzept vorlegen\n\n- Löschkonzept vorlegen\n"
                          "Zugriff protokollieren")
    assert r.status_code == 303, r.get_data(as_text=True)
    assert [x.text for x in _conditions(p)] == [DSFA, "Löschkonzept vorlegen",
                                                "Zugriff protokollieren"]
    assert _check(c["iso"], p, kind="information_security").status_code == 303
    page = page_text(c["coordinator"].get(f"/staff/review/proposals/{p.id}"))
    assert "Auflagen vor dem Start des Piloten" in page and "Löschkonzept vorlegen offen" in page

    # a check passed with conditions is passed: the decision is possible
    r = c["decider"].post(f"/staff/review/proposals/{p.id}/act",
                          data={"action": "approve", "confirmed": "1", "seen_status": "in_review",
                                "message": "Mit den Auflagen des Datenschutzes."})
    assert r.status_code == 303, r.get_data(as_text=True)
    f.goal(db.session.get(Proposal, p.id))

    refused = _start(c["coordinator"], p)
    assert refused.status_code == 422
    text = page_text(refused)
    assert "Vor dem Start müssen die Auflagen der Prüfungen erfüllt sein" in text
    assert "Zugriff protokollieren" in text
    assert db.session.get(Proposal, p.id).status == "approved"

    tasks = page_text(c["dpo"].get("/tasks/"))
    assert "Auflagen Ihrer Prüfung als erfüllt vermerken" in tasks
    assert "Auflagen Ihrer Prüfung" not in page_text(c["iso"].get("/tasks/"))

    first = _conditions(p)[0]
    # only an officer of the check's kind marks it
    for other in ("iso", "coordinator", "decider"):
        r = c[other].post(f"/staff/review/proposals/{p.id}/conditions/{first.id}/met")
        assert r.status_code == 403, other
    for condition in _conditions(p):
        r = c["dpo"].post(f"/staff/review/proposals/{p.id}/conditions/{condition.id}/met")
        assert r.status_code == 303
    assert all(x.met_at is not None and x.met_by_id == staff["dpo"].id for x in _conditions(p))
    again = c["dpo"].post(f"/staff/review/proposals/{p.id}/conditions/{first.id}/met")
    assert "bereits als erfüllt vermerkt" in page_text(c["dpo"].get(again.location))
    events = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "review.condition_met")).scalars().all()
    assert len(events) == 3
    assert "Auflagen Ihrer Prüfung" not in page_text(c["dpo"].get("/tasks/"))

    assert _start(c["coordinator"], p).status_code == 303
    assert db.session.get(Proposal, p.id).status == "running"


def test_conditions_only_with_a_passed_check_and_the_form_keeps_the_text(w):
    p, _staff, c = w
    r = _check(c["dpo"], p, outcome="failed", comment="Rechtsgrundlage fehlt.",
               conditions="Löschkonzept vorlegen")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Auflagen gibt es nur zu einer bestandenen Prüfung" in page_text(r)
    assert "Löschkonzept vorlegen</textarea>" in html and "Rechtsgrundlage fehlt." in html
    assert _conditions(p) == []


def test_a_new_result_of_the_check_replaces_its_conditions(w):
    p, _staff, c = w
    _check(c["dpo"], p, conditions="Löschkonzept vorlegen")
    (old,) = _conditions(p)
    assert _check(c["dpo"], p, seen_latest=str(old.check_id)).status_code == 303
    r = c["dpo"].post(f"/staff/review/proposals/{p.id}/conditions/{old.id}/met")
    assert "gehört zu einem früheren Ergebnis" in page_text(c["dpo"].get(r.location))
    assert db.session.get(CheckCondition, old.id).met_at is None


def test_english_check_page_names_the_conditions_field(w, login, new_client):
    p, staff, _c = w
    staff["dpo"].locale = "en"
    db.session.commit()
    page = page_text(login(staff["dpo"], new_client()).get(
        f"/staff/review/proposals/{p.id}/checks/data_protection"))
    assert "Conditions (optional)" in page
