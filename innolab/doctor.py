"""`flask --app wsgi innolab doctor`: is this configuration fit to run? One line per check,
OK, WARN or FAIL, in plain words; the exit code is 1 when any check fails.

    innolab-flask innolab doctor --nginx /etc/nginx/sites-available/innolab

It reuses what the app checks itself: the start-up refusals (config.startup_problems), the
readiness checks of /readyz (ops/routes.py: database, migrations, upload folder, Redis), the
mail connection of the outbox (mailer), clamd's PING, the providers' discovery (oidc) and
the mandatory fields of the legal pages (domain/legal.py). When the app refuses to start,
`python -m innolab doctor` runs the same checks without the refusal, so every problem is
listed at once (docs/deployment.md#check-the-configuration).

Requirements of production (PostgreSQL, secure cookies, https, a mail server …) fail only
with INNOLAB_ENV=production; elsewhere they are warnings.
"""
from __future__ import annotations

import contextlib
import os
import re
import runpy
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from .config import (
    HOST_SESSION_COOKIE, default_max_concurrent_requests, startup_problems, startup_warnings,
    weak_secret_key,
)
from .domain import identities, legal, mailer
from .domain.malware import Scanner
from .extensions import db
from .oidc.client import ProviderUnavailable, metadata
from .ops.routes import CHECKS as READINESS_CHECKS

OK, WARN, FAIL = "OK", "WARN", "FAIL"
ROOT = Path(__file__).resolve().parent.parent  # the checkout, with gunicorn.conf.py
MB = 1024 * 1024


@dataclass(frozen=True)
class Result:
    level: str
    name: str
    message: str

    def line(self) -> str:
        return f"{self.level:<4} {self.name}: {self.message}"


