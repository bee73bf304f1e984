""""Meine Aufgaben": each role sees what is its turn through a whole review, with due dates and
overdue marks; a task is gone once done; sign-in lands there; the header counts the tasks."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from innolab.extensions import db
from innolab.models import Check, Review, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import page_text, sign_in

pytestmark = pytest.mark.usefixtures("app_ctx")


def _tasks(client) -> str:
    response = client.get("/tasks/")
    assert response.status_code == 200
    return page_text(response)


def _count_in_header(client, address="/tasks/") -> int | None:
    html = client.get(address).get_data(as_text=True)
    found = re.search(r"Meine Aufgaben <span class=\"kern-badge[^>]*><span[^>]*>"
                      r"<span aria-hidden=\"true\">(\d+)</span>", html)
    return int(found.group(1)) if found else None


@pytest.fixture
def people():
    owner = f.user(email="olga@example.org")
    return {
        "owner": owner,
        "org": f.organisation(owner=owner, name="Nordlicht GmbH"),
        "coordinator": f.staff("coordinator", email="koordination@zdmv.example"),
        "reviewer": f.staff("reviewer", email="gutachten@zdmv.example"),
        "dpo": f.staff("dpo", email="dsb@zdmv.example"),
        "iso": f.staff("iso", email="isb@zdmv.example"),
        "decider": f.staff("decider", email="entscheidung@zdmv.example"),
    }


def test_each_role_sees_its_turn_through_a_whole_review(people, client, new_client, login):
    c = {who: login(people[who], new_client()) for who in
         ("owner", "coordinator", "reviewer", "dpo", "iso", "decider")}
    p = f.proposal(org=people["org"], status="draft", title="Digitale Bauakte",
                   personal_data=True)
    assert "Entwurf fertigstellen und einreichen" in _tasks(c["owner"])
    assert "Digitale Bauakte" not in _tasks(c["coordinator"])

    p.status = "submitted"
    db.session.commit()
    assert "Entwurf fertigstellen" not in _tasks(c["owner"])
    text = _tasks(c["coordinator"])
    assert "Vorschlag sichten und Begutachtung starten" in text and "Digitale Bauakte" in text
    # the guard says what is missing first
    assert "Zuerst: Weisen Sie zuerst mindestens eine Gutachterin" in text
    for who in ("reviewer", "dpo", "iso", "decider"):
        assert "Digitale Bauakte" not in _tasks(c[who]), who

    due = date.today() - timedelta(days=1)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=people["reviewer"].id,
                                    due_date=due))
    p.status = "in_review"
    db.session.commit()
    assert "Digitale Bauakte" not in _tasks(c["coordinator"])
    text = _tasks(c["reviewer"])
    assert "Gutachten schreiben" in text and "überfällig" in text
    assert f"Fällig am {due.day:02d}.{due.month:02d}.{due.year}" in text
    assert "Datenschutzprüfung vornehmen" in _tasks(c["dpo"])
    assert "Prüfung der Informationssicherheit vornehmen" in _tasks(c["iso"])
    assert "Digitale Bauakte" not in _tasks(c["decider"])  # not ready yet

    db.session.add(Review(proposal_id=p.id, reviewer_id=people["reviewer"].id, innovation=4,
                          benefit=4, feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", submitted_at=utcnow()))
    db.session.add(Check(proposal_id=p.id, kind="information_security",
                         officer_id=people["iso"].id, outcome="passed"))
    db.session.commit()
    assert "Digitale Bauakte" not in _tasks(c["reviewer"])
    assert "Digitale Bauakte" not in _tasks(c["iso"])
    assert "Digitale Bauakte" not in _tasks(c["decider"])  # the data protection check is open

    db.session.add(Check(proposal_id=p.id, kind="data_protection", officer_id=people["dpo"].id,
                         outcome="passed", dpia="not_needed", processing_agreement="not_needed"))
    db.session.commit()
    assert "Digitale Bauakte" not in _tasks(c["dpo"])
    assert "Entscheiden: bereit zur Entscheidung" in _tasks(c["decider"])

    p.status, p.decided_at = "approved", utcnow()
    db.session.commit()
    assert "Digitale Bauakte" not in _tasks(c["decider"])
    text = _tasks(c["coordinator"])
    assert "Ziele vereinbaren und Pilot starten" in text and "messbares Ziel" in text

    f.goal(p)
    p.status = "running"
    db.session.commit()
    assert "Ergebnisbericht schreiben" in _tasks(c["owner"])
    assert "Digitale Bauakte" not in _tasks(c["coordinator"])
    f.results_report(p, status="submitted")
    assert "Ergebnisbericht schreiben" not in _tasks(c["owner"])
    assert "Ergebnisbericht prüfen und annehmen" in _tasks(c["coordinator"])


def test_changes_requested_is_the_partners_task(people, client, login):
    f.proposal(org=people["org"], status="changes_requested", title="Smarte Parkplätze")
    login(people["owner"])
    text = _tasks(client)
    assert "Nachbesserung vornehmen und erneut einreichen" in text and "Smarte Parkplätze" in text


def test_staff_with_a_conflict_of_interest_get_no_task_of_it(people, client, login):
    reviewer = people["reviewer"]
    f.organisation(owner=f.user(), members=[reviewer], name="Nordlicht GmbH Zweig")
    p = f.proposal(org=f.organisation(owner=f.user(), members=[reviewer]), status="in_review",
                   title="Befangener Vorschlag")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.commit()
    login(reviewer)
    assert "Befangener Vorschlag" not in _tasks(client)


def test_overdue_tasks_come_first_and_the_header_counts_them(people, client, login):
    reviewer = people["reviewer"]
    later = f.proposal(org=people["org"], status="in_review", title="Später fällig")
    overdue = f.proposal(org=people["org"], status="in_review", title="Überfällig seit gestern")
    db.session.add_all([
        ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                         proposal_id=later.id, reviewer_id=reviewer.id,
                         due_date=date.today() + timedelta(days=9)),
        ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                         proposal_id=overdue.id, reviewer_id=reviewer.id,
                         due_date=date.today() - timedelta(days=1)),
    ])
    db.session.commit()
    login(reviewer)
    text = _tasks(client)
    assert text.index("Überfällig seit gestern") < text.index("Später fällig")
    assert "2 Aufgaben warten auf Sie" in text
    assert _count_in_header(client) == 2


def test_nothing_to_do_says_so(client, login):
    login(f.user())
    text = _tasks(client)
    assert "Zurzeit wartet nichts auf Sie." in text
    assert _count_in_header(client) is None


def test_the_task_page_needs_a_sign_in(client):
    response = client.get("/tasks/")
    assert response.status_code == 302 and "/login" in response.location


def test_sign_in_lands_on_the_task_page_unless_a_page_was_asked_for(client):
    f.user(email="tina@example.org")
    response = sign_in(client, "tina@example.org", f.PASSWORD)
    assert response.status_code == 303 and response.location == "/tasks/"
    client.post("/logout")
    response = client.post("/login?next=/proposals/", data={
        "email": "tina@example.org", "password": f.PASSWORD, "next": "/proposals/"})
    assert response.status_code == 303 and response.location == "/proposals/"


def test_english_task_page(people, client, login):
    f.proposal(org=people["org"], status="changes_requested", title="Smarte Parkplätze")
    people["owner"].locale = "en"
    db.session.commit()
    login(people["owner"])
    text = _tasks(client)
    assert "My tasks" in text and "Make the requested changes and resubmit" in text


# Another process changes the data: the same app, started anew, on the same database.
_ELSEWHERE = textwrap.dedent("""
    import sys, tempfile
    from innolab import create_app
    from innolab.extensions import db
    from innolab.models import Proposal
    app = create_app({"SECRET_KEY": "test-secret-key-not-for-production", "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": sys.argv[1], "UPLOAD_FOLDER": tempfile.mkdtemp(),
                      "RATELIMIT_ENABLED": False, "SMTP_HOST": ""})
    with app.app_context():
        db.session.get(Proposal, int(sys.argv[2])).status = "submitted"
        db.session.commit()
