"""Benchmark: how fast the busiest pages answer with a realistic amount of data.

Run by hand: `make bench-inprocess` (SQLite) or `BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db>
make bench-inprocess`. It builds its own database (N proposals spread over every status, published
pilots, challenges), then requests each page REPEAT times through the WSGI app (no network)
and prints the median and 95th percentile per page and the number of SQL statements per
request. The figures go into docs/performance.md by hand; nothing here is asserted.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event

from innolab import create_app
from innolab.config import _database_url
from innolab.domain import sessions
from innolab.extensions import db
from innolab.models import (
    Authority, Challenge, Membership, Organisation, Proposal, ReviewAssignment, Role, Topic, User,
    UserRole,
)
from innolab.models._base import utcnow

N_PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
STATUSES = ["submitted", "in_review", "changes_requested", "approved", "rejected", "withdrawn",
            "running"]


def build(app):
    rnd = random.Random(7)
    with app.app_context():
        db.drop_all()
        db.create_all()
        authorities = [Authority(name=f"Landesamt {i}") for i in range(15)]
        topics = [Topic(slug=f"t{i}", name_de=f"Thema {i}", name_en=f"Topic {i}")
                  for i in range(10)]
        db.session.add_all(authorities + topics)
        challenges = []
        for i in range(60):
            c = Challenge(title=f"Herausforderung {i}", summary="Kurz", description="Lang",
                          authority=rnd.choice(authorities), status="published",
                          deadline=date.today() + timedelta(days=rnd.randint(-30, 90)),
                          published_at=utcnow())
            c.topics = rnd.sample(topics, 2)
            challenges.append(c)
        db.session.add_all(challenges)
        coordinator = User(email="k@bench.example", name="Koordination")
        coordinator.role_rows.append(UserRole(role=Role.COORDINATOR.value))
        reviewers = []
        for i in range(20):
            r = User(email=f"r{i}@bench.example", name=f"Gutachter {i}")
            r.role_rows.append(UserRole(role=Role.REVIEWER.value))
            reviewers.append(r)
        db.session.add_all([coordinator] + reviewers)
        orgs = []
        for i in range(200):
            owner = User(email=f"p{i}@bench.example", name=f"Partner {i}")
            org = Organisation(name=f"Firma {i} GmbH", slug=f"firma-{i}", kind="startup")
            org.memberships.append(Membership(user=owner, role="owner"))
            orgs.append(org)
        db.session.add_all(orgs)
        db.session.flush()
        for i in range(N_PROPOSALS):
            status = rnd.choice(STATUSES)
            p = Proposal(organisation=rnd.choice(orgs), challenge=rnd.choice(challenges + [None]),
                         title=f"Pilotvorschlag {i}", public_summary="Öffentliche Kurzbeschreibung",
                         status=status, reference=f"IL-2026-{i + 1:04d}", submitted_at=utcnow(),
                         publication_consent=True, version=1)
            p.topics = rnd.sample(topics, 2)
            if status in ("approved", "running"):
                p.published_at = utcnow()
            # confirmed free of conflicts, as a reviewer does before the proposal opens
            p.assignments = [ReviewAssignment(reviewer=r, no_conflict_confirmed_at=utcnow())
                             for r in rnd.sample(reviewers, 2)]
            db.session.add(p)
        db.session.commit()
        token, _row = sessions.open_session(coordinator, "password")  # signed in, as a cookie
        db.session.commit()
        return token, db.session.query(Proposal).first().id


def measure(app, token, proposal_id):
    pages = [
        ("Startseite", "/", None, {}),
        ("Piloten (Schaufenster)", "/pilots", None, {}),
        ("Piloten, Suche per htmx", "/pilots?q=Pilotvorschlag+1&status=running", None,
         {"HX-Request": "true"}),
        ("Herausforderungen", "/challenges", None, {}),
        ("API: Piloten, 100 je Seite", "/api/v1/pilots?per_page=100", None, {}),
        ("Atom-Feed der Piloten", "/feeds/pilots.atom", None, {}),
        ("Eingang (Koordination)", "/staff/review/", token, {}),
        ("Eingang, Filter per htmx", "/staff/review/?status=in_review&sort=reference", token,
         {"HX-Request": "true"}),
        ("Vorschlag, Ansicht für Mitarbeitende", f"/staff/review/proposals/{proposal_id}", token,
         {}),
    ]
    statements = count_statements(app)

    print(f"{'Seite':42} {'Median ms':>10} {'p95 ms':>8} {'SQL/Anfrage':>12}")
    for name, url, tok, headers in pages:
        client = app.test_client()
        if tok:
            with client.session_transaction() as s:
                s["_user_id"] = tok
        client.get(url, headers=headers)  # warm up
        times = []
        statements["n"] = 0
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        per_request = statements["n"] / REPEAT
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{name:42} {statistics.median(times):10.1f} {p95:8.1f} {per_request:12.1f}")


def count_statements(app) -> dict:
    """A counter {"n": …} of the SQL statements `app`'s engine sends from now on."""
    statements = {"n": 0}
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*args):
        statements["n"] += 1

    return statements


def main():
    url = os.environ.get("BENCH_DATABASE_URL")
    tmp = tempfile.mkdtemp()
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": _database_url(url) if url else f"sqlite:///{tmp}/bench.sqlite",
        "RATELIMIT_ENABLED": False, "UPLOAD_FOLDER": tmp, "SECRET_KEY": "bench",
    })
    print(f"{N_PROPOSALS} Vorschläge, {REPEAT} Wiederholungen, Datenbank: "
          f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    token, proposal_id = build(app)
    measure(app, token, proposal_id)


if __name__ == "__main__":
    main()
