"""No silent lost update: two people edit the same record, the second save is refused with
what the first one changed, keeps what was typed and goes through once sent again.

Every record several people edit is covered: proposal drafts, organisation profiles, pilot
goals and milestones, results reports, challenges and page texts.
"""
from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Callable

import pytest
from flask import url_for
from sqlalchemy import event, select, text

from innolab.domain import editing, pages
from innolab.domain import organisations as orgs
from innolab.domain import admin as admin_domain, proposals as proposal_domain, workflow
from innolab.extensions import db
from innolab.models import (
    Challenge, EditSnapshot, Membership, Milestone, Organisation, PilotGoal, Proposal,
    ResultsReport, SitePage, User,
)
from tests import factories as f

A_TEXT = "Geaendert von Anna am Vormittag"
B_TEXT = "Eingabe von Bernd, die nicht verloren gehen darf"


def version_in(page: str) -> int:
    """The version the edit form carries (the hidden field rendered by form.hidden_tag())."""
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page)
    assert match, "the edit form carries no version"
    return int(match.group(1))


def notice_in(page: str) -> str:
    """The text of the conflict notice."""
    start = page.index('id="edit-conflict"')
    return html.unescape(page[start:page.index("</table>", start)])


@dataclass
class Editing:
    """One editable record: who edits it where, and the form as its edit page shows it."""

    a: User                       # the first person (saves first)
    b: User                       # the second person (saves with the old version)
    url: str
    form: dict                    # every field as the edit page prefills it
    stored: Callable[[], dict]    # the record's values read back from the database
    field_a: str                  # the field A changes
    field_b: str                  # the field B changes


def _fresh(model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id)


def _proposal_case() -> Editing:
    anna, bernd = f.user(name="Anna Ahrens"), f.user(name="Bernd Brandt")
    org = f.organisation(owner=anna, members=[bernd])
    p = f.proposal(org, status="draft", title="Digitale Wohngeldakte")
    c = f.COMPLETE
    form = {"title": p.title, "challenge_id": "", "public_summary": c["public_summary"],
            "problem": c["problem"], "solution": c["solution"], "benefit": c["benefit"],
            "trl": "6", "duration_months": "6", "cost_estimate": "45000", "personal_data": "no",
            "personal_data_details": "", "hosting_location": c["hosting_location"],
            "security_notes": c["security_notes"], "contact_name": c["contact_name"],
            "contact_email": c["contact_email"], "contact_phone": c["contact_phone"],
            "publication_consent": "y", "save": "draft"}
    return Editing(anna, bernd, url_for("proposals.edit", proposal_id=p.id), form,
                   lambda: vars_of(_fresh(Proposal, p.id), "problem", "solution"),
                   "problem", "solution")


def _organisation_case() -> Editing:
    anna, bernd = f.user(name="Anna Ahrens"), f.user(name="Bernd Brandt")
    org = f.organisation(owner=anna, name="Nordlicht Software GmbH")
    db.session.add(Membership(user=bernd, role="owner", organisation=org))
    db.session.commit()
    form = {"name": org.name, "kind": org.kind, "website": org.website, "city": org.city,
            "description": org.description}
    return Editing(anna, bernd, url_for("accounts.edit_organisation", org_id=org.id), form,
                   lambda: vars_of(_fresh(Organisation, org.id), "description", "city"),
                   "description", "city")


def _goal_case() -> Editing:
    anna = f.staff("coordinator", name="Anna Ahrens")
    bernd = f.user(name="Bernd Brandt")
    p = f.proposal(f.organisation(owner=bernd), status="approved")
    g = f.goal(p)
    form = {"title": g.title, "baseline": g.baseline, "target": g.target,
            "measurement": g.measurement}
    return Editing(anna, bernd, url_for("pilots.goal", proposal_id=p.id, goal_id=g.id), form,
                   lambda: vars_of(_fresh(PilotGoal, g.id), "measurement", "target"),
                   "measurement", "target")


