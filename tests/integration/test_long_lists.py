"""Lists whose cost does not grow with the data: pages found by their keys, indexes the
queries can use, the inbox's open proposals by default, a bounded task count, and public
pilots that never load their organisation's members."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from innolab.domain import showcase, tasks
from innolab.extensions import db
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import page_text

pytestmark = pytest.mark.usefixtures("app_ctx")

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="EXPLAIN plans of PostgreSQL")


def _public(n: int, org=None):
    """`n` public pilots, published one minute apart (the newest last)."""
    org = org or f.organisation(owner=f.user())
    start = utcnow() - timedelta(days=1)
    return [f.proposal(org=org, status="running", title=f"Pilot {i:02d}",
                       publication_consent=True, published_at=start + timedelta(minutes=i))
            for i in range(n)]


class _Statements:
    def __init__(self):
        self.seen: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args):
        self.seen.append(" ".join(statement.split()))


# ---------------------------------------------------------------- pages by their keys


def test_every_page_holds_the_right_pilots_in_order_and_past_the_end_is_empty(client):
    pilots = _public(23)
    newest_first = [p.title for p in reversed(pilots)]
    seen = []
    for number in (1, 2, 3):
        page = showcase.search_pilots(page=number)
        assert page.total == 23 and page.pages == 3
        seen += [p.title for p in page.items]
    assert seen == newest_first
    assert showcase.search_pilots(page=4).items == []
    # the last page through the site, as a visitor sees it
    html = page_text(client.get("/pilots?page=3"))
    assert "Pilot 02" in html and "Pilot 00" in html and "Pilot 03" not in html


def test_the_api_pages_the_same_way(client):
    _public(12)
    body = client.get("/api/v1/pilots?per_page=5&page=3").get_json()
    assert body["total"] == 12 and body["pages"] == 3
    assert [item["title"] for item in body["items"]] == ["Pilot 01", "Pilot 00"]


def test_a_public_pilot_never_loads_its_organisations_members(client):
    owner = f.user(email="inhaberin@example.org")
    org = f.organisation(owner=owner, members=[f.user()])
    pilot = _public(1, org)[0]
    db.session.expire_all()
    for address in ("/", "/pilots", f"/pilots/{pilot.id}", f"/organisations/{org.slug}",
                    "/api/v1/pilots", "/feeds/pilots.atom"):
        with _Statements() as sql:
            response = client.get(address)
        assert response.status_code == 200, address
        assert "Pilot 00" in response.get_data(as_text=True), address
        assert not [s for s in sql.seen if "FROM memberships" in s], address
        assert not [s for s in sql.seen if "FROM user_roles" in s], address


# ---------------------------------------------------------------- the inbox


def test_the_inbox_lists_the_open_proposals_unless_asked_for_all(client, login):
    coordinator = f.staff("coordinator")
    org = f.organisation(owner=f.user())
    f.proposal(org=org, status="submitted", title="Eingereichte Idee")
    f.proposal(org=org, status="in_review", title="Begutachtete Idee")
    f.proposal(org=org, status="rejected", title="Abgelehnte Idee")
    f.proposal(org=org, status="draft", title="Entwurfsidee")
    login(coordinator)
    default = page_text(client.get("/staff/review/"))
    assert "Eingereichte Idee" in default and "Begutachtete Idee" in default
    assert "Abgelehnte Idee" not in default and "Entwurfsidee" not in default
    every = page_text(client.get("/staff/review/?status=all"))
    assert "Abgelehnte Idee" in every and "Eingereichte Idee" in every
    assert "Entwurfsidee" not in every
    assert "Abgelehnte Idee" in page_text(client.get("/staff/review/?status=rejected"))


def test_an_inbox_without_open_proposals_says_so_and_leads_to_all(client, login):
    f.proposal(org=f.organisation(owner=f.user()), status="approved", title="Bewilligte Idee")
    login(f.staff("coordinator"))
    response = client.get("/staff/review/")
    html = response.get_data(as_text=True)
    assert "Keine offenen Vorschläge" in page_text(response)
    assert 'href="/staff/review/?status=all"' in html
    assert "Bewilligte Idee" in page_text(client.get("/staff/review/?status=all"))


# ---------------------------------------------------------------- the task count


def test_past_the_limit_the_header_says_more_and_the_page_shows_the_most_urgent(
        client, login, monkeypatch):
    monkeypatch.setattr(tasks, "LIMIT", 3)
    coordinator = f.staff("coordinator")
    org = f.organisation(owner=f.user())
    for i in range(5):
        f.proposal(org=org, status="submitted", title=f"Wartende Idee {i}")
    login(coordinator)
    response = client.get("/tasks/")
    html = response.get_data(as_text=True)
    assert '<span aria-hidden="true">3+</span>' in html
    assert "mehr als 3 offen" in html
    shown = page_text(response)
    assert shown.count("Vorschlag sichten und Begutachtung starten") == 3
    assert "Es warten mehr als 3 Aufgaben auf Sie" in shown
    # at or under the limit: the exact number, no notice
    monkeypatch.setattr(tasks, "LIMIT", 5)
    html = client.get("/tasks/").get_data(as_text=True)
    assert '<span aria-hidden="true">5</span>' in html and "Es warten mehr als" not in html


# ---------------------------------------------------------------- the indexes


@postgres_only
@pytest.mark.parametrize("query", [
    lambda: showcase.pilots_query().limit(10),
    lambda: showcase.pilots_query(showcase.PilotFilter(status="running")).limit(10),
    showcase.pilot_authorities_query,
])
def test_the_public_lists_can_use_their_partial_indexes(query):
    """A partial index's predicate must match the query's as written (`IS true`): with
    sequential scans priced out and the other indexes of the table gone (dropped inside
    the transaction, which is rolled back; on a few rows the status index serves as well,
    as the statistics left by earlier tests decide), PostgreSQL picks one of the partial
    indexes of public pilots only if it may."""
    index = "ix_proposals_public_"
    pilots = _public(3)
    f.challenge()  # an authority with a public challenge
    pilots[0].challenge = f.challenge()
    db.session.commit()
    compiled = query().compile(db.engine, compile_kwargs={"literal_binds": True})
    others = db.session.execute(text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'proposals' "
        "AND indexdef NOT LIKE '%WHERE%' AND indexname LIKE 'ix_%'")).scalars().all()
    for other in others:
        db.session.execute(text(f'DROP INDEX "{other}"'))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    db.session.rollback()
    assert index in plan, plan
