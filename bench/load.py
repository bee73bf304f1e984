"""Load benchmark: each page under 16 connections through real gunicorn, beside a bare Flask page.

Run by hand (`make bench`); nothing here is asserted. Needs PostgreSQL and wrk.

- Builds each size once in its own database (`bench_s`, `bench_m`, `bench_l`; BENCH_REBUILD=1
  builds anew): S = 1,000 published pilots of 2,000 proposals, 200 organisations, 60
  challenges; M = 10,000 published pilots of 20,000, 2,000 organisations, 200 challenges;
  L = 100,000 proposals over every status, 10,000 of them published, 2,000 organisations,
  200 challenges. The schema comes from the migrations; the rows are inserted with SQL
  (generate_series), the search documents filled by the search migration.
- Serves the size with gunicorn (2 sync workers, production settings, rate limits and load
  shedding off) and, in the same run, the bare Flask + Jinja page of bench/bare_app.py the
  same way; with BENCH_BEFORE=<a checkout of an earlier commit, set up with `make setup`>
  also that code, against a copy of the database without the indexes added since.
- Drives every page with wrk (16 connections, BENCH_DURATION seconds, BENCH_ROUNDS rounds,
  interleaved: each round asks every page of every server once, so the machine's noise falls
  on all alike) and prints, per page and server, requests per second, p50/p99 and the share
  of the bare page's requests per second, then the database time per request of this
  checkout (in-process, the mean of BENCH_REPEAT requests). States the load average. With
  more than one size, a last table compares each page's requests per second at every size
  with S's. BENCH_WRITE=1 also writes the tables into docs/performance.md, between the
  markers `<!-- bench:figures -->` and `<!-- /bench:figures -->`.

    BENCH_SIZES=S,L BENCH_DURATION=10 BENCH_ROUNDS=2 .venv/bin/python bench/load.py
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from innolab import create_app  # noqa: E402
from innolab.domain import sessions  # noqa: E402
from innolab.extensions import db  # noqa: E402
from innolab.models import User, UserRole  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
CONNECTIONS = 16

SIZES = {  # proposals, every n-th published, organisations, challenges
    "S": (2_000, 2, 200, 60),
    "M": (20_000, 2, 2_000, 200),
    "L": (100_000, 10, 2_000, 200),
}
# The indexes added for the long lists and the search: dropped in the "before" copy.
NEW_INDEXES = ("ix_proposals_public_order", "ix_proposals_public_challenge",
               "ix_proposals_submitted_at", "ix_proposals_title", "ix_proposal_topics_topic",
               "ix_proposals_search_vector")
STATUSES = ("draft", "submitted", "in_review", "changes_requested", "rejected", "withdrawn",
            "cancelled", "submitted", "draft")
SECRET = secrets.token_urlsafe(48)  # a strong key, as production demands


# ---------------------------------------------------------------- the data


def _flask(db_url: str, *args: str, cwd: Path = ROOT) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "INNOLAB_ENV": "development"}
    subprocess.run([str(cwd / ".venv/bin/flask"), "--app", "wsgi", *args], cwd=cwd, env=env,
                   check=True, stdout=subprocess.DEVNULL)


def build(size: str) -> str:
    name = f"bench_{size.lower()}"
    url = f"{PG}/{name}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists and not os.environ.get("BENCH_REBUILD"):
        with psycopg.connect(url) as conn:  # built to the end (a marker table)?
            if conn.execute("SELECT to_regclass('bench_built')").fetchone()[0]:
                return url
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    n, every, orgs, challenges = SIZES[size]
    print(f"building {size}: {n} proposals …", flush=True)
    _flask(url, "db", "upgrade", "b8d2f4a6c913")  # the schema before the search documents
    with psycopg.connect(url, autocommit=True) as conn:
        statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
        for sql in (
            "INSERT INTO authorities(name) SELECT 'Landesamt ' || g FROM generate_series(1, 20) g",
            "INSERT INTO topics(slug, name_de, name_en) SELECT 't' || g, 'Thema ' || g, "
            "'Topic ' || g FROM generate_series(1, 12) g",
            f"INSERT INTO users(email, name, locale, active, created_at) SELECT 'u' || g || "
            f"'@bench.example', 'Person ' || g, 'de', true, now() "
            f"FROM generate_series(1, {orgs + 100}) g",
            f"INSERT INTO user_roles(user_id, role, granted_at, source) SELECT g, 'reviewer', "
            f"now(), 'admin' FROM generate_series({orgs + 1}, {orgs + 100}) g",
            f"INSERT INTO user_roles(user_id, role, granted_at, source) "
            f"VALUES ({orgs + 100}, 'coordinator', now(), 'admin')",
            f"INSERT INTO organisations(name, slug, kind, created_at) SELECT 'Firma ' || g || "
            f"' GmbH', 'firma-' || g, 'startup', now() FROM generate_series(1, {orgs}) g",
            f"INSERT INTO memberships(organisation_id, user_id, role, created_at) "
            f"SELECT g, g, 'owner', now() FROM generate_series(1, {orgs}) g",
            f"INSERT INTO challenges(title, summary, description, authority_id, deadline, "
            f"status, created_at, published_at) SELECT 'Herausforderung ' || g, 'Kurz', 'Lang', "
            f"1 + g % 20, current_date + (g % 120) - 30, 'published', now(), "
            f"now() - (g || ' days')::interval FROM generate_series(1, {challenges}) g",
            f"INSERT INTO challenge_topics SELECT g, 1 + g % 12 "
            f"FROM generate_series(1, {challenges}) g",
            # every `every`-th proposal a public pilot (approved, running or completed); the
            # rest spread over the other statuses; long problem and solution texts
            f"INSERT INTO proposals(organisation_id, challenge_id, status, title, public_summary, "
            f"problem, solution, personal_data, publication_consent, version, created_at, "
            f"updated_at, submitted_at, reference, published_at) "
            f"SELECT 1 + g % {orgs}, CASE WHEN (g / {every}) % 5 = 0 THEN NULL "
            f"ELSE 1 + (g / {every}) % {challenges} END, "
            f"CASE WHEN g % {every} = 0 THEN (ARRAY['approved','running','completed'])"
            f"[1 + (g / {every}) % 3] ELSE ({statuses})[1 + g % 9] END, "
            f"'Pilotvorschlag ' || g || CASE WHEN g % 7 = 0 THEN ' Verwaltung digital' "
            f"ELSE ' Bürgerdienst' END, 'Öffentliche Kurzbeschreibung ' || g, "
            f"repeat('Problem ', 200), repeat('Lösung ', 200), false, true, 1, now(), now(), "
            f"now() - (g || ' minutes')::interval, 'IL-' || g, "
            f"CASE WHEN g % {every} = 0 THEN now() - (g || ' minutes')::interval END "
            f"FROM generate_series(1, {n}) g",
            "INSERT INTO proposal_topics SELECT id, 1 + id % 12 FROM proposals",
            "INSERT INTO proposal_topics SELECT id, 1 + (id + 5) % 12 FROM proposals",
            f"INSERT INTO review_assignments(proposal_id, reviewer_id, created_at) "
            f"SELECT id, {orgs + 1} + id % 100, now() FROM proposals WHERE status = 'in_review'",
            f"INSERT INTO reviews(proposal_id, reviewer_id, created_at, updated_at, submitted_at) "
            f"SELECT id, {orgs + 1} + id % 100, now(), now(), now() FROM proposals "
            f"WHERE status = 'in_review'",
        ):
            conn.execute(sql)
    _flask(url, "db", "upgrade")  # the search documents of every row
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CREATE TABLE bench_built (size text)")
    return url


def before_copy(url: str) -> str:
    name = url.rsplit("/", 1)[1] + "_before"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
    with psycopg.connect(f"{PG}/{name}", autocommit=True) as conn:
        for index in NEW_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        conn.execute("VACUUM ANALYZE")
    return f"{PG}/{name}"


# ---------------------------------------------------------------- the servers


class Server:
    def __init__(self, name: str, cwd: Path, app: str, port: int, db_url: str | None,
                 extra: dict[str, str] | None = None):
        """`app` served by gunicorn from the checkout `cwd` (its venv and gunicorn.conf.py;
        bench/ of this checkout on the path for the bare page and bench_wsgi)."""
        self.name, self.port = name, port
        env = {**os.environ, "INNOLAB_ENV": "production", "SECRET_KEY": SECRET,
               "BASE_URL": "https://innolab.bench.example", "TRUSTED_HOSTS": "127.0.0.1",
               "SESSION_COOKIE_SECURE": "false", "RATELIMIT_ENABLED": "false",
               "MAX_CONCURRENT_REQUESTS": "0", "LOG_LEVEL": "WARNING",
               "UPLOAD_FOLDER": tempfile.mkdtemp(),
               "PYTHONPATH": f"{cwd}{os.pathsep}{ROOT / 'bench'}"}
        if db_url:
            env["DATABASE_URL"] = db_url
        env.update(extra or {})
        self.process = subprocess.Popen(
            [str(cwd / ".venv/bin/gunicorn"), "-c", str(cwd / "gunicorn.conf.py"),
             "--worker-class", "sync", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--access-logfile", "/dev/null", "--error-logfile", "-", "--log-level", "warning",
             app], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start on port {port}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker still busy with a slow page
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def staff_cookie(cwd: Path, db_url: str) -> str:
    """A signed-in coordinator's session cookie (with a second factor, as after sign-in)."""
    script = (
        "import os, sys\n"
        "from sqlalchemy import select\n"
        "from innolab import create_app\n"
        "from innolab.extensions import db\n"
        "from innolab.domain import sessions\n"
        "from innolab.models import User, UserRole\n"
        "app = create_app({'MFA_ENFORCE_ENROLMENT': False})\n"
        "with app.app_context():\n"
        "    u = db.session.execute(select(User).join(UserRole).where(UserRole.role == "
        "'coordinator')).scalars().first()\n"
        "    token, _ = sessions.open_session(u, 'password', second_factor=True)\n"
        "    db.session.commit()\n"
        "    value = app.session_interface.get_signing_serializer(app).dumps(\n"
        "        {'_user_id': token, '_fresh': True, 'innolab_second_factor': True,\n"
        "         'innolab_method': 'password'})\n"
        "    print(app.config['SESSION_COOKIE_NAME'] + '=' + value)\n")
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": SECRET, "INNOLAB_ENV": "production",
           "BASE_URL": "https://innolab.bench.example", "TRUSTED_HOSTS": "127.0.0.1",
           "SESSION_COOKIE_SECURE": "false", "UPLOAD_FOLDER": tempfile.mkdtemp(),
           "PYTHONPATH": str(cwd)}
    out = subprocess.run([str(cwd / ".venv/bin/python"), "-c", script], cwd=cwd, env=env,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- the load


def wrk(url: str, cookie: str | None = None) -> dict:
    # a slow page is waited for (up to 30 s) and counted, not dropped as a timeout
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "30s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": ms("50"), "p99": ms("99"),
            "bad": (int(bad.group(1)) if bad else 0)
            + (int(timeouts.group(1)) if timeouts else 0)}