def _milestone_case() -> Editing:
    anna = f.staff("coordinator", name="Anna Ahrens")
    bernd = f.user(name="Bernd Brandt")
    p = f.proposal(f.organisation(owner=bernd), status="running")
    m = Milestone(proposal=p, title="Schnittstelle angebunden",
                  due_date=date.today() + timedelta(days=20), description="Mit dem Fachverfahren")
    db.session.add(m)
    db.session.commit()
    form = {"action": "save", "title": m.title, "due_date": m.due_date.isoformat(),
            "description": m.description}
    return Editing(anna, bernd, url_for("pilots.milestone", proposal_id=p.id, milestone_id=m.id),
                   form, lambda: vars_of(_fresh(Milestone, m.id), "description", "title"),
                   "description", "title")


def _report_case() -> Editing:
    anna, bernd = f.user(name="Anna Ahrens"), f.user(name="Bernd Brandt")
    p = f.proposal(f.organisation(owner=anna, members=[bernd]), status="running")
    g = f.goal(p)
    report = ResultsReport(proposal=p, status="draft", summary="Der Pilot lief gut.",
                           what_worked="Die Vorprüfung.", lessons_learned="Früh anfangen.")
    db.session.add(report)
    db.session.commit()
    form = {"summary": report.summary, "what_worked": report.what_worked,
            "what_did_not_work": "", "lessons_learned": report.lessons_learned,
            "reuse_requirements": "", f"goal_{g.id}_value": "", f"goal_{g.id}_comment": "",
            "save": "draft"}
    return Editing(anna, bernd, url_for("results.edit", proposal_id=p.id), form,
                   lambda: vars_of(_fresh(ResultsReport, report.id), "summary",
                                   "lessons_learned"),
                   "summary", "lessons_learned")


def _challenge_case() -> Editing:
    anna = f.staff("coordinator", name="Anna Ahrens")
    bernd = f.staff("coordinator", name="Bernd Brandt")
    c = f.challenge(title="Bessere Terminvergabe")
    form = {"title": c.title, "summary": c.summary, "description": c.description,
            "authority": str(c.authority_id), "deadline": c.deadline.isoformat()}
    return Editing(anna, bernd, url_for("challenges.edit", challenge_id=c.id), form,
                   lambda: vars_of(_fresh(Challenge, c.id), "description", "summary"),
                   "description", "summary")


def _page_case() -> Editing:
    anna = f.staff("admin", name="Anna Ahrens")
    bernd = f.staff("admin", name="Bernd Brandt")
    page = SitePage(slug="kontakt", locale="de", title="Kontakt", body="Schreiben Sie uns.\n")
    db.session.add(page)
    db.session.commit()
    form = {"title": page.title, "body": page.body}
    return Editing(anna, bernd, url_for("admin.edit_page", slug="kontakt", locale="de"), form,
                   lambda: _page_values(page.id), "body", "title")


def _page_values(page_id):
    page = _fresh(SitePage, page_id)
    return {"body": page.body.strip(), "title": page.title}


def vars_of(record, *names) -> dict:
    return {name: getattr(record, name) for name in names}


CASES = {
    "proposal": _proposal_case,
    "organisation": _organisation_case,
    "goal": _goal_case,
    "milestone": _milestone_case,
    "report": _report_case,
    "challenge": _challenge_case,
    "page": _page_case,
}


@pytest.fixture(params=list(CASES))
def case(request, app_ctx) -> Editing:
    return CASES[request.param]()


@pytest.fixture
def two(app, login):
    """Two browsers: login(case) -> (client of A, client of B)."""

    def _two(case: Editing):
        return login(case.a, app.test_client()), login(case.b, app.test_client())

    return _two