""")


def test_the_header_count_follows_a_change_in_another_process(app, people, client, login):
    """The header's count is kept while nothing changes; a change committed by another
    process (another gunicorn worker) shows on the next page all the same."""
    f.proposal(org=people["org"], status="submitted", title="Erster Vorschlag")
    waiting = f.proposal(org=people["org"], status="draft", title="Noch ein Entwurf")
    login(people["coordinator"])
    assert _count_in_header(client, "/proposals/") == 1
    assert _count_in_header(client, "/proposals/") == 1  # now from what was kept

    subprocess.run([sys.executable, "-c", _ELSEWHERE, app.config["SQLALCHEMY_DATABASE_URI"],
                    str(waiting.id)], check=True, cwd=Path(__file__).resolve().parents[2],
                   timeout=120)
    assert _count_in_header(client, "/proposals/") == 2

    f.proposal(org=people["org"], status="submitted", title="Aus diesem Prozess")
    assert _count_in_header(client, "/proposals/") == 3


def test_the_kept_count_spares_the_work_while_nothing_changes(people, client, login):
    for i in range(3):
        f.proposal(org=people["org"], status="submitted", title=f"Vorschlag {i}")
    login(people["coordinator"])
    asked: list[str] = []

    def record(conn, cursor, statement, *args):
        asked.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert _count_in_header(client, "/proposals/") == 3
        first = [s for s in asked if "FROM proposals" in s]
        asked.clear()
        assert _count_in_header(client, "/proposals/") == 3
        again = [s for s in asked if "FROM proposals" in s]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(again) < len(first)
    assert not any("proposals.status IN" in s for s in again)  # no candidate looked for
