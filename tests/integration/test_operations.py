"""Liveness, readiness, metrics, request ids and JSON logs: what operations relies on."""
from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import time

import pytest
from flask_migrate import upgrade

from innolab import create_app
from innolab.config import _database_url
from innolab.extensions import db
from innolab.web.observability import JsonFormatter, RequestContextFilter
from tests import factories as f
from tests.s3 import S3Server, bucket_name, use_s3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ready_app(empty_database, tmp_path):
    """An app on a migrated database of its own, as a deployment has it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database),
                      "TESTING": True, "RATELIMIT_ENABLED": False,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_answers_without_asking_anything_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_probes_are_never_rate_limited(limited_client):
    for _ in range(40):
        assert limited_client.get("/healthz").status_code == 200
    assert limited_client.get("/readyz").status_code != 429


def test_readyz_is_ok_when_everything_is(ready_app):
    response = ready_app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"] == {
        "database": "ok", "migrations": "ok", "storage": "ok", "redis": "ok"}


def test_readyz_names_a_database_without_migrations(client):
    # the suite's own database is made with create_all, never migrated
    body = client.get("/readyz").get_json()
    assert body["status"] == "failing" and "flask db upgrade" in body["checks"]["migrations"]


def test_readyz_names_an_unreachable_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI":
                      f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nix",
                      "TESTING": True, "RATELIMIT_ENABLED": False,
                      "UPLOAD_FOLDER": str(tmp_path)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] != "ok" and checks["migrations"] == "database unreachable"
    assert checks["storage"] == "ok"


def test_readyz_names_storage_that_cannot_be_written(ready_app, tmp_path):
    not_a_folder = tmp_path / "datei"
    not_a_folder.write_text("kein Ordner")
    ready_app.config["UPLOAD_FOLDER"] = str(not_a_folder)
    response = ready_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] != "ok"
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_checks_the_bucket_when_files_are_in_s3(ready_app, monkeypatch):
    server = S3Server().start()
    try:
        bucket = server.create_bucket(bucket_name("ready"))
        prefix = use_s3(ready_app, monkeypatch, server, bucket)
        c = ready_app.test_client()
        response = c.get("/readyz")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["checks"]["storage"] == "ok"
        # the probe's object was written and deleted again
        listed = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        assert listed.get("KeyCount", 0) == 0
        # a bucket that is not there (a wrong S3_BUCKET, or deleted)
        monkeypatch.setitem(ready_app.config, "S3_BUCKET", bucket_name("missing"))
        response = c.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "failing" and "no such bucket" in body["checks"]["storage"]
        assert body["checks"]["database"] == "ok"
        monkeypatch.setitem(ready_app.config, "S3_BUCKET", bucket)
        assert c.get("/readyz").status_code == 200
    finally:
        server.stop()
    # the storage stopped answering
    started = time.monotonic()
    response = c.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"].startswith("StorageUnavailable")
    assert response.get_json()["checks"]["database"] == "ok"
    assert time.monotonic() - started < 10  # the probe does not hang


def test_readyz_follows_redis_going_away(ready_app, tmp_path):
    port = _free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL)
    try:
        ready_app.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{port}/0"
        c = ready_app.test_client()
        for _ in range(50):
            if c.get("/readyz").status_code == 200:
                break
            time.sleep(0.1)
        assert c.get("/readyz").get_json()["checks"]["redis"] == "ok"
    finally:
        server.terminate()
        server.wait(10)
    response = c.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["redis"] != "ok"


def test_metrics_count_requests_by_endpoint_and_show_the_platform(client, app_ctx):
    f.proposal(status="submitted")
    for _ in range(3):
        client.get("/challenges")
    body = client.get("/metrics").get_data(as_text=True)
    counts = [line for line in body.splitlines()
              if line.startswith("innolab_http_requests_total{")
              and 'endpoint="showcase.challenges"' in line and 'status="200"' in line]
    assert counts and float(counts[0].rsplit(" ", 1)[1]) >= 3
    assert 'innolab_proposals{status="submitted"} 1.0' in body
    assert "innolab_outbox_pending " in body
    assert "innolab_worker_last_run_timestamp_seconds " in body
    assert "innolab_http_request_duration_seconds_bucket" in body


def test_metrics_need_the_token_or_this_machine(client, app):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    app.config["METRICS_TOKEN"] = "t0ken-for-prometheus-scrapes"
    try:
        assert client.get("/metrics").status_code == 404  # loopback is not enough now
        ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                        headers={"Authorization": "Bearer t0ken-for-prometheus-scrapes"})
        assert ok.status_code == 200
    finally:
        app.config["METRICS_TOKEN"] = ""


def test_every_answer_has_a_request_id_and_error_pages_show_it(client):
    first = client.get("/").headers["X-Request-ID"]
    assert len(first) >= 8 and client.get("/").headers["X-Request-ID"] != first
    assert client.get("/", headers={"X-Request-ID": "proxy-abc-123"}).headers[
        "X-Request-ID"] == "proxy-abc-123"
    forged = client.get("/", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert "<" not in forged.headers["X-Request-ID"]
    missing = client.get("/gibt-es-nicht")
    rid = missing.headers["X-Request-ID"]
    assert missing.status_code == 404 and rid in missing.get_data(as_text=True)


def test_json_log_lines_parse_and_hold_no_password_or_token(client, app_ctx):
    user = f.user(email="json@example.org")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("innolab")
    level = logger.level
    logger.setLevel(logging.INFO)  # as configure_logging sets it when the app runs
    logger.addHandler(handler)
    try:
        client.post("/login?token=geheimes-token-4711",
                    data={"email": "json@example.org", "password": "Falsches-Passwort-0815"})
        client.post("/login", data={"email": "json@example.org", "password": f.PASSWORD})
        client.get("/account", headers={"X-Request-ID": "anfrage-0001"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "innolab.access"]
    assert len(access) == 3
    assert access[0]["path"] == "/login" and access[0]["method"] == "POST"
    assert {"status", "duration_ms", "endpoint", "request_id", "time", "level"} <= set(access[0])
    last = access[-1]
    assert last["request_id"] == "anfrage-0001" and last["endpoint"] == "auth.settings"
    text = stream.getvalue()
    assert "Falsches-Passwort-0815" not in text and "geheimes-token-4711" not in text
    assert last["status"] == 200 and last["user_id"] == user.id  # signed in by the second post