def test_second_save_with_an_old_version_is_refused_and_shows_what_changed(case, two):
    anna, bernd = two(case)
    seen_a = version_in(anna.get(case.url).get_data(as_text=True))
    seen_b = version_in(bernd.get(case.url).get_data(as_text=True))
    assert seen_a == seen_b
    before = case.stored()

    saved = anna.post(case.url, data={**case.form, case.field_a: A_TEXT, "version": seen_a})
    assert saved.status_code == 303

    refused = bernd.post(case.url, data={**case.form, case.field_b: B_TEXT, "version": seen_b})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    notice = notice_in(page)
    assert 'role="alert"' in page[page.index('id="edit-conflict"') - 200:][:400]
    assert before[case.field_a] in notice and A_TEXT in notice  # old -> new
    # who changed it: by name, but staff are "InnoLab-Team" to a partner (Bernd without a role)
    staff_to_partner = case.a.is_staff and not case.b.is_staff
    assert ("InnoLab-Team" if staff_to_partner else "Anna Ahrens") in notice
    if staff_to_partner:
        assert "Anna Ahrens" not in notice
    assert B_TEXT in html.unescape(page)  # what Bernd typed is still in the form
    stored = case.stored()
    assert stored[case.field_a] == A_TEXT  # Anna's change is kept
    assert stored[case.field_b] == before[case.field_b]  # Bernd's is not saved yet

    # Bernd merges (keeps Anna's text, adds his) and saves from the conflict page
    current = version_in(page)
    assert current > seen_b
    again = bernd.post(case.url, data={**case.form, case.field_a: A_TEXT, case.field_b: B_TEXT,
                                       "version": current})
    assert again.status_code == 303
    assert case.stored() == {case.field_a: A_TEXT, case.field_b: B_TEXT}


def test_conflict_page_save_replaces_what_is_stored_deliberately(case, two):
    anna, bernd = two(case)
    seen = version_in(anna.get(case.url).get_data(as_text=True))
    assert anna.post(case.url, data={**case.form, case.field_a: A_TEXT,
                                     "version": seen}).status_code == 303
    refused = bernd.post(case.url, data={**case.form, case.field_b: B_TEXT, "version": seen})
    assert refused.status_code == 409
    # Bernd does not take over Anna's text: sending the form again is his deliberate choice
    again = bernd.post(case.url, data={**case.form, case.field_b: B_TEXT,
                                       "version": version_in(refused.get_data(as_text=True))})
    assert again.status_code == 303
    assert case.stored()[case.field_b] == B_TEXT


def test_same_values_sent_twice_with_an_old_version_is_no_conflict(case, two):
    anna, _bernd = two(case)
    seen = version_in(anna.get(case.url).get_data(as_text=True))
    data = {**case.form, case.field_a: A_TEXT, "version": seen}
    assert anna.post(case.url, data=data).status_code == 303
    version = version_in(anna.get(case.url).get_data(as_text=True))
    assert anna.post(case.url, data=data).status_code == 303  # the double click
    assert case.stored()[case.field_a] == A_TEXT
    assert version_in(anna.get(case.url).get_data(as_text=True)) == version


def test_save_after_a_change_of_other_things_goes_through(app_ctx, two):
    """Marking a milestone done raises its version but not what the form edits."""
    x = _milestone_case()
    anna, bernd = two(x)
    seen = version_in(bernd.get(x.url).get_data(as_text=True))
    assert anna.post(x.url, data={"action": "done"}).status_code == 303
    saved = bernd.post(x.url, data={**x.form, x.field_b: B_TEXT, "version": seen})
    assert saved.status_code == 303
    m = _fresh(Milestone, int(x.url.rsplit("/", 1)[1]))
    assert m.title == B_TEXT and m.done_at is not None


def test_two_members_starting_a_report_the_second_sees_the_first(app_ctx, two):
    anna, bernd = f.user(name="Anna Ahrens"), f.user(name="Bernd Brandt")
    p = f.proposal(f.organisation(owner=anna, members=[bernd]), status="running")
    x = Editing(anna, bernd, url_for("results.edit", proposal_id=p.id), {"save": "draft"},
                lambda: {}, "summary", "what_worked")
    a, b = two(x)
    seen_a = version_in(a.get(x.url).get_data(as_text=True))
    seen_b = version_in(b.get(x.url).get_data(as_text=True))
    assert seen_a == seen_b == 0  # there is no report yet
    assert a.post(x.url, data={"summary": A_TEXT, "save": "draft",
                               "version": seen_a}).status_code == 303
    refused = b.post(x.url, data={"what_worked": B_TEXT, "save": "draft", "version": seen_b})
    assert refused.status_code == 409
    assert A_TEXT in notice_in(refused.get_data(as_text=True))
    report = db.session.execute(select(ResultsReport).where(
        ResultsReport.proposal_id == p.id)).scalar_one()
    assert report.summary == A_TEXT and report.what_worked is None


