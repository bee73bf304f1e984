"""`flask innolab doctor`: a good production configuration (every server it names answering)
passes; a bad one fails with one plain line per problem and exit code 1, also when the app
would refuse to start (`python -m innolab doctor`)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from flask import Flask, jsonify
from flask_migrate import upgrade

from innolab import ROOT, create_app
from innolab.config import _database_url
from innolab.domain import legal
from innolab.doctor import parse_nginx
from innolab.extensions import db, limiter
from innolab.models import PlatformSetting
from tests.client import serving
from tests.smtp import SMTPServer, free_port

BAD_KEY = "changeme-Q8v3mZrT1xL0pWc9sKe2NhYb7uGdAf4"
STRONG_KEY = "q8V-3mZ_rT1xL0pWc9sKe2NhYb7uGdAf4JoIvE6yRtM"
HOST = "innolab.zdmv.example"
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))
SITE = ROOT / "deploy" / "nginx" / "innolab.conf"
PRODUCTION_ENV = ("INNOLAB_ENV", "SECRET_KEY", "BASE_URL", "TRUSTED_HOSTS", "WEB_CONCURRENCY",
                  "GUNICORN_WORKERS", "GUNICORN_THREADS", "MAX_CONCURRENT_REQUESTS",
                  "RATELIMIT_STORAGE_URI", "SESSION_COOKIE_SECURE", "PROXY_FIX",
                  "MAIL_SEND_AFTER_REQUEST", "CLAMD_SOCKET", "CLAMD_HOST", "OIDC_PROVIDERS",
                  "DB_STATEMENT_TIMEOUT_MS")


def _lines(output: str) -> dict[str, list[tuple[str, str]]]:
    """name -> [(level, message)] from the doctor's output."""
    found: dict[str, list[tuple[str, str]]] = {}
    for line in output.splitlines():
        level, _, rest = line.partition(" ")
        if level in ("OK", "WARN", "FAIL"):
            name, _, message = rest.strip().partition(": ")
            found.setdefault(name, []).append((level, message))
    return found


@pytest.fixture
def redis_server(tmp_path):
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture
def discovery():
    """An OpenID provider's discovery document on this machine (nothing more is asked)."""
    provider = Flask("provider")
    document: dict = {}

    @provider.get("/.well-known/openid-configuration")
    def _configuration():
        return jsonify(document)

    with serving(provider, threaded=True) as url:
        document.update(issuer=url, authorization_endpoint=f"{url}/auth",
                        token_endpoint=f"{url}/token", jwks_uri=f"{url}/jwks",
                        id_token_signing_alg_values_supported=["RS256"])
        yield url


@pytest.fixture
def clamd_socket(tmp_path):
    """Answers clamd's PING as clamd does (the doctor asks nothing else)."""
    path = str(tmp_path / "clamd.ctl")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(4)

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                if conn.recv(64).startswith(b"zPING"):
                    conn.sendall(b"PONG\0")

    threading.Thread(target=answer, daemon=True).start()
    yield path
    server.close()


@pytest.fixture
def production(app, monkeypatch, empty_database, tmp_path, redis_server, discovery,
               clamd_socket):
    """make(**config) – an app with a good production configuration on a migrated database
    of its own, every server it names answering."""
    for name in PRODUCTION_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INNOLAB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("BASE_URL", f"https://{HOST}")
    monkeypatch.setenv("TRUSTED_HOSTS", HOST)
    monkeypatch.setenv("PROXY_FIX", "true")
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    mail = SMTPServer()
    mail.start()
    made = []

    def make(**config):
        started = create_app({
            "SQLALCHEMY_DATABASE_URI": _database_url(empty_database),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "DATA_EXPORT_FOLDER": str(tmp_path / "exports"),
            "RATELIMIT_STORAGE_URI": redis_server,
            "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": mail.port,
            "MAIL_FROM": "InnoLab des ZDMV <innolab@zdmv.example>",
            "CLAMD_SOCKET": clamd_socket,
            "OIDC_PROVIDERS": json.dumps([{
                "key": "zdmv", "kind": "oidc", "issuer": discovery,
                "client_id": "innolab", "client_secret": "s3cr3t-of-the-provider"}]),
            **config,
        })
        made.append(started)
        return started

    try:
        yield make
    finally:
        mail.stop()
        limiter._key_prefix = ""
        limiter._storage_dead = False
        limiter.enabled = app.config["RATELIMIT_ENABLED"]  # the limiter object is shared
        for started in made:
            with started.app_context():
                db.engine.dispose()


def _migrate_and_fill_the_legal_pages(started):
    with started.app_context():
        upgrade()
        for field in legal.FIELDS:
            if field.required and not field.default:
                value = "2026-11-30" if field.kind == "date" else f"Angabe zu {field.name}"
                db.session.add(PlatformSetting(key=legal.PREFIX + field.name, value=value))
        db.session.commit()


def _nginx_site(tmp_path, **replace) -> Path:
    text = SITE.read_text().replace("/opt/innolab/static/", f"{ROOT / 'static'}/")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "innolab.conf"
    path.write_text(text)
    return path


