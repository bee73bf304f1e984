"""Profile: where the Python time of the pages for signed-in people goes.

Run by hand: `.venv/bin/python bench/profile_pages.py` (SQLite) or
`BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> .venv/bin/python
bench/profile_pages.py`. It builds the data set of `bench/run.py` (its `build`, the same
BENCH_PROPOSALS), signs in as a coordinator, a reviewer and a partner, and for each page prints
the median and 95th percentile of REPEAT requests through the WSGI app (no network), the
median CPU time of the process (less swayed by other load on the machine), the SQL
statements per request and, with PROFILE_TOP > 0, the top of a pyinstrument profile of the
same requests (`PROFILE_TOP=0` for the table only). Nothing is asserted; the figures go into
docs/performance.md by hand.
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyinstrument import Profiler
from sqlalchemy import select

from bench.run import REPEAT, build, count_statements
from innolab import create_app
from innolab.config import _database_url
from innolab.domain import sessions
from innolab.extensions import db
from innolab.models import Membership, Proposal, ReviewAssignment, User

PROFILE_TOP = int(os.environ.get("PROFILE_TOP", "25"))


def sign_in(app):
    """Session tokens for the coordinator, a reviewer with assignments and a partner with
    proposals, and a proposal under review that the reviewer is assigned to."""
    with app.app_context():
        coordinator = db.session.execute(
            select(User).where(User.email == "k@bench.example")).scalar_one()
        proposal = db.session.execute(
            select(Proposal).where(Proposal.status == "in_review").order_by(Proposal.id)
            .limit(1)).scalar_one()
        reviewer = db.session.execute(
            select(User).join(ReviewAssignment, ReviewAssignment.reviewer_id == User.id)
            .where(ReviewAssignment.proposal_id == proposal.id).limit(1)).scalar_one()
        partner = db.session.execute(
            select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == proposal.organisation_id).limit(1)
        ).scalar_one()
        tokens = {who: sessions.open_session(u, "password")[0]
                  for who, u in (("coordinator", coordinator), ("reviewer", reviewer),
                                 ("partner", partner))}
        db.session.commit()
        return tokens, proposal.id


def pages(proposal_id):
    return [
        ("Eingang (Koordination)", "/staff/review/", "coordinator", {}),
        ("Eingang, Filter per htmx", "/staff/review/?status=in_review&sort=reference",
         "coordinator", {"HX-Request": "true"}),
        ("Vorschlag, Mitarbeitende (Koord.)", f"/staff/review/proposals/{proposal_id}",
         "coordinator", {}),
        ("Aufgaben (Koordination)", "/tasks/", "coordinator", {}),
        ("Meine Begutachtungen (Gutachter)", "/staff/review/mine", "reviewer", {}),
        ("Aufgaben (Gutachter)", "/tasks/", "reviewer", {}),
        ("Vorschlag, Mitarbeitende (Gutachter)", f"/staff/review/proposals/{proposal_id}",
         "reviewer", {}),
        ("Vorschläge (Partner)", "/proposals/", "partner", {}),
        ("Konto (Partner)", "/account", "partner", {}),
        ("Aufgaben (Partner)", "/tasks/", "partner", {}),
    ]


def measure(app, tokens, proposal_id):
    statements = count_statements(app)

    rows = []
    profiles = []
    for name, url, who, headers in pages(proposal_id):
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = tokens[who]
        first = client.get(url, headers=headers)  # warm up
        assert first.status_code == 200, (url, first.status_code)
        times, cpu = [], []
        statements["n"] = 0
        for _ in range(REPEAT):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        per_request = statements["n"] / REPEAT
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        rows.append((name, statistics.median(times), p95, statistics.median(cpu), per_request))
        if PROFILE_TOP:
            profiles.append((name, url, _profile(client, url, headers)))

    print(f"{'Seite':40} {'Median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'SQL/Anfrage':>12}")
    for name, median, p95, cpu_ms, per_request in rows:
        print(f"{name:40} {median:10.1f} {p95:8.1f} {cpu_ms:7.1f} {per_request:12.1f}")
    for name, url, text in profiles:
        print(f"\n=== {name} ({url}), {REPEAT} Anfragen ===")
        print(text)


def _profile(client, url, headers) -> str:
    """The project's own functions and templates by their cumulative time over REPEAT
    requests (a function's time counted once per stack, recursion not twice)."""
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(REPEAT):
        client.get(url, headers=headers)
    profiler.stop()
    root = profiler.last_session.root_frame()
    total = root.time or 1.0
    cumulative: dict[str, float] = {}

    def walk(frame, seen):
        key = f"{frame.function}  {frame.file_path_short}:{frame.line_no}"
        own = ("innolab" in (frame.file_path or "") or "templates" in (frame.file_path or ""))
        if own and key not in seen:
            cumulative[key] = cumulative.get(key, 0.0) + frame.time
            seen = seen | {key}
        for child in frame.children:
            walk(child, seen)

    walk(root, frozenset())
    lines = [f"{'ms/Anfrage':>10} {'Anteil':>7}  Funktion (kumuliert)"]
    for key, t in sorted(cumulative.items(), key=lambda kv: -kv[1])[:PROFILE_TOP]:
        lines.append(f"{t * 1000 / REPEAT:10.2f} {t / total:7.1%}  {key}")
    return "\n".join(lines)


def main():
    logging.getLogger("innolab.access").setLevel(logging.WARNING)  # one line per request
    url = os.environ.get("BENCH_DATABASE_URL")
    tmp = tempfile.mkdtemp()
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": _database_url(url) if url else f"sqlite:///{tmp}/bench.sqlite",
        "RATELIMIT_ENABLED": False, "UPLOAD_FOLDER": tmp, "SECRET_KEY": "bench",
        "MFA_ENFORCE_ENROLMENT": False,
    })
    print(f"{os.environ.get('BENCH_PROPOSALS', '2000')} Vorschläge, {REPEAT} Wiederholungen, "
          f"Datenbank: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    build(app)
    tokens, proposal_id = sign_in(app)
    measure(app, tokens, proposal_id)


if __name__ == "__main__":
    main()