class _Checks:
    def __init__(self, app: Flask, nginx: str | None) -> None:
        self.app = app
        self.config = app.config
        self.nginx = nginx
        self.production = app.config.get("INNOLAB_ENV") == "production"
        self.refused = dict(startup_problems(app.config))
        self.results: list[Result] = []
        self._database_ok = False
        self._migrated = False
        self._redis_problem: str | None = None

    # what production requires: a failure there, a warning elsewhere
    @property
    def required(self) -> str:
        return FAIL if self.production else WARN

    def add(self, level: str, name: str, message: str) -> None:
        self.results.append(Result(level, name, message))

    def run(self) -> list[Result]:
        for check in (self.environment, self.secret_key, self.addresses, self.cookies,
                      self.database_kind, self.readiness, self.time_limits, self.exports,
                      self.gunicorn, self.rate_limits, self.mail, self.malware_scan,
                      self.providers, self.nginx_limits, self.legal_pages):
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - a check that breaks is a failed check
                db.session.rollback()
                self.add(FAIL, check.__name__.replace("_", " "),
                         f"the check itself failed: {type(exc).__name__}: {_first_line(exc)}")
        return self.results

    # ------------------------------------------------------------------ settings

    def environment(self) -> None:
        env = self.config.get("INNOLAB_ENV")
        if "INNOLAB_ENV" in self.refused:
            self.add(FAIL, "environment", self.refused["INNOLAB_ENV"])
        elif self.production:
            self.add(OK, "environment", "INNOLAB_ENV=production")
        else:
            self.add(WARN, "environment", f"INNOLAB_ENV={env}: not production, so what "
                     "production requires is only warned about below")
        if "SESSION_IDLE_MINUTES" in self.refused:
            self.add(FAIL, "sessions", self.refused["SESSION_IDLE_MINUTES"])

    def secret_key(self) -> None:
        if "SECRET_KEY" in self.refused:
            self.add(FAIL, "secret key", self.refused["SECRET_KEY"])
            return
        key = self.config.get("SECRET_KEY") or ""
        reason = weak_secret_key(key)
        if reason:
            self.add(WARN, "secret key", f"SECRET_KEY is weak ({reason}); good enough for "
                     "development only")
        elif not os.environ.get("SECRET_KEY"):
            self.add(self.required, "secret key", "SECRET_KEY is not set: a key generated "
                     "into instance/secret_key is used (development only)")
        else:
            self.add(OK, "secret key", f"SECRET_KEY is set, {len(key)} characters, not an "
                     "example key")

    def addresses(self) -> None:
        for variable in ("BASE_URL", "TRUSTED_HOSTS"):
            if variable in self.refused:
                self.add(FAIL, "address", self.refused[variable])
        if "BASE_URL" not in self.refused and "TRUSTED_HOSTS" not in self.refused:
            base = self.config.get("BASE_URL") or "(empty: the request's host)"
            hosts = ", ".join(self.config.get("TRUSTED_HOSTS") or []) or "(any)"
            level = OK if self.config.get("BASE_URL", "").startswith("https://") else WARN
            self.add(level, "address", f"BASE_URL {base}, TRUSTED_HOSTS {hosts}")
        scheme = self.config.get("PREFERRED_URL_SCHEME")
        if scheme == "https":
            self.add(OK, "url scheme", "links are built with https (PREFERRED_URL_SCHEME)")
        else:
            self.add(self.required, "url scheme", f"PREFERRED_URL_SCHEME is {scheme!r}: links "
                     "outside a request are built with http")
        if self.config.get("PROXY_FIX"):
            self.add(OK, "proxy", "PROXY_FIX=true: the app believes one proxy's X-Forwarded-*")
        else:
            self.add(WARN if self.production else OK, "proxy",
                     "PROXY_FIX is off: right without a proxy; behind nginx the app would take "
                     "every request for plain http from 127.0.0.1 (set PROXY_FIX=true there)")

    def cookies(self) -> None:
        problems = []
        if not self.config.get("SESSION_COOKIE_SECURE"):
            problems.append("SESSION_COOKIE_SECURE is off: the session cookie would also "
                            "travel over plain http, and no HSTS is sent")
        if not self.config.get("SESSION_COOKIE_HTTPONLY"):
            problems.append("SESSION_COOKIE_HTTPONLY is off: scripts could read the session")
        if self.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
            problems.append(f"SESSION_COOKIE_SAMESITE is "
                            f"{self.config.get('SESSION_COOKIE_SAMESITE')!r}, not Lax")
        if problems:
            for problem in problems:
                self.add(self.required, "session cookie", problem)
            return
        name = self.config.get("SESSION_COOKIE_NAME")
        self.add(OK, "session cookie", f"{name}: Secure, HttpOnly, SameSite="
                 f"{self.config.get('SESSION_COOKIE_SAMESITE')}"
                 + (", host-only (__Host-)" if name == HOST_SESSION_COOKIE else ""))

    # ------------------------------------------------------------------ database and files

    def database_kind(self) -> None:
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            self.add(OK, "database kind", "PostgreSQL")
        else:
            self.add(self.required, "database kind", f"{dialect}, not PostgreSQL: SQLite is for "
                     "development (one writer at a time, no time limits); set DATABASE_URL="
                     "postgresql://…")

    def readiness(self) -> None:
        """The checks of /readyz, one line each (Redis is said under rate_limits)."""
        for name, check in READINESS_CHECKS:
            try:
                problem = check()
            except Exception as exc:  # noqa: BLE001 - the answer, as /readyz gives it
                db.session.rollback()
                problem = f"{type(exc).__name__}: {_first_line(exc)}"
            if name == "database":
                self._database_ok = problem is None
            if name == "migrations":
                self._migrated = self._database_ok and problem is None
            if name == "redis":
                self._redis_problem = problem
            elif name != "migrations" or self._database_ok:  # unreachable: said once
                self.add(FAIL if problem else OK, f"readiness {name}",
                         problem or self._readiness_ok(name))

    def _readiness_ok(self, name: str) -> str:
        if name == "database":
            if db.engine.dialect.name == "postgresql":
                version = db.session.execute(text("SHOW server_version")).scalar_one()
                return f"reachable (PostgreSQL {version})"
            return "reachable"
        if name == "migrations":
            return "the database is at the migrations of the code"
        if name == "storage":
            return f"the upload folder {self.config['UPLOAD_FOLDER']} can be written"
        return "ok"

    def time_limits(self) -> None:
        if db.engine.dialect.name != "postgresql":
            self.add(WARN, "time limits", "SQLite has no statement time limit "
                     "(DB_STATEMENT_TIMEOUT_MS applies to PostgreSQL)")
            return
        if not self._database_ok:
            return
        shown = {name: db.session.execute(text(f"SHOW {name}")).scalar_one()
                 for name in ("statement_timeout", "lock_timeout",
                              "idle_in_transaction_session_timeout")}
        summary = ", ".join(f"{k} {v}" for k, v in shown.items())
        if shown["statement_timeout"] == "0":
            self.add(WARN, "time limits", f"no statement time limit ({summary}): a slow query "
                     "keeps a worker thread as long as it runs; set DB_STATEMENT_TIMEOUT_MS")
        else:
            self.add(OK, "time limits", summary)

    def exports(self) -> None:
        folder = Path(self.config["DATA_EXPORT_FOLDER"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
                pass
        except OSError as exc:
            self.add(FAIL, "export folder", f"DATA_EXPORT_FOLDER {folder} cannot be written "
                     f"({exc.strerror or exc})")
            return
        self.add(OK, "export folder", f"DATA_EXPORT_FOLDER {folder} can be written")

    # ------------------------------------------------------------------ processes

    def gunicorn(self) -> None:
        settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        workers, threads = int(settings["workers"]), int(settings["threads"])
        if os.environ.get("MAX_CONCURRENT_REQUESTS"):
            bound = int(self.config.get("MAX_CONCURRENT_REQUESTS") or 0)
        else:  # what the app will derive from gunicorn's threads
            saved = os.environ.get("GUNICORN_THREADS")
            os.environ["GUNICORN_THREADS"] = str(threads)
            try:
                bound = default_max_concurrent_requests()
            finally:
                if saved is None:
                    os.environ.pop("GUNICORN_THREADS")
                else:
                    os.environ["GUNICORN_THREADS"] = saved
        shedding = (f"at most {bound} requests in progress per worker, the rest refused at "
                    "once (MAX_CONCURRENT_REQUESTS)" if bound else
                    "no bound on requests in progress (MAX_CONCURRENT_REQUESTS=0)")
        level = OK if bound and bound < threads else WARN
        message = f"{workers} workers × {threads} threads (gunicorn.conf.py); {shedding}"
        if bound >= threads:
            message += f"; with {threads} threads nothing is ever refused, keep the bound lower"
        if db.engine.dialect.name == "postgresql" and self._database_ok:
            available = int(db.session.execute(text("SHOW max_connections")).scalar_one())
            needed = workers * threads
            message += f"; up to {needed} database connections of max_connections {available}"
            if needed > available * 0.8:
                level = WARN
                message += " (too close: lower WEB_CONCURRENCY or GUNICORN_THREADS)"
        self.add(level, "gunicorn", message)

    def rate_limits(self) -> None:
        if "RATELIMIT_STORAGE_URI" in self.refused:
            self.add(FAIL, "rate limits", self.refused["RATELIMIT_STORAGE_URI"])
            return
        if not self.config.get("RATELIMIT_ENABLED"):
            self.add(self.required, "rate limits", "RATELIMIT_ENABLED is off: sign-in and the "
                     "other forms are not limited")
            return
        uri = self.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        if uri.startswith(("redis://", "rediss://")):
            problem = self._redis_problem
            if problem:
                self.add(FAIL, "rate limits", f"Redis of RATELIMIT_STORAGE_URI does not answer "
                         f"({problem}); until it does, each process counts on its own")
            else:
                self.add(OK, "rate limits", "counters in Redis, which answers")
            return
        self.add(WARN if self.production else OK, "rate limits",
                 f"counters in {uri.split(':')[0]}:// of each process; with more than one "
                 "process use Redis (RATELIMIT_STORAGE_URI=redis://…)")

    # ------------------------------------------------------------------ other servers

    def mail(self) -> None:
        host = self.config.get("SMTP_HOST")
        if not host:
            self.add(self.required, "mail", "SMTP_HOST is not set: mails (address "
                     "confirmation, password reset) go to the log only")
            return
        where = f"{host}:{self.config.get('SMTP_PORT')}"
        try:
            server = mailer._smtp()  # as the outbox connects: TLS and login as configured
        except Exception as exc:  # noqa: BLE001 - the reason is the answer
            self.add(FAIL, "mail", f"the mail server {where} cannot be used: "
                     f"{type(exc).__name__}: {_first_line(exc)}")
            return
        with contextlib.suppress(Exception):  # it answered; a rough goodbye does not matter
            server.quit()
        how = ("TLS" if self.config.get("SMTP_SSL") else
               "STARTTLS" if self.config.get("SMTP_STARTTLS") else "no TLS")
        login = (f", signed in as {self.config['SMTP_USER']}" if self.config.get("SMTP_USER")
                 else "")
        unencrypted = how == "no TLS" and host not in ("localhost", "127.0.0.1", "::1")
        self.add(WARN if unencrypted and self.production else OK, "mail",
                 f"the mail server {where} answers ({how}{login})"
                 + ("; mails and the password travel unencrypted: set SMTP_STARTTLS=true"
                    if unencrypted else ""))
        sender = self.config.get("MAIL_FROM") or ""
        if self.production and "@localhost" in sender:
            self.add(WARN, "mail", f"MAIL_FROM is {sender!r}, the development default")

    def malware_scan(self) -> None:
        for variable, warning in startup_warnings(self.config):
            if variable == "CLAMD_SOCKET":
                self.add(WARN, "malware scan", warning)
                return
        scanner = Scanner(socket_path=self.config.get("CLAMD_SOCKET") or "",
                          host=self.config.get("CLAMD_HOST") or "",
                          port=int(self.config.get("CLAMD_PORT") or 3310),
                          timeout=5.0, attempts=1, retry_delay=0)
        if not scanner.configured:
            self.add(OK, "malware scan", "no clamd configured (development)")
            return
        try:
            answered = scanner.ping()
        except Exception as exc:  # noqa: BLE001
            answered, reason = False, f"{type(exc).__name__}: {_first_line(exc)}"
        else:
            reason = "no PONG"
        if answered:
            self.add(OK, "malware scan", f"clamd at {scanner.address} answers")
        else:
            self.add(FAIL, "malware scan", f"clamd at {scanner.address} does not answer "
                     f"({reason}): every upload would be refused")

    def providers(self) -> None:
        configured = identities.providers()
        if not configured:
            self.add(OK, "sign-in providers", "none configured (local accounts only)")
            return
        for provider in configured:
            if provider.kind != "oidc":
                self.add(OK, f"provider {provider.key}", f"{provider.kind}: no discovery")
                continue
            try:
                found = metadata(provider)
            except ProviderUnavailable as exc:
                self.add(FAIL, f"provider {provider.key}", f"{provider.discovery_url}: {exc}")
                continue
            self.add(OK, f"provider {provider.key}",
                     f"discovery answers, issuer {found.get('issuer')}")

    # ------------------------------------------------------------------ nginx

    def nginx_limits(self) -> None:
        if not self.nginx:
            return
        path = Path(self.nginx)
        try:
            site = parse_nginx(path.read_text())
        except OSError as exc:
            self.add(FAIL, "nginx", f"{path} cannot be read ({exc.strerror or exc})")
            return
        servers = [s for s in site.blocks("server") if s.find_all("proxy_pass")]
        if not servers:
            self.add(FAIL, "nginx", f"{path} has no server that passes requests on "
                     "(proxy_pass)")
            return
        server = servers[0]
        general = server.size("client_max_body_size")
        if general is None:
            general = MB  # nginx's default
        app_limit = int(self.config["MAX_CONTENT_LENGTH"])
        self._compare_size("nginx upload limit", general, app_limit,
                           "UPLOAD_MAX_MB + 1 MB", "client_max_body_size")
        video = next((b for b in server.blocks("location")
                      if "/admin/sign-language" in b.args), None)
        video_limit = int(self.config["SIGN_LANGUAGE_VIDEO_MAX_BYTES"]) + MB
        if video is None:
            self.add(FAIL, "nginx video limit", "no `location = /admin/sign-language` with its "
                     f"own client_max_body_size {_size(video_limit)}: the video in sign "
                     f"language is refused by nginx above {_size(general)}")
        else:
            own = video.size("client_max_body_size")
            self._compare_size("nginx video limit", general if own is None else own,
                               video_limit, "SIGN_LANGUAGE_VIDEO_MAX_MB + 1 MB",
                               "client_max_body_size in location = /admin/sign-language")
        static = next((b for b in server.blocks("location") if b.args == ["/static/"]), None)
        alias = static.value("alias") if static else None
        if alias is None:
            self.add(WARN, "nginx static files", "no `location /static/` with an alias: "
                     "every CSS and script file is served by gunicorn")
        elif Path(alias).resolve() != Path(self.app.static_folder or "").resolve():
            self.add(WARN, "nginx static files", f"/static/ comes from {alias}, not from the "
                     f"app's {self.app.static_folder} (a copy that may be out of date)")
        else:
            self.add(OK, "nginx static files", f"/static/ from {alias}")

    def _compare_size(self, name, nginx_bytes, app_bytes, app_setting, directive) -> None:
        nginx_bytes = MB if nginx_bytes is None else nginx_bytes  # nginx's default: 1m
        if nginx_bytes == app_bytes:
            self.add(OK, name, f"{directive} {_size(nginx_bytes)} = {app_setting}")
        elif nginx_bytes == 0 or nginx_bytes > app_bytes:
            given = _size(nginx_bytes) if nginx_bytes else "0 (no limit)"
            self.add(WARN, name, f"{directive} {given} lets larger requests through than the "
                     f"app takes ({app_setting} = {_size(app_bytes)}); make them equal")
        else:
            self.add(FAIL, name, f"{directive} {_size(nginx_bytes)} is smaller than "
                     f"{app_setting} = {_size(app_bytes)}: nginx refuses uploads the app "
                     f"allows; set {_size(app_bytes)}")

    # ------------------------------------------------------------------ content

    def legal_pages(self) -> None:
        if not self._migrated:
            self.add(WARN, "legal pages", "not checked: the database is not reachable or not "
                     "migrated")
            return
        current = legal.values()
        for slug in legal.GROUPS:
            empty = legal.missing(slug, current)
            if empty:
                names = ", ".join(f.name for f in empty)
                self.add(WARN, f"legal page {slug}", f"mandatory fields empty: {names} (fill "
                         "them under Verwaltung → Seiten → Pflichtangaben)")
            else:
                self.add(OK, f"legal page {slug}", "every mandatory field is filled")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def run_checks(app: Flask, nginx: str | None = None) -> list[Result]:
    """Every check, in an app context of `app`."""
    return _Checks(app, nginx).run()


def report(results: list[Result], echo=click.echo) -> int:
    """Print one line per check and a summary; the exit code (1 when anything failed)."""
    for result in results:
        echo(result.line())
    counts = {level: sum(r.level == level for r in results) for level in (OK, WARN, FAIL)}
    echo(f"{counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL")
    return 1 if counts[FAIL] else 0


@click.command("doctor")
@with_appcontext
@click.option("--nginx", "nginx", default=None, metavar="PATH",
              help="The nginx site (e.g. /etc/nginx/sites-available/innolab) to compare the "
                   "upload limits and the static folder with.")
def doctor(nginx: str | None) -> None:
    """Check this configuration: one line per check (OK, WARN, FAIL); exit code 1 on FAIL."""
    raise SystemExit(report(run_checks(current_app, nginx)))


# ---------------------------------------------------------------- a small nginx reader

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{};]|[^\s{};"\']+')
_SIZE = re.compile(r"^(\d+)([kKmMgG]?)$")


@dataclass
class Block:
    """A block of an nginx configuration: its directives (name, args) and inner blocks."""
    name: str
    args: list[str]
    directives: list[tuple[str, list[str]]]
    children: list[Block]

    def blocks(self, name: str) -> Iterator[Block]:
        for child in self.children:
            if child.name == name:
                yield child
            yield from child.blocks(name)

    def find_all(self, name: str) -> list[list[str]]:
        found = [args for n, args in self.directives if n == name]
        for child in self.children:
            found.extend(child.find_all(name))
        return found

    def value(self, name: str) -> str | None:
        """The directive's first argument in this block itself (not in inner blocks)."""
        for n, args in self.directives:
            if n == name and args:
                return args[0]
        return None

    def size(self, name: str) -> int | None:
        raw = self.value(name)
        return None if raw is None else _bytes(raw)


def _bytes(raw: str) -> int:
    match = _SIZE.match(raw)
    if not match:
        raise ValueError(f"not a size: {raw!r}")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}[unit]


def _size(value: int) -> str:
    if value and value % MB == 0:
        return f"{value // MB}m"
    if value and value % 1024 == 0:
        return f"{value // 1024}k"
    return str(value)


def parse_nginx(source: str) -> Block:
    """The configuration as a tree of blocks (comments dropped, strings unquoted)."""
    lines = [re.sub(r"(^|\s)#.*$", "", line) for line in source.splitlines()]
    root = Block("", [], [], [])
    stack: list[Block] = [root]
    words: list[str] = []
    for token in _TOKEN.findall("\n".join(lines)):
        if token == "{":
            block = Block(words[0] if words else "", [_unquote(w) for w in words[1:]], [], [])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            if len(stack) > 1:
                stack.pop()
            words = []
        elif token == ";":
            if words:
                stack[-1].directives.append((words[0], [_unquote(w) for w in words[1:]]))
            words = []
        else:
            words.append(token)
    return root


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word