def test_a_good_production_configuration_passes(production, tmp_path):
    started = production()
    _migrate_and_fill_the_legal_pages(started)
    site = _nginx_site(tmp_path)
    result = started.test_cli_runner().invoke(args=["innolab", "doctor", "--nginx", str(site)])
    lines = _lines(result.output)
    not_ok = {name: found for name, found in lines.items()
              if any(level != "OK" for level, _ in found)}
    if ON_POSTGRES:
        assert result.exit_code == 0, result.output
        assert not not_ok, result.output
        assert "statement_timeout 15s, lock_timeout 5s" in lines["time limits"][0][1]
        assert "database connections of max_connections" in lines["gunicorn"][0][1]
    else:
        # SQLite is what production must not run on: the one failure, said plainly
        assert result.exit_code == 1
        assert set(not_ok) == {"database kind", "time limits"}, result.output
        assert lines["database kind"][0][0] == "FAIL"
        assert "not PostgreSQL" in lines["database kind"][0][1]
    assert lines["environment"] == [("OK", "INNOLAB_ENV=production")]
    assert lines["secret key"][0][0] == "OK" and STRONG_KEY not in result.output
    assert "__Host-innolab_session" in lines["session cookie"][0][1]
    assert lines["readiness migrations"][0][0] == "OK"
    assert lines["rate limits"] == [("OK", "counters in Redis, which answers")]
    assert "answers" in lines["mail"][0][1]
    assert "clamd at" in lines["malware scan"][0][1]
    assert "discovery answers" in lines["provider zdmv"][0][1]
    assert lines["nginx upload limit"][0] == (
        "OK", "client_max_body_size 11m = UPLOAD_MAX_MB + 1 MB")
    assert lines["nginx video limit"][0][0] == "OK"
    assert lines["nginx static files"][0][0] == "OK"
    for slug in legal.GROUPS:
        assert lines[f"legal page {slug}"] == [("OK", "every mandatory field is filled")]
    assert result.output.strip().splitlines()[-1].endswith(
        "0 FAIL" if ON_POSTGRES else "1 FAIL")


def test_a_bad_configuration_fails_with_a_line_per_problem(empty_database, tmp_path):
    """Run as an operator would, in a shell with the settings file, on a configuration the
    app refuses to start with: `python -m innolab doctor` lists every problem."""
    site = _nginx_site(tmp_path, **{
        "client_max_body_size 11m;": "client_max_body_size 5m;",
        "location = /admin/sign-language {": "location = /admin/gebaerdensprache {"})
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
        "INNOLAB_ENV": "production",
        "SECRET_KEY": BAD_KEY,                               # an example key
        "BASE_URL": f"http://{HOST}",                       # not https
        "WEB_CONCURRENCY": "4",                              # memory:// counters with 4 workers
        "DATABASE_URL": empty_database,                      # never migrated
        "DB_STATEMENT_TIMEOUT_MS": "0",
        "UPLOAD_FOLDER": "/proc/sys/kernel",                 # cannot be written
        "DATA_EXPORT_FOLDER": str(tmp_path / "exports"),
        "SESSION_COOKIE_SECURE": "false",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()),   # nobody answers
        "CLAMD_SOCKET": str(tmp_path / "no-clamd.ctl"),
        "OIDC_PROVIDERS": json.dumps([{
            "key": "zdmv", "kind": "oidc", "issuer": f"http://127.0.0.1:{free_port()}",
            "client_id": "innolab", "client_secret": "x"}]),
    }
    done = subprocess.run([sys.executable, "-m", "innolab", "doctor", "--nginx", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = _lines(done.stdout)

    def failed(name: str, words: str) -> None:
        found = lines.get(name, [])
        assert any(level == "FAIL" and words in message for level, message in found), (
            f"{name}: {found}\n{done.stdout}")

    failed("secret key", "SECRET_KEY is not safe for production (contains 'changeme'")
    failed("address", "BASE_URL must be an https:// address in production")
    failed("address", "TRUSTED_HOSTS must be set in production")
    failed("rate limits", "RATELIMIT_STORAGE_URI is memory:// but WEB_CONCURRENCY")
    failed("session cookie", "SESSION_COOKIE_SECURE is off")
    failed("readiness migrations", "run `flask db upgrade`")
    failed("readiness storage", "")
    failed("mail", "cannot be used: ConnectionRefusedError")
    failed("malware scan", "does not answer")
    failed("provider zdmv", "discovery failed")
    failed("nginx upload limit", "client_max_body_size 5m is smaller than UPLOAD_MAX_MB + 1 MB "
                                 "= 11m")
    failed("nginx video limit", "no `location = /admin/sign-language`")
    if ON_POSTGRES:
        assert lines["time limits"][0][0] == "WARN"
        assert "no statement time limit" in lines["time limits"][0][1]
    else:
        failed("database kind", "not PostgreSQL")
    assert lines["legal pages"][0][0] == "WARN"  # not checked without the tables
    assert BAD_KEY not in done.stdout  # the key itself is never printed


def test_settings_that_cannot_be_read_are_one_failure(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "INNOLAB_ENV": "production", "UPLOAD_MAX_MB": "10MB"}
    done = subprocess.run([sys.executable, "-m", "innolab", "doctor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("FAIL settings: ")
    assert "must be" in done.stdout


def test_the_flask_command_fails_on_the_suites_database(app):
    # the suite's database is made with create_all, never migrated
    result = app.test_cli_runner().invoke(args=["innolab", "doctor"])
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["readiness migrations"][0][0] == "FAIL"
    assert lines["environment"][0][0] == "WARN"  # testing: advice only


def test_the_nginx_reader_finds_the_limits_of_the_shipped_site():
    site = parse_nginx(SITE.read_text())
    server = next(s for s in site.blocks("server") if s.find_all("proxy_pass"))
    assert server.size("client_max_body_size") == 11 * 1024 * 1024
    video = next(b for b in server.blocks("location") if "/admin/sign-language" in b.args)
    assert video.args == ["=", "/admin/sign-language"]
    assert video.size("client_max_body_size") == 201 * 1024 * 1024
    static = next(b for b in server.blocks("location") if b.args == ["/static/"])
    assert static.value("alias") == "/opt/innolab/static/"