def pages(db_url: str) -> list[tuple[str, str, bool]]:
    """(name, address, as staff) of the pages measured."""
    with psycopg.connect(db_url) as conn:
        pilot = conn.execute("SELECT id FROM proposals WHERE published_at IS NOT NULL "
                             "ORDER BY id LIMIT 1").fetchone()[0]
        published = conn.execute("SELECT count(*) FROM proposals WHERE published_at IS NOT "
                                 "NULL").fetchone()[0]
    last = max(1, -(-published // 10))
    return [
        ("home", "/", False), ("/pilots", "/pilots", False),
        ("/pilots?q=Verwaltung", "/pilots?q=Verwaltung", False),
        ("/pilots?page=last", f"/pilots?page={last}", False),
        ("pilot detail", f"/pilots/{pilot}", False), ("/challenges", "/challenges", False),
        ("/api/v1/pilots", "/api/v1/pilots", False),
        ("/feeds/pilots.atom", "/feeds/pilots.atom", False),
        ("staff inbox", "/staff/review/", True),
    ]


def db_time(db_url: str, addresses: list[tuple[str, str, bool]]) -> dict[str, tuple[float, float]]:
    """Per page: mean database ms and statements per request, in this process (this code)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace("postgresql://",
                                                                "postgresql+psycopg://"),
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": SECRET,
                      "UPLOAD_FOLDER": tempfile.mkdtemp(), "PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        user = db.session.execute(select(User).join(UserRole).where(
            UserRole.role == "coordinator")).scalars().first()
        token, _ = sessions.open_session(user, "password", second_factor=True)
        db.session.commit()
        engine = db.engine
    clock = {"ms": 0.0, "n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, *args):
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, *args):
        clock["ms"] += (time.perf_counter() - conn.info["bench_t0"]) * 1000
        clock["n"] += 1

    result = {}
    for name, address, staff in addresses:
        client = app.test_client()
        if staff:
            with client.session_transaction() as s:
                s.update({"_user_id": token, "_fresh": True, "innolab_second_factor": True})
        client.get(address)
        clock.update(ms=0.0, n=0)
        for _ in range(REPEAT):
            client.get(address)
        result[name] = (clock["ms"] / REPEAT, clock["n"] / REPEAT)
    return result


def write_docs(text: str) -> None:
    """Put `text` between the figure markers of docs/performance.md."""
    doc = ROOT / "docs" / "performance.md"
    start, end = "<!-- bench:figures -->", "<!-- /bench:figures -->"
    content = doc.read_text()
    if start not in content or end not in content:
        sys.exit(f"{doc} lacks the markers {start} … {end}")
    head, rest = content.split(start, 1)
    doc.write_text(f"{head}{start}\n{text.strip()}\n{end}{rest.split(end, 1)[1]}")


def main() -> None:
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    if not shutil.which("wrk"):
        sys.exit("wrk is missing (Debian: apt-get install wrk)")
    before = Path(os.environ["BENCH_BEFORE"]).resolve() if os.environ.get("BENCH_BEFORE") else None
    sizes = [s.strip().upper() for s in os.environ.get("BENCH_SIZES", "S,M,L").split(",")]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    say(f"Commit {commit}; {CONNECTIONS} connections, {DURATION} s x {ROUNDS} rounds; "
        f"load average before the run: {os.getloadavg()[0]:.2f}.")
    # requests per second of this code (with and without the page cache) by page and size
    now_rps: dict[tuple[str, str], dict[str, float]] = {}
    for size in sizes:
        url = build(size)
        servers = [("bare", ROOT, "bare_app:app", None, {})]
        servers.append(("now", ROOT, "bench_wsgi:app", url, {}))
        # this code without the page cache: what each page costs when it is made anew
        servers.append(("uncached", ROOT, "bench_wsgi:app", url, {"PAGE_CACHE_SECONDS": "0"}))
        if before:
            servers.append(("before", before, "bench_wsgi:app", before_copy(url), {}))
        running = [Server(name, cwd, app, 8700 + i, db, extra) for i, (name, cwd, app, db, extra)
                   in enumerate(servers)]
        try:
            cookies = {s.name: staff_cookie(cwd, db) for s, (_, cwd, _, db, _)
                       in zip(running, servers, strict=True) if db}
            measured = pages(url)
            for server in running[1:]:  # the staff page must answer as a signed-in page
                request = urllib.request.Request(f"http://127.0.0.1:{server.port}/staff/review/",
                                                 headers={"Cookie": cookies[server.name]})
                with urllib.request.urlopen(request, timeout=60) as answer:
                    if "/staff/review/" not in answer.url or answer.status != 200:
                        raise RuntimeError(f"{server.name}: the staff cookie was refused")
            results: dict[tuple[str, str], list[dict]] = {}
            for _ in range(ROUNDS):
                results.setdefault(("bare", "bare"), []).append(
                    wrk(f"http://127.0.0.1:{running[0].port}/"))
                for name, address, staff in measured:
                    for server in running[1:]:
                        results.setdefault((server.name, name), []).append(
                            wrk(f"http://127.0.0.1:{server.port}{address}",
                                cookies[server.name] if staff else None))
        finally:
            for server in running:
                server.stop()
        bare = statistics.median(r["rps"] for r in results[("bare", "bare")])
        times = db_time(url, measured)
        say(f"\n#### {size}: {SIZES[size][0]:,} proposals\n")
        say(f"Bare Flask + Jinja page: {bare:.0f} requests/s; load average "
            f"{os.getloadavg()[0]:.2f}.\n")
        head = "| page |" + "".join(f" {s.name} req/s | {s.name} p50/p99 ms | {s.name} share |"
                                    for s in running[1:]) + " DB ms/request now | statements |"
        say(head)
        say("|" + " --- |" * (head.count("|") - 1))
        for name, _address, _staff in measured:
            cells = []
            for server in running[1:]:
                rs = results[(server.name, name)]
                rps = statistics.median(r["rps"] for r in rs)
                if server.name in ("now", "uncached"):
                    now_rps.setdefault((server.name, name), {})[size] = rps
                bad = sum(r["bad"] for r in rs)
                flag = f" ({bad} failed or timed out!)" if bad else ""
                cells.append(f" {rps:.1f}{flag} | {statistics.median(r['p50'] for r in rs):.0f}"
                             f"/{statistics.median(r['p99'] for r in rs):.0f} | "
                             f"{rps / bare:.3f} |")
            ms, n = times[name]
            say(f"| {name} |" + "".join(cells) + f" {ms:.1f} | {n:.0f} |")
        if os.environ.get("BENCH_WRITE") == "1":  # each size as soon as it is measured
            write_docs("\n".join(lines))
    if len(sizes) > 1 and sizes[0] in next(iter(now_rps.values()), {}):
        first = sizes[0]
        say(f"\n#### Requests per second of this code at each size against {first}\n")
        say("| page | server |" + "".join(f" {s} |" for s in sizes)
            + f" {first} / {sizes[-1]} |")
        say("|" + " --- |" * (len(sizes) + 3))
        for (server_name, name), by_size in now_rps.items():  # page by page
            ratio = by_size[first] / by_size[sizes[-1]] if by_size.get(sizes[-1]) else 0.0
            say(f"| {name} | {server_name} |" + "".join(f" {by_size.get(s, 0):.1f} |"
                                                      for s in sizes) + f" {ratio:.2f} |")
    say(f"\nLoad average after the run: {os.getloadavg()[0]:.2f}.")
    if os.environ.get("BENCH_WRITE") == "1":
        write_docs("\n".join(lines))


if __name__ == "__main__":
    main()