def test_two_admins_changing_a_default_page_the_second_sees_the_first(app_ctx, two):
    x = Editing(f.staff("admin", name="Anna Ahrens"), f.staff("admin", name="Bernd Brandt"),
                url_for("admin.edit_page", slug="impressum", locale="de"), {}, lambda: {},
                "body", "title")
    a, b = two(x)
    seen = version_in(a.get(x.url).get_data(as_text=True))
    assert seen == 0  # the default text is shown
    assert a.post(x.url, data={"title": "Impressum", "body": A_TEXT,
                               "version": seen}).status_code == 303
    refused = b.post(x.url, data={"title": B_TEXT, "body": "Eigener Text", "version": seen})
    assert refused.status_code == 409
    notice = notice_in(refused.get_data(as_text=True))
    # the default text -> Anna's
    assert pages.IMPRESSUM_DE.splitlines()[0] in notice and A_TEXT in notice
    assert "Bernd Brandt" not in notice
    page = db.session.execute(select(SitePage).where(SitePage.slug == "impressum")).scalar_one()
    assert page.body.strip() == A_TEXT


def test_save_that_already_holds_the_other_change_goes_through(app_ctx, two):
    """Bernd's form has Anna's new text too (he typed the same): nothing of hers is undone."""
    x = _organisation_case()
    anna, bernd = two(x)
    seen = version_in(bernd.get(x.url).get_data(as_text=True))
    anna.post(x.url, data={**x.form, x.field_a: A_TEXT, "version": seen})
    saved = bernd.post(x.url, data={**x.form, x.field_a: A_TEXT, x.field_b: B_TEXT,
                                    "version": seen})
    assert saved.status_code == 303
    assert x.stored() == {x.field_a: A_TEXT, x.field_b: B_TEXT}


def test_a_form_without_version_is_saved_as_before(app_ctx, two):
    x = _organisation_case()
    anna, _ = two(x)
    assert anna.post(x.url, data={**x.form, x.field_a: A_TEXT}).status_code == 303
    assert x.stored()[x.field_a] == A_TEXT


def test_only_the_last_snapshots_are_kept_and_a_deleted_draft_leaves_none(app_ctx):
    anna = f.user()
    p = f.proposal(f.organisation(owner=anna), status="draft")
    for n in range(editing.KEEP + 5):
        proposal_domain.update_draft(p, anna, {"problem": f"Fassung {n}"},
                                     seen_version=p.lock_version)
        db.session.commit()
    rows = db.session.execute(select(EditSnapshot).where(
        EditSnapshot.kind == "proposals", EditSnapshot.record_id == p.id)).scalars().all()
    assert len(rows) == editing.KEEP
    assert max(r.version for r in rows) == p.lock_version
    proposal_domain.delete_draft(p, anna)
    db.session.commit()
    assert db.session.execute(select(EditSnapshot)).first() is None


# ---------------------------------------------------------------- a real race


