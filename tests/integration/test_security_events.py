"""Attacks show in the audit log as `security.` events (failed sign-ins, also for unknown
addresses, 403, CSRF failures, 429) with a filter in the admin's audit view; control characters
from a request never reach a log line as they are."""
from __future__ import annotations

import io
import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent
from tests import factories
from tests.client import IsolatedClient
from tests.integration.auth_support import sign_in
from innolab import create_app
from innolab.extensions import limiter
from innolab.domain import audit


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_failed_sign_in_for_an_unknown_address_is_recorded_without_the_password(client,
                                                                                app_ctx):
    sign_in(client, "Niemand@Example.org", "mein-geheimes-Passwort-7")
    (event,) = _events("security.login_failed")
    assert event.details == {"email": "niemand@example.org", "unknown": True}
    assert event.ip == "127.0.0.1" and event.actor_id is None
    assert "mein-geheimes-Passwort-7" not in str(event.details)


def test_work_after_a_request_is_not_recorded_under_its_client_address(app, app_ctx):
    # Flask's own client runs the request in this thread's context, as a server thread does
    # that goes on to other work (a job, the next request's start)
    FlaskClient(app, app.response_class).get("/", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    audit.record(None, "user.login", None, method="job")
    db.session.commit()
    (event,) = _events("user.login")
    assert event.ip is None


def test_failed_sign_in_for_a_known_account_names_the_account(client, app_ctx):
    user = factories.user(email="erika@example.org")
    sign_in(client, "erika@example.org", "mein-geheimes-Passwort-7")
    (event,) = _events("security.login_failed")
    assert event.object_type == "users" and event.object_id == user.id
    assert "mein-geheimes-Passwort-7" not in str(event.details)


def test_forbidden_staff_area_is_recorded(client, login, app_ctx):
    partner = factories.user(email="partner@example.org")
    login(partner)
    assert client.get("/staff/review/").status_code == 403
    (event,) = _events("security.forbidden")
    assert event.actor_id == partner.id
    assert event.details == {"method": "GET", "path": "/staff/review/"}


def test_csrf_failure_is_recorded(client, app_ctx, csrf_on):
    factories.user(email="erika@example.org")
    refused = sign_in(client, "erika@example.org", factories.PASSWORD)
    assert refused.status_code == 400
    (event,) = _events("security.csrf_failed")
    assert event.details["path"] == "/login" and event.details["method"] == "POST"
    assert "CSRF" in event.details["reason"]


def test_rate_limited_request_is_recorded(app, app_ctx):
    limited = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://", "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
    })
    try:
        client = IsolatedClient(limited, limited.response_class)
        codes = [client.post("/register", data={}).status_code for _ in range(6)]
        assert codes[-1] == 429
    finally:
        limiter.reset()
        limiter.enabled = app.config["RATELIMIT_ENABLED"]
        with limited.app_context():
            db.engine.dispose()
    (event,) = _events("security.rate_limited")
    assert event.details["path"] == "/register" and "5 per 1 minute" in event.details["limit"]


def test_admin_filters_the_audit_log_for_security_events(client, login, app_ctx):
    admin = factories.staff("admin", email="admin@zdmv.example")
    audit.record(admin, "challenge.publish", None, title="Neu")
    db.session.commit()
    login(admin)
    assert "Sicherheitsereignisse" in client.get("/admin/audit").get_data(as_text=True)
    assert "security." not in client.get("/admin/audit?prefix=security").get_data(as_text=True)
    sign_in(client.application.test_client(), "niemand@example.org", "irgendein-Passwort-1")
    html = client.get("/admin/audit?prefix=security").get_data(as_text=True)
    assert "security.login_failed" in html and "niemand@example.org" in html
    assert "challenge.publish" not in html


def test_crafted_path_cannot_forge_a_log_line(client, app, app_ctx, csrf_on):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("innolab")
    logger.addHandler(handler)
    try:
        response = client.post("/confirm/abc%0d%0aINFO%20innolab.auth:%20admin%20signed%20in")
        assert response.status_code == 400  # CSRF refused, logged with the path
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines and not any(line.startswith("INFO innolab.auth") for line in lines), lines
    (line,) = [line for line in lines if "security.csrf_failed" in line]
    assert "/confirm/abc\\r\\nINFO innolab.auth: admin signed in" in line
    (event,) = _events("security.csrf_failed")
    assert "\r" not in event.details["path"] and "\n" not in event.details["path"]


def test_log_records_escape_every_control_character(caplog):
    with caplog.at_level(logging.INFO, logger="innolab.test"):
        logging.getLogger("innolab.test").info("Pfad %s %r", "/a\rb\nc\x1b[31m\u2028d", 5)
    (record,) = caplog.records
    assert record.getMessage() == "Pfad /a\\rb\\nc\\x1b[31m\\u2028d 5"