def _race(app, org_id, users, texts):
    """Two sessions load the organisation at the same version and flush at the same moment."""
    barrier = threading.Barrier(len(users))
    outcome = {}

    def person(user_id, text):
        with app.test_request_context():  # each person's own request, session and connection
            org = db.session.get(Organisation, org_id)
            user = db.session.get(User, user_id)
            seen = org.lock_version
            barrier.wait(timeout=10)
            try:
                orgs.update(org, user, seen_version=seen, description=text)
                db.session.commit()
                outcome[user_id] = "saved"
            except editing.EditConflict as conflict:
                outcome[user_id] = conflict
            finally:
                db.session.remove()

    threads = [threading.Thread(target=person, args=(u, t))
               for u, t in zip(users, texts, strict=False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcome


@pytest.fixture
def race_world(app):
    """Runs on both databases: PostgreSQL holds the second UPDATE on the row lock, SQLite on
    the database lock, until the first commits; then its version no longer matches."""
    with app.app_context():
        anna, bernd = f.user(name="Anna Ahrens"), f.user(name="Bernd Brandt")
        org = f.organisation(owner=anna, members=[bernd])
        ids = org.id, anna.id, bernd.id
        db.session.remove()
    return ids


def test_two_saves_at_the_same_moment_one_wins_the_other_gets_the_conflict(app, race_world):
    org_id, anna, bernd = race_world
    outcome = _race(app, org_id, (anna, bernd), (A_TEXT, B_TEXT))
    assert sorted(type(v).__name__ for v in outcome.values()) == ["EditConflict", "str"]
    winner = next(u for u, v in outcome.items() if v == "saved")
    loser = outcome[bernd if winner == anna else anna]
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org.description == (A_TEXT if winner == anna else B_TEXT)  # no lost update
        assert [c.name for c in loser.changes] == ["description"]
        assert loser.version == org.lock_version
        db.session.remove()


def test_the_same_text_saved_twice_at_the_same_moment_is_no_conflict(app, race_world):
    org_id, anna, bernd = race_world
    outcome = _race(app, org_id, (anna, bernd), (A_TEXT, A_TEXT))
    assert list(outcome.values()) == ["saved", "saved"]
    with app.app_context():
        assert db.session.get(Organisation, org_id).description == A_TEXT
        db.session.remove()


def test_two_admins_creating_the_same_page_at_the_same_moment_lose_nothing(app):
    """Both start from the default text; the unique (slug, locale) lets only one INSERT win,
    the other is compared with the winner's text."""
    with app.app_context():
        users = [f.staff("admin", name="Anna Ahrens").id, f.staff("admin", name="Bernd Brandt").id]
        db.session.remove()
    barrier = threading.Barrier(2)
    waited = threading.local()
    outcome = {}

    def flush_together(session, flush_context, instances):
        if threading.current_thread().name.startswith("racer") and not getattr(waited, "x", 0):
            waited.x = 1
            barrier.wait(timeout=10)  # both have found no page and insert one now

    def person(user_id, body):
        with app.test_request_context():
            user = db.session.get(User, user_id)
            try:
                admin_domain.save_page(user, "kontakt", "de", "Kontakt", body, seen_version=0)
                db.session.commit()
                outcome[user_id] = "saved"
            except editing.EditConflict as conflict:
                outcome[user_id] = conflict
            finally:
                db.session.remove()

    event.listen(db.session, "before_flush", flush_together)
    try:
        threads = [threading.Thread(target=person, args=(u, t), name=f"racer-{u}")
                   for u, t in zip(users, (A_TEXT, B_TEXT), strict=False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        event.remove(db.session, "before_flush", flush_together)
    assert sorted(type(v).__name__ for v in outcome.values()) == ["EditConflict", "str"]
    conflict = next(v for v in outcome.values() if v != "saved")
    with app.app_context():
        page = db.session.execute(select(SitePage)).scalar_one()
        assert [c.name for c in conflict.changes] == ["body"]
        assert page.body.strip() in (A_TEXT, B_TEXT)
        db.session.remove()


def test_a_move_after_another_save_works_on_what_was_saved(app_ctx, login, client,
                                                          monkeypatch):
    """Another person saves the draft after this page was loaded, just before the move: the
    move locks the proposal and reads it afresh, so it hands in what is saved now, the other
    person's change included; nothing is lost and nothing fails."""
    anna = f.user(name="Anna Ahrens")
    p = f.proposal(f.organisation(owner=anna), status="draft")
    login(anna)
    real_lock = workflow.lock

    def someone_saves_first(*rows):
        with db.engine.begin() as conn:  # another person's transaction commits now
            conn.execute(text("UPDATE proposals SET lock_version = lock_version + 1, "
                              "problem = 'Neu' WHERE id = :id"), {"id": p.id})
        real_lock(*rows)

    monkeypatch.setattr(workflow, "lock", someone_saves_first)
    response = client.post(url_for("proposals.act", proposal_id=p.id),
                           data={"action": "submit", "confirmed": "1"})

    assert response.status_code == 303
    p = _fresh(Proposal, p.id)
    assert p.status == "submitted" and p.problem == "Neu" and p.reference is not None
    assert p.versions[-1].content["problem"] == "Neu"
